"""Issue 3: the plain big-M MILP against the package's certifier, timed side by side in one run.

The plain formulation is MEASURED.md's: every block (activation set, sign) of the dictionary, one
binary per block, one big M = 10 max|y| + 10 on every coordinate of its u, HiGHS with its default
options except output off and a time limit. "Ours" is :func:`sparsest.exact.certify.certify` with its
default method (time limit 300 s). Timings are wall-clock seconds on a shared machine: they vary
from run to run, and the script never fails on one.

    python -m benchmarks.bench_certify                      # all instances, plain limit 120 s
    python -m benchmarks.bench_certify --instances 2d-n20-w4 --skip-plain
    python -m benchmarks.bench_certify --no-probe           # the exhaustive search without its probe
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

from benchmarks.planted import BENCHMARK_INSTANCES, benchmark_instance  # noqa: E402

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
    solver.passModel(to_highs_lp(cost, A, row_lower, row_upper, col_lower, col_upper, integrality))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default=",".join(BENCHMARK_INSTANCES),
                        help="comma-separated names from benchmarks/planted.py")
    parser.add_argument("--plain-time-limit", type=float, default=120.0)
    parser.add_argument("--skip-plain", action="store_true", help="time only the package's method")
    parser.add_argument("--no-probe", action="store_true",
                        help="disable the exhaustive search's probe (sets exhaustive.PROBE_ABOVE to infinity)")
    args = parser.parse_args(argv)
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
