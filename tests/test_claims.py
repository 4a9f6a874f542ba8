"""The theorem's claims (sparsest.claims.checks, `sparsest claims`) on seeded random and shipped instances.

The verdicts are cross-checked against references that share no code with the package:
the matching oracle of tests/oracles.py (1-D l^p minimisers by brute force over pairings of
neighbouring slope jumps) for p*, ties and C4; an analytic crossing for a run of four jumps; the
exhaustive search of another module for the 2-D parameter counts. A claim that fails on a random
instance fails the test; the known counterexamples live in instances/counterexamples/ and are
checked to still fail, with their stored evidence.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from sparsest.claims.checks import check_claims
from sparsest.cli.main import main
from sparsest.core.dataset import Dataset, load_dataset
from sparsest.errors import SparsestError
from sparsest.claims.lp_minimizers import minimize_lp
from sparsest.exact.closed_form import min_knots
from oracles import distinct_2d, matching_oracle, random_1d

pytestmark = pytest.mark.claims
ROOT = Path(__file__).resolve().parents[1]
GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
THEOREMS_1D = ("C1", "C2", "C3", "C6")


def verdicts(report):
    return {c.id: c.holds for c in report.claims}


def evidence(report, claim):
    return next(c.evidence for c in report.claims if c.id == claim)


def oracle_counts(ds, p):
    """Neuron counts of all l^p minimisers, by the matching oracle."""
    _, found = matching_oracle([r[0] for r in ds.X_exact], ds.y_exact, p)
    return {len(knots) for knots in found}


def oracle_identical_tie(ds, p):
    """Two oracle minimisers with the same multiset of |slope changes| (tied at every p)."""
    _, found = matching_oracle([r[0] for r in ds.X_exact], ds.y_exact, p)
    mags = [tuple(sorted(abs(g) for _, g in knots)) for knots in found]
    return len(mags) != len(set(mags))


# ====================================================================== 1-D, random instances
@pytest.mark.parametrize("seed", range(10))
def test_1d_claims_on_random_instances(seed):
    rng = np.random.default_rng(600 + seed)
    ds = random_1d(rng, int(rng.integers(3, 8)), integer=seed % 2 == 0)
    report = check_claims(ds, p_grid=GRID, time_limit=30)
    v = verdicts(report)
    for claim in THEOREMS_1D:
        assert v[claim] is True, (claim, evidence(report, claim))
    assert v["C5"] == "not applicable"
    assert report.sparsest == min_knots(ds)
    # C4 fails exactly when the oracle finds an identical tie (checked on the same grid)
    assert (v["C4"] is False) == any(oracle_identical_tie(ds, p) for p in GRID)
    # p*: every oracle minimiser is sparsest up to the estimate, and the first failure is real
    first = evidence(report, "C2")["first_failure"]
    for p in GRID:
        if first is None or p < first:
            assert oracle_counts(ds, p) == {report.sparsest}
        elif p == first:
            assert oracle_counts(ds, p) != {report.sparsest}
    if first is not None:
        p_star = report.p_star_estimate
        assert oracle_counts(ds, p_star - 1e-5) == {report.sparsest}
        assert oracle_counts(ds, p_star + 1e-5) != {report.sparsest}


def one_convex_run(rng, n):
    """Data whose N-2 slope jumps share one sign (one run), with heavy-tailed magnitudes: the
    instances where a non-sparsest matching can win below p = 1."""
    jumps = [Fraction(int(v), 8) for v in np.maximum(1, np.round(8 * np.exp(1.5 * rng.normal(size=n - 2))))]
    slopes = [Fraction(int(rng.integers(-3, 4)))]
    for g in jumps:
        slopes.append(slopes[-1] + g)
    x = list(range(n))
    y = [Fraction(0)]
    for i in range(n - 1):
        y.append(y[-1] + slopes[i])
    return Dataset.from_arrays(x, y)


@pytest.mark.slow
def test_p_star_on_long_runs_agrees_with_the_oracle():
    grid = tuple(round(0.1 * i, 1) for i in range(1, 10))
    below_one = 0
    for seed in range(24):
        rng = np.random.default_rng(1000 + seed)
        ds = one_convex_run(rng, int(rng.integers(6, 10)))
        report = check_claims(ds, p_grid=grid, time_limit=30)
        assert all(verdicts(report)[c] is True for c in THEOREMS_1D)
        first = evidence(report, "C2")["first_failure"]
        for p in grid:
            if first is None or p < first:
                assert oracle_counts(ds, p) == {report.sparsest}
            elif p == first:
                assert oracle_counts(ds, p) != {report.sparsest}
        if first is not None:
            below_one += 1
            assert oracle_counts(ds, report.p_star_estimate - 1e-5) == {report.sparsest}
            assert oracle_counts(ds, report.p_star_estimate + 1e-5) != {report.sparsest}
    assert below_one >= 2  # the sweep did meet instances with p* < 0.9


def test_generic_slope_jumps_give_a_unique_minimiser_except_at_isolated_p():
    rng = np.random.default_rng(700)
    for _ in range(4):
        x = sorted(rng.choice(np.arange(0, 40), size=7, replace=False).tolist())
        y = [Fraction(int(v), 997) for v in rng.integers(-5000, 5000, size=7)]
        report = check_claims(Dataset.from_arrays(x, y), p_grid=GRID, time_limit=30)
        assert verdicts(report)["C4"] is True
        assert len(evidence(report, "C4")["ties_on_grid"]) <= 1


def test_p_star_of_a_run_of_four_matches_the_analytic_crossing():
    # jumps 0.1, 1, 1, 0.1: (ab)(cd) costs 2 (1.1)^p, a(bc)d costs 2^p + 2 (0.1)^p; they cross at p*
    slopes = [Fraction(0), Fraction(1, 10), Fraction(11, 10), Fraction(21, 10), Fraction(22, 10)]
    y = [Fraction(0)]
    for s in slopes:
        y.append(y[-1] + s)
    report = check_claims(Dataset.from_arrays(list(range(6)), y), p_grid=GRID, time_limit=30)
    crossing = brentq(lambda p: 2 * 1.1 ** p - 2 ** p - 2 * 0.1 ** p, 0.05, 0.999)
    assert report.p_star_estimate == pytest.approx(crossing, abs=2e-6)
    assert verdicts(report)["C2"] is True and verdicts(report)["C4"] is True
    assert evidence(report, "C4")["changes_of_minimiser_at_p"] == [pytest.approx(crossing, abs=2e-6)]
    assert evidence(report, "C2")["minimiser_at_first_failure"][0]["neurons"] == 3


# ====================================================================== shipped instances
def _shipped_1d():
    for path in sorted((ROOT / "instances").glob("*.json")):
        ds = load_dataset(path)
        if ds.dim == 1 and ds.n_points <= 12:
            yield path


@pytest.mark.parametrize("path", list(_shipped_1d()), ids=lambda p: p.stem)
def test_1d_claims_on_shipped_instances(path):
    ds = load_dataset(path)
    report = check_claims(ds, p_grid=GRID, time_limit=30)
    v = verdicts(report)
    for claim in THEOREMS_1D:
        assert v[claim] is True, (claim, evidence(report, claim))
    if "neurons" in ds.optimum:
        assert report.sparsest == ds.optimum["neurons"]
    assert (v["C4"] is False) == any(oracle_identical_tie(ds, p) for p in GRID)
    if v["C4"] is False:  # never silenced: a shipped failure has its counterexample file
        stored = [load_dataset(f) for f in (ROOT / "instances" / "counterexamples").glob("*.json")]
        assert any(s.X_exact == ds.X_exact and s.y_exact == ds.y_exact for s in stored)


@pytest.mark.parametrize("path", sorted((ROOT / "instances" / "counterexamples").glob("*.json")), ids=lambda p: p.stem)
def test_counterexamples_still_fail_with_their_stored_evidence(path):
    ds = load_dataset(path)
    report = check_claims(ds, p_grid=GRID, time_limit=30)
    c4 = evidence(report, "C4")
    assert verdicts(report)["C4"] is False
    tied = c4["identically_tied"]
    # the description quotes the tied path weights {..}; they are the recomputed magnitudes
    quoted = re.search(r"path weights \{([^}]*)\}", ds.description).group(1)
    assert sorted(Fraction(v.strip()) for v in quoted.split(",")) == sorted(Fraction(v) for v in tied["magnitudes"])
    assert len(tied["minimisers"]) >= 2
    assert c4["ties_on_grid"] == list(GRID)  # tied at every grid point


# ====================================================================== d >= 2 (C5)
@pytest.mark.parametrize("seed", range(4))
def test_c5_on_random_general_position_instances(seed):
    rng = np.random.default_rng(800 + seed)
    ds = distinct_2d(rng, 4, output_bias=seed == 3)
    report = check_claims(ds, p_grid=GRID, box=64.0, time_limit=30)
    v = verdicts(report)
    assert all(v[c] == "not applicable" for c in ("C1", "C2", "C3", "C4", "C6"))
    c5 = evidence(report, "C5")
    if c5.get("general_position") is None and v["C5"] == "not applicable":
        pytest.fail("seeded instance unexpectedly not in general position")
    assert v["C5"] is True, c5
    assert report.sparsest_parameters <= ds.n_points
    assert c5["fewest_parameters_at_a_vertex_without_box"] == report.sparsest_parameters
    first = c5[f"minimiser_at_p={GRID[0]:g}"][0]
    assert first["parameters"] == report.sparsest_parameters


def test_c5_is_not_applicable_without_general_position():
    ds = load_dataset(ROOT / "instances" / "square_corners_2d.json")  # centre on the diagonal
    report = check_claims(ds, p_grid=GRID, time_limit=30)
    assert verdicts(report)["C5"] == "not applicable"
    assert "general position" in evidence(report, "C5")["reason"]


def test_c5_is_undecided_when_the_box_binds():
    ds = Dataset.from_arrays([[0, 0], [1, 0], [0, 1], [1, 1]], [0, 0, 0, 10])
    free = minimize_lp(ds, 0.1)
    largest = max(float(abs(u[j])) for m in free.minimizers for _, u in m.neurons for j in range(2))
    report = check_claims(ds, p_grid=(0.1, 0.5), box=0.9 * largest, time_limit=30)
    assert verdicts(report)["C5"] == "undecided"
    assert "binds" in next(c.summary for c in report.claims if c.id == "C5")
    # with a box that holds the unboxed minimiser the claim is decided
    assert verdicts(check_claims(ds, p_grid=(0.1, 0.5), box=largest, time_limit=30))["C5"] is True


# ====================================================================== the command line
def run_cli(capsys, *args):
    code = main(["claims", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_has_the_issue_schema_and_exit_code_1_on_a_failed_claim(capsys):
    code, out, err = run_cli(capsys, ROOT / "instances" / "counterexamples" / "symmetric_jumps_c4.json",
                             "--json", "--p-grid", "0.1:0.9:0.2")
    data = json.loads(out)
    assert code == 1 and err == ""
    assert {"instance", "sparsest", "p_star_estimate", "claims"} <= set(data)
    assert data["sparsest"] == 2
    assert [c["id"] for c in data["claims"]] == ["C1", "C2", "C3", "C4", "C5", "C6"]
    for c in data["claims"]:
        assert {"id", "statement", "holds", "evidence"} <= set(c)
    assert next(c for c in data["claims"] if c["id"] == "C4")["holds"] is False


def test_cli_table_and_exit_code_0(capsys):
    code, out, err = run_cli(capsys, ROOT / "instances" / "peak_plateau.json", "--p-grid", "0.2,0.5,0.8")
    assert code == 0 and err == ""
    assert "peak_plateau: N=6, d=1, sparsest 3 neuron(s)" in out
    for claim in ("C1", "C2", "C3", "C4", "C5", "C6"):
        assert re.search(rf"^{claim}\s", out, re.M)
    assert "checked in: d=1 with the free affine skip term" in out


@pytest.mark.parametrize("args,message", [
    (["missing.json"], "no such file"),
    (["instances/zigzag.json", "--p-grid", "0:1:0.1"], "0 < p < 1"),
    (["instances/zigzag.json", "--p-grid", "a,b"], "START:STOP:STEP"),
    (["instances/zigzag.json", "--p-grid", "0.5:0.1:0.1"], "START <= STOP"),
    (["instances/zigzag.json", "--box", "3"], "no box"),
    (["instances/noisy_sine.json"], "N <= 12"),
    (["instances/zigzag.json", "--time-limit", "0"], "time limit"),
])
def test_cli_bad_input_is_one_stderr_line_and_exit_2(capsys, monkeypatch, args, message):
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_a_1d_file_without_skip_term_is_checked_with_it_and_says_so():
    ds = Dataset.from_arrays([0, 1, 2, 3, 4], [0, 1, 0, 2, 1], skip=False)
    report = check_claims(ds, p_grid=(0.3, 0.6), time_limit=30)
    assert all("skip term" in c.evidence.get("note", "") for c in report.claims)
    assert verdicts(report)["C1"] is True


def test_api_refuses_bad_grids_and_boxes():
    ds = Dataset.from_arrays([0, 1, 2, 3], [0, 1, 0, 1])
    for grid in ([], [0.5, 1.0], ["x"], [float("nan")]):
        with pytest.raises(SparsestError):
            check_claims(ds, p_grid=grid)
    with pytest.raises(SparsestError, match="box"):
        check_claims(Dataset.from_arrays([[0, 0], [1, 0], [0, 1]], [0, 1, 2]), box=-1.0)


def test_same_command_same_numbers():
    ds = load_dataset(ROOT / "instances" / "peak_plateau.json")
    a = check_claims(ds, p_grid=GRID, time_limit=30).to_json()
    b = check_claims(ds, p_grid=GRID, time_limit=30).to_json()
    for report in (a, b):  # the certificates' wall times are not part of the verdicts
        for claim in report["claims"]:
            claim["evidence"].pop("exhaustive", None)
            claim["evidence"].pop("milp", None)
    assert a == b and math.isfinite(a["p_star_estimate"])
