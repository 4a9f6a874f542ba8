"""Issue 3: the plain big-M MILP against the package's certifier, timed side by side in one run.

The plain formulation is MEASURED.md's: every block (activation set, sign) of the dictionary, one
binary per block, one big M = 10 max|y| + 10 on every coordinate of its u, HiGHS with its default
options except output off and a time limit. "Ours" is :func:`sparsest.exact.certify.certify` with its
default method (time limit 300 s). Timings are wall-clock seconds on a shared machine: they vary
from run to run, and the script never fails on one.

    python -m benchmarks.bench_certify                      # all instances, plain limit 120 s
    python -m benchmarks.bench_certify --instances 2d-n20-w4 --skip-plain
    python -m benchmarks.bench_certify --no-probe           # the exhaustive search without its probe
    python -m benchmarks.bench_certify --sweep              # issue 11: the fresh 12-instance sweep, 60 s each
    python -m benchmarks.bench_certify --sweep --moonshot   # 2-D N=40 w6 and 3-D N=25 w5, 300 s each
    python -m benchmarks.bench_certify --sweep --seeds 8101,8102,8103   # a development set: other seeds
    python -m benchmarks.bench_certify --peer               # the peer's MILP (HiGHS) against ours, its settings
    python -m benchmarks.bench_certify --paper-d50          # N = 10, d = 50, parameters: shipped + 3 fresh draws
    python -m benchmarks.bench_certify --parallel           # serial against --jobs 2 on fresh sweep instances

The sweep's instances (benchmarks/planted.py: FRESH_FAMILIES, FRESH_SEEDS) were fixed before any
measurement and are never tuned on. Every row says whether the call kept its time limit
(limit + 5% + 1 s).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from tabulate import tabulate

from benchmarks.planted import (BENCHMARK_INSTANCES, FRESH_FAMILIES, FRESH_SEEDS, MOONSHOT_FAMILIES,  # noqa: E402
                                 benchmark_instance, fresh_instances)

from sparsest.exact import exhaustive  # noqa: E402
from sparsest.exact.certify import certify  # noqa: E402
from sparsest.exact.dictionary import BlockDictionary  # noqa: E402
from sparsest.exact.highs import INF, quiet_highs, to_highs_lp  # noqa: E402


@dataclass(frozen=True)
class PlainResult:
    status: str          # "optimal" or HiGHS's status text (e.g. "Time limit reached")
    value: float | None  # best objective found (number of blocks)
    bound: float | None  # HiGHS's dual bound
    seconds: float


def plain_big_m(dictionary: BlockDictionary, time_limit: float = 120.0) -> PlainResult:
    """MEASURED.md's plain formulation: min sum z_b, interpolation, cones, |u_bj| <= M z_b."""
    ds = dictionary.dataset
    n, width, n_blocks = ds.n_points, dictionary.n_weights, dictionary.n_blocks
    big_m = 10.0 * float(np.max(np.abs(ds.y))) + 10.0
    n_u = n_blocks * width
    interpolation = sp.hstack([sp.hstack([sp.csr_matrix(dictionary.design(b)) for b in range(n_blocks)]),
                               sp.csr_matrix((n, n_blocks))])
    cones = sp.hstack([sp.block_diag([dictionary.cone(b) for b in range(n_blocks)]),
                       sp.csr_matrix((n * n_blocks, n_blocks))])
    # -M z_b <= u_bj <= M z_b  as  u_bj - M z_b <= 0  and  u_bj + M z_b >= 0.
    pick = sp.identity(n_u, format="csr")
    owner = sp.csr_matrix((np.full(n_u, big_m), (np.arange(n_u), np.repeat(np.arange(n_blocks), width))),
                          shape=(n_u, n_blocks))
    links = sp.vstack([sp.hstack([pick, -owner]), sp.hstack([pick, owner])])
    A = sp.vstack([interpolation, cones, links]).tocsc()
    row_lower = np.concatenate([ds.y, np.zeros(n * n_blocks), np.full(n_u, -INF), np.zeros(n_u)])
    row_upper = np.concatenate([ds.y, np.full(n * n_blocks, INF), np.zeros(n_u), np.full(n_u, INF)])
    col_lower = np.concatenate([np.full(n_u, -INF), np.zeros(n_blocks)])
    col_upper = np.concatenate([np.full(n_u, INF), np.ones(n_blocks)])
    cost = np.concatenate([np.zeros(n_u), np.ones(n_blocks)])
    integrality = np.concatenate([np.zeros(n_u, dtype=bool), np.ones(n_blocks, dtype=bool)])
    solver = quiet_highs(time_limit=float(time_limit))
    return _timed_run(solver, to_highs_lp(cost, A, row_lower, row_upper, col_lower, col_upper, integrality))


def _timed_run(solver, model) -> PlainResult:
    """Run one MILP on ``solver`` and read back status, best value, dual bound and wall seconds."""
    solver.passModel(model)
    start = time.monotonic()
    solver.run()
    seconds = time.monotonic() - start
    status = solver.getModelStatus()
    info = solver.getInfo()
    value = info.objective_function_value if info.primal_solution_status == 2 else None
    text = "optimal" if status == highspy.HighsModelStatus.kOptimal else solver.modelStatusToString(status)
    return PlainResult(text, value, info.mip_dual_bound, seconds)


def ours(dataset) -> tuple[str, int | None, int | None, float, str]:
    """The package's certifier, ``certify(dataset)`` with its default method: (status, upper, lower,
    seconds, detail). The time includes the enumeration of the activation sets."""
    started = time.monotonic()
    certificate = certify(dataset, time_limit=300.0)
    seconds = time.monotonic() - started
    detail = f"{certificate.method}, {certificate.n_lps} LPs"
    return certificate.status, certificate.upper_bound, certificate.lower_bound, seconds, detail


def sweep(instances, time_limit: float) -> list[list]:
    """certify(dataset, time_limit) on each (name, dataset): one table row each."""
    rows = []
    for name, ds in instances:
        started = time.monotonic()
        c = certify(ds, time_limit=time_limit)
        seconds = time.monotonic() - started
        kept = seconds <= time_limit * 1.05 + 1.0
        rows.append([name, ds.name.split("-w")[1].split("-")[0], c.status, c.lower_bound, c.upper_bound,
                     f"{seconds:.1f}", "yes" if kept else "NO", c.method])
        print(f"{name}: done", file=sys.stderr, flush=True)
    return rows


def peer_milp(ds, w_bound: float, b_bound: float, time_limit: float) -> PlainResult:
    """The peer's formulation (changwon22/Maximizing-Sparsity-in-NN-with-MIP, relu_network/milp_solver.py)
    solved by HiGHS: K = N neurons, v_k = 2 v'_k - 1 with v' binary, a binary t on every weight
    and s on every bias with |W| <= w_bound t, |b| <= b_bound s, ReLU by p - q = W^T x + b,
    p <= M z, q <= M (1 - z), r = v' p by McCormick, sum_k (2 r - p) = y; M = d w_bound max|X| + b_bound.
    Objective: sum t + sum s (nonzero weights and biases)."""
    X, y = ds.X, ds.y
    N, d = X.shape
    K = N
    M = d * w_bound * float(np.abs(X).max()) + b_bound
    names: dict[str, int] = {}
    lower, upper, integer = [], [], []

    def var(name, lo, hi, is_int):
        names[name] = len(lower)
        lower.append(lo)
        upper.append(hi)
        integer.append(is_int)

    for k in range(K):
        for i in range(d):
            var(f"W{i},{k}", -w_bound, w_bound, False)
            var(f"t{i},{k}", 0, 1, True)
        var(f"b{k}", -b_bound, b_bound, False)
        var(f"s{k}", 0, 1, True)
        var(f"v{k}", 0, 1, True)
        for n in range(N):
            var(f"p{n},{k}", 0, INF, False)
            var(f"q{n},{k}", 0, INF, False)
            var(f"z{n},{k}", 0, 1, True)
            var(f"r{n},{k}", 0, INF, False)
    rows, row_lo, row_hi = [], [], []

    def row(coefs, lo, hi):
        rows.append({names[key]: value for key, value in coefs.items()})
        row_lo.append(lo)
        row_hi.append(hi)

    for k in range(K):
        for n in range(N):
            coefs = {f"W{i},{k}": float(X[n, i]) for i in range(d)}
            coefs.update({f"b{k}": 1.0, f"p{n},{k}": -1.0, f"q{n},{k}": 1.0})
            row(coefs, 0.0, 0.0)
            row({f"p{n},{k}": 1.0, f"z{n},{k}": -M}, -INF, 0.0)
            row({f"q{n},{k}": 1.0, f"z{n},{k}": M}, -INF, M)
            row({f"r{n},{k}": 1.0, f"v{k}": -M}, -INF, 0.0)
            row({f"p{n},{k}": 1.0, f"v{k}": M, f"r{n},{k}": -1.0}, -INF, M)
            row({f"r{n},{k}": 1.0, f"p{n},{k}": -1.0}, -INF, 0.0)
        for i in range(d):
            row({f"W{i},{k}": 1.0, f"t{i},{k}": w_bound}, 0.0, INF)
            row({f"W{i},{k}": 1.0, f"t{i},{k}": -w_bound}, -INF, 0.0)
        row({f"b{k}": 1.0, f"s{k}": b_bound}, 0.0, INF)
        row({f"b{k}": 1.0, f"s{k}": -b_bound}, -INF, 0.0)
    for n in range(N):
        coefs = {}
        for k in range(K):
            coefs[f"r{n},{k}"] = 2.0
            coefs[f"p{n},{k}"] = -1.0
        row(coefs, float(y[n]), float(y[n]))
    entries = [(r, c, v) for r, coefs in enumerate(rows) for c, v in coefs.items()]
    A = sp.csr_matrix(([e[2] for e in entries], ([e[0] for e in entries], [e[1] for e in entries])),
                      shape=(len(rows), len(lower)))
    cost = np.zeros(len(lower))
    for key, column in names.items():
        if key[0] in "ts":
            cost[column] = 1.0
    solver = quiet_highs(time_limit=float(time_limit), mip_rel_gap=0.0, mip_abs_gap=0.999)
    return _timed_run(solver, to_highs_lp(cost, A, row_lo, row_hi, lower, upper, integer))


def peer_rows(time_limit: float) -> list[list]:
    """The peer's own data (relu_network/data_generation.py case 1: np.random.seed(0), X and y
    uniform on [-1, 1]) for N = 4..6, d = 2, and the peer's own grid (run_experiments_crossplatform.py:
    N in 5, 7 and d in 3, 5; its N = 10 and d = 7 are left out); both sides get the same box R = default_box on the
    weights (the peer's b_Bound = R on the biases; ours bounds biases by the cones, see docs/math.md §3)."""
    from sparsest.core.dataset import Dataset
    from sparsest.exact.milp import default_box

    rows = []
    for N, d in ((4, 2), (5, 2), (6, 2), (5, 3), (7, 3), (5, 5), (7, 5)):
        np.random.seed(0)
        X = np.random.uniform(-1, 1, size=(N, d)).astype(np.float32).astype(np.float64)
        y = np.random.uniform(-1, 1, size=(N, 1)).astype(np.float32).astype(np.float64).ravel()
        ds = Dataset.from_arrays(X, y, name=f"peer-N{N}-d{d}")
        R = default_box(ds)
        peer = peer_milp(ds, R, R, time_limit)
        started = time.monotonic()
        c = certify(ds, objective="parameters", count_bias=True, box=R, time_limit=time_limit)
        seconds = time.monotonic() - started
        value = "-" if peer.value is None else f"{peer.value:.0f}"
        rows.append([ds.name, f"{R:.3g}", f"{peer.seconds:.1f} {peer.status} ({value}, bound {peer.bound:.2f})",
                     f"{seconds:.1f} {c.status} [{c.lower_bound}, {c.upper_bound}]"])
        print(f"{ds.name}: done", file=sys.stderr, flush=True)
    return rows


#: Fresh draws of the paper's multivariate setting (N = 10, d = 50, x and y uniform on [-1, 1], 4
#: decimals), seeds fixed (2026-12-02) before any run.
PAPER_D50_SEEDS = (50_101, 50_102, 50_103)


def paper_d50_rows(time_limits: tuple[float, ...] = (10.0, 60.0)) -> list[list]:
    """certify(--objective parameters) on the shipped paper instance and the fresh draws, beside the
    neuron certificate and its network's parameter count."""
    from sparsest.core.dataset import Dataset, load_dataset
    from pathlib import Path

    shipped = load_dataset(Path(__file__).resolve().parent.parent / "instances" / "paper_multivariate.json")
    draws = [("shipped", shipped)]
    for seed in PAPER_D50_SEEDS:
        rng = np.random.default_rng(seed)
        X, y = np.round(rng.uniform(-1, 1, (10, 50)), 4), np.round(rng.uniform(-1, 1, 10), 4)
        draws.append((f"fresh {seed}", Dataset.from_arrays(X, y, skip=False, name=f"paper-d50-{seed}")))
    rows = []
    for name, ds in draws:
        neurons = certify(ds, time_limit=60.0)
        row = [name, f"{neurons.status} {neurons.upper_bound} ({neurons.parameters} params, {neurons.seconds:.1f} s)"]
        for limit in time_limits:
            started = time.monotonic()
            c = certify(ds, objective="parameters", time_limit=limit)
            seconds = time.monotonic() - started
            row.append(f"[{c.lower_bound}, {c.upper_bound}] {c.status}, {seconds:.1f} s")
        rows.append(row)
        print(f"{name}: done", file=sys.stderr, flush=True)
    return rows


#: Fresh sweep instances whose serial proof takes long enough to time a parallel one.
PARALLEL_INSTANCES = ("2d-n30-w5-s7001", "2d-n30-w5-s7002", "3d-n20-w4-s7001", "3d-n20-w4-s7003")


def parallel_rows(time_limit: float = 120.0) -> list[list]:
    """certify(jobs=1) against certify(jobs=2) on PARALLEL_INSTANCES: seconds, speed-up, same certificate."""
    wanted = dict(fresh_instances())
    rows, serial_total, parallel_total = [], 0.0, 0.0
    for name in PARALLEL_INSTANCES:
        ds = wanted[name]
        timed = []
        for jobs in (1, 2):
            started = time.monotonic()
            c = certify(ds, time_limit=time_limit, jobs=jobs)
            timed.append((time.monotonic() - started, c))
        (s1, c1), (s2, c2) = timed
        same = (c1.status, c1.lower_bound, c1.upper_bound) == (c2.status, c2.lower_bound, c2.upper_bound)
        serial_total, parallel_total = serial_total + s1, parallel_total + s2
        rows.append([name, f"{c1.status} [{c1.lower_bound}, {c1.upper_bound}]", f"{s1:.1f}", f"{s2:.1f}",
                     f"{s1 / s2:.2f}x", "yes" if same else "NO"])
        print(f"{name}: done", file=sys.stderr, flush=True)
    rows.append(["total", "", f"{serial_total:.1f}", f"{parallel_total:.1f}", f"{serial_total / parallel_total:.2f}x", ""])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default=",".join(BENCHMARK_INSTANCES),
                        help="comma-separated names from benchmarks/planted.py")
    parser.add_argument("--plain-time-limit", type=float, default=120.0)
    parser.add_argument("--skip-plain", action="store_true", help="time only the package's method")
    parser.add_argument("--no-probe", action="store_true",
                        help="disable the exhaustive search's probe (sets exhaustive.PROBE_ABOVE to infinity)")
    parser.add_argument("--sweep", action="store_true", help="the fresh sweep of issue 11 (60 s each)")
    parser.add_argument("--moonshot", action="store_true", help="with --sweep: the moonshot families (300 s each)")
    parser.add_argument("--peer", action="store_true", help="the peer's MILP (HiGHS) against ours on its data")
    parser.add_argument("--paper-d50", action="store_true", help="the paper's N = 10, d = 50 setting, parameters")
    parser.add_argument("--time-limit", type=float, default=None, help="per call (sweep: 60 / 300, peer: 120)")
    parser.add_argument("--seeds", default=None,
                        help="with --sweep: comma-separated seeds instead of FRESH_SEEDS (a development set)")
    parser.add_argument("--families", default=None,
                        help="with --sweep: comma-separated family names (default: all of the sweep's)")
    parser.add_argument("--parallel", action="store_true", help="serial against --jobs 2 (120 s limit)")
    args = parser.parse_args(argv)
    if args.parallel:
        rows = parallel_rows(args.time_limit or 120.0)
        print(tabulate(rows, headers=["instance", "certificate (serial)", "serial s", "2 jobs s", "speed-up",
                                      "same bounds"], disable_numparse=True))
        return 0
    if args.paper_d50:
        rows = paper_d50_rows()
        print(tabulate(rows, headers=["instance", "neurons (its network's parameters)", "parameters, 10 s",
                                      "parameters, 60 s"], disable_numparse=True))
        return 0
    if args.sweep:
        limit = args.time_limit or (300.0 if args.moonshot else 60.0)
        families = MOONSHOT_FAMILIES if args.moonshot else FRESH_FAMILIES
        if args.families:
            families = {name: families[name] for name in args.families.split(",")}
        seeds = tuple(int(s) for s in args.seeds.split(",")) if args.seeds else FRESH_SEEDS
        rows = sweep(fresh_instances(families, seeds), limit)
        print(tabulate(rows, headers=["instance", "planted", "status", "lower", "upper", "s", "in limit",
                                      "method"], disable_numparse=True))
        optimal = sum(row[2] == "optimal" for row in rows)
        print(f"certified optimal: {optimal} of {len(rows)} within {limit:g} s each")
        return 0
    if args.peer:
        rows = peer_rows(args.time_limit or 120.0)
        print(tabulate(rows, headers=["instance", "box R", "peer MILP (HiGHS) s", "ours s"], disable_numparse=True))
        return 0
    if args.no_probe:
        exhaustive.PROBE_ABOVE = float("inf")
    rows = []
    for name in args.instances.split(","):
        ds = benchmark_instance(name)
        started = time.monotonic()
        dictionary = BlockDictionary(ds)
        setup = time.monotonic() - started
        status, upper, lower, seconds, detail = ours(ds)
        row = [name, dictionary.n_blocks, f"{setup:.2f}", f"{seconds:.1f} {status}",
               upper if lower == upper else f">= {lower}" if upper is None else f"[{lower}, {upper}]"]
        if not args.skip_plain:
            plain = plain_big_m(dictionary, args.plain_time_limit)
            value = "-" if plain.value is None else f"{plain.value:.0f}"
            row[3:3] = [f"{plain.seconds:.1f} {plain.status} (best {value}, bound {plain.bound:.2f})"]
            ratio = plain.seconds / max(seconds, 1e-9)
            # A plain run stopped by its time limit gives only a lower bound on the speed-up.
            row.append("-" if status != "optimal" else f"{ratio:.1f}x" if plain.status == "optimal"
                       else f">= {ratio:.1f}x")
        rows.append(row + [detail])
        print(f"{name}: done", file=sys.stderr, flush=True)
    headers = ["instance", "blocks", "patterns s", "ours s", "optimum (ours)"]
    if not args.skip_plain:
        headers[3:3] = ["plain big-M s"]
        headers.append("plain / ours")
    print(tabulate(rows, headers=headers + ["ours: detail"], disable_numparse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
