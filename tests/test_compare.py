"""The comparison harness: the sweep plan, the summary statistics (hand-made runs, and a plain
re-computation on many seeded random run sets), option checks, and the command line's errors."""

import json
import statistics
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import sparsest.comparison.compare as compare_module
from sparsest.cli.main import main
from sparsest.comparison.compare import (
    METHODS,
    check_options,
    compare,
    is_hit,
    plan_runs,
    proven_optimum,
    stage_outcome,
    summarize,
)
from sparsest.comparison.records import ExactRecord, Outcome, RunRecord, max_path_weight
from sparsest.core.dataset import Dataset, load_dataset
from sparsest.core.network import Network
from sparsest.exact.closed_form import min_knots
from sparsest.errors import SparsestError
from sparsest.comparison.report import write_report

INSTANCES = Path(__file__).resolve().parents[1] / "instances"


def _run(method, p, seed, neurons, parameters, interpolates, seconds=1.0, network=None):
    return RunRecord("hand-made", method, p, seed, Outcome(interpolates, neurons, parameters, network),
                     seconds=seconds)


def _exact(lower, upper, status="optimal", objective="neurons"):
    return ExactRecord("hand-made", objective, status, lower_bound=lower, upper_bound=upper)


# ---------------------------------------------------------------------- summary
def test_hit_rate_counts_only_interpolating_runs_at_the_optimum():
    runs = [
        _run("lp", 0.4, 0, 3, 3, True, 2.0),    # hit
        _run("lp", 0.4, 1, 3, 3, False, 4.0),   # the optimum's count, but no fit: a failure
        _run("lp", 0.4, 2, 1, 1, False, 6.0),   # collapsed: sparser than optimal, still a failure
        _run("lp", 0.4, 3, 5, 5, True, 8.0),
    ]
    (row,) = summarize(runs, _exact(3, 3))
    assert (row.runs, row.interpolating, row.hits) == (4, 2, 1)
    assert row.hit_rate == 0.25 and row.interpolation_rate == 0.5
    assert row.best_neurons == 3 and row.median_neurons == 4.0  # over the fitting runs only
    assert row.best_parameters == 3 and row.median_parameters == 4.0
    assert row.median_seconds == 5.0  # over all runs
    assert row.below_bound == 0
    assert [is_hit(r, _exact(3, 3)) for r in runs] == [True, False, False, False]


def test_no_hit_rate_without_a_proven_optimum_and_counts_below_the_bound_are_flagged():
    runs = [_run("weight-decay", None, s, n, n, True) for s, n in enumerate([2, 4, 6])]
    (row,) = summarize(runs, _exact(3, 5, status="time_limit"))
    assert row.hits is None and row.hit_rate is None
    assert row.below_bound == 1
    assert [is_hit(r, _exact(3, 5, status="time_limit")) for r in runs] == [None] * 3
    (row,) = summarize(runs, None)
    assert row.hit_rate is None and row.below_bound == 0 and row.median_neurons == 4.0


def test_a_group_without_any_fit_has_no_counts():
    (row,) = summarize([_run("none", None, 0, 2, 2, False)], _exact(3, 3))
    assert row.interpolating == 0 and row.hits == 0 and row.hit_rate == 0.0
    assert row.median_neurons is row.best_neurons is row.median_parameters is row.best_parameters is None


def test_polished_stage_is_summarised_after_the_trained_one():
    runs = [_run("lp", 0.4, 0, 6, 6, False), _run("lp", 0.4, 1, 5, 5, True), _run("none", None, 0, 9, 9, False)]
    runs[0] = replace(runs[0], polished=Outcome(True, 3, 3))
    runs[1] = replace(runs[1], polished=Outcome(False, None, None))
    rows = summarize(runs, _exact(3, 3))
    assert [(r.method, r.stage) for r in rows] == [("lp", "trained"), ("lp", "polished"), ("none", "trained")]
    trained, polished = rows[0], rows[1]
    assert (trained.interpolating, trained.hits, trained.best_neurons) == (1, 0, 5)
    assert (polished.interpolating, polished.hits, polished.best_neurons) == (1, 1, 3)
    assert polished.hit_rate == 0.5
    assert [is_hit(r, _exact(3, 3), "polished") for r in runs] == [True, False, None]


def test_box_judgement_reads_the_path_weights_of_any_network_even_an_empty_one():
    net = Network([2.0, -1.0], [[0.5, -3.0], [1.0, 0.25]], [0.0, 1.0])
    assert max_path_weight(net) == 6.0
    assert max_path_weight(Network([], np.zeros((0, 2)), [])) == 0.0
    assert max_path_weight(None) is None
    run = _run("lp", 0.4, 0, 1, 2, True, network=net)
    exact = replace(_exact(3, 3), box=5.0)
    (row,) = summarize([run], exact)  # 1 neuron < 3, but outside the box: not a contradiction
    assert (row.below_bound, row.outside_box) == (0, 1)
    (row,) = summarize([run], replace(exact, box=6.0))
    assert (row.below_bound, row.outside_box) == (1, 0)


def test_proven_optimum_needs_status_optimal_and_a_closed_gap():
    assert proven_optimum(_exact(4, 4)) == 4
    assert proven_optimum(_exact(3, 4)) is None
    assert proven_optimum(_exact(4, 4, status="time_limit")) is None
    assert proven_optimum(_exact(None, 4)) is None
    assert proven_optimum(None) is None


def test_hits_follow_the_certificate_objective():
    runs = [_run("lp", 0.4, 0, 2, 7, True), _run("lp", 0.4, 1, 3, 5, True)]
    exact = _exact(5, 5, objective="parameters")
    (row,) = summarize(runs, exact)
    assert row.hits == 1 and row.below_bound == 0
    assert [is_hit(r, exact) for r in runs] == [False, True]


def test_summary_agrees_with_a_plain_recomputation_on_random_runs():
    for seed in range(60):
        rng = np.random.default_rng(seed)
        groups = [("lp", 0.4), ("lp", 0.7), ("weight-decay", None), ("none", None)]
        runs = []
        for _ in range(rng.integers(1, 25)):
            method, p = groups[rng.integers(len(groups))]
            runs.append(_run(method, p, int(rng.integers(10)), int(rng.integers(0, 8)), int(rng.integers(0, 20)),
                             bool(rng.random() < 0.6), float(rng.uniform(0, 3))))
        lower = int(rng.integers(1, 5))
        exact = _exact(lower, lower + int(rng.integers(0, 2)))
        optimum = exact.upper_bound if exact.lower_bound == exact.upper_bound else None
        rows = summarize(runs, exact)
        expected_order = list(dict.fromkeys((r.method, r.p) for r in runs))
        assert [(row.method, row.p) for row in rows] == expected_order
        for row in rows:
            mine = [r for r in runs if (r.method, r.p) == (row.method, row.p)]
            fit = [r for r in mine if r.trained.interpolates]
            neurons = np.array([r.trained.neurons for r in fit])
            assert row.runs == len(mine) and row.interpolating == len(fit)
            if optimum is None:
                assert row.hit_rate is None
            else:
                assert row.hit_rate == np.sum(neurons == optimum) / len(mine)
            assert row.below_bound == np.sum(neurons < lower)
            if fit:
                assert row.median_neurons == np.median(neurons) and row.best_neurons == neurons.min()
                assert row.median_parameters == np.median([r.trained.parameters for r in fit])
            else:
                assert row.median_neurons is None
            assert row.median_seconds == pytest.approx(statistics.median(r.seconds for r in mine))


# ---------------------------------------------------------------------- plan and options
def test_plan_runs_p_only_for_lp_methods_and_seeds_for_seeded_methods():
    plan = plan_runs(2, ["lp", "weight-decay", "none"], [0.4, 0.7, 1.0], 3)
    assert len(plan) == 2 * (3 * 3 + 3 + 3)
    assert plan[0].instance == 0 and plan[-1].instance == 1
    lp = [s for s in plan if s.method == "lp" and s.instance == 0]
    assert [(s.p, s.seed) for s in lp] == [(p, s) for p in (0.4, 0.7, 1.0) for s in range(3)]
    assert all(s.p is None for s in plan if s.method != "lp")
    for method, info in METHODS.items():
        runs = plan_runs(1, [method], [0.4, 0.7], 2)
        assert len(runs) == (2 if info.uses_p else 1) * (2 if info.seeded else 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(methods=["lp", "magic"]), "unknown method"),
    (dict(methods=[]), "no methods"),
    (dict(methods=["lp", "lp"]), "twice"),
    (dict(ps=[0.0]), "outside"),
    (dict(ps=[1.5]), "outside"),
    (dict(ps=[float("nan")]), "outside"),
    (dict(ps=[0.4, 0.4]), "twice"),
    (dict(ps=[]), "no p"),
    (dict(seeds=0), "--seeds"),
    (dict(jobs=0), "--jobs"),
    (dict(time_limit=-1.0), "--time-limit"),
])
def test_check_options_refuses_bad_sweeps(kwargs, message):
    options = dict(methods=["lp"], ps=[0.4], seeds=1, jobs=1, time_limit=1.0)
    options.update(kwargs)
    with pytest.raises(SparsestError, match=message):
        check_options(**options)


# ---------------------------------------------------------------------- command line errors
def _cli(argv):
    """The exit code of ``sparsest argv`` (argparse's usage errors exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize("extra, message", [
    (["--methods", "lp", "magic"], "unknown method"),
    (["--p", "1.5"], "outside (0, 1]"),
    (["--p", "0"], "outside (0, 1]"),
    (["--seeds", "0"], "--seeds"),
    (["--jobs", "0"], "--jobs"),
    (["--backend", "nope"], "--backend nope"),
    (["--p", "abc"], "invalid float value"),
])
def test_bad_options_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    code = _cli(["compare", str(INSTANCES / "peak_plateau.json"), "--out", str(out)] + extra)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert captured.out == ""
    assert not out.exists()


def test_missing_file_exits_2_with_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert _cli(["compare", str(tmp_path / "nowhere.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file" in err[0]
    assert not out.exists()


# ---------------------------------------------------------------------- real sweeps (tiny)
TIMING_KEYS = {"seconds", "cpu_seconds", "polish_seconds"}


def _without_timings(value):
    """The JSON object with the wall-clock fields removed (they are the only thing allowed to vary)."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS and k != "median_seconds"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


TINY = dict(methods=["lp", "none", "convex-reweighted"], ps=[0.4], seeds=1, time_limit=10.0,
            train_options={"steps": 200, "width": 8, "patience": 0})


@pytest.fixture(scope="module")
def tiny_datasets():
    return [load_dataset(INSTANCES / "peak_plateau.json"), load_dataset(INSTANCES / "square_corners_2d.json")]


@pytest.fixture(scope="module")
def sequential(tiny_datasets):
    return compare(tiny_datasets, jobs=1, **TINY)


@pytest.mark.slow
def test_results_do_not_depend_on_jobs_or_backend(tiny_datasets, sequential):
    reference = _without_timings(sequential.to_json())
    for jobs, backend in ((2, None), (2, "threading")):
        again = _without_timings(compare(tiny_datasets, jobs=jobs, backend=backend, **TINY).to_json())
        for mine, theirs in zip(again["instances"], reference["instances"]):
            assert mine["exact"] == theirs["exact"], (jobs, backend, mine["name"])
            for run, other in zip(mine["runs"], theirs["runs"]):
                assert run == other, (jobs, backend, mine["name"], run["method"], run["seed"],
                                      sorted(k for k in run if run[k] != other.get(k)))
        assert again == reference


def test_a_sweep_runs_every_planned_run_in_order_and_judges_it(sequential):
    for inst in sequential.instances:
        assert [(r.method, r.p, r.seed) for r in inst.runs] == \
            [("lp", 0.4, 0), ("none", None, 0), ("convex-reweighted", 0.4, None)]
        optimum = proven_optimum(inst.exact)
        for run in inst.runs:
            assert run.hit == (None if optimum is None else run.trained.interpolates and run.trained.neurons == optimum)
            _assert_never_below_the_bound(run, inst.exact)
        assert inst.summary == summarize(inst.runs, inst.exact)
    assert proven_optimum(sequential.instances[0].exact) == 3  # peak_plateau with the skip term (docs/math.md §4)
    assert proven_optimum(sequential.instances[1].exact) == 2  # square_corners_2d, 2 by hand


def test_records_agree_with_the_json_they_write(sequential):
    """Each record's typed fields are what its JSON object says (networks: the same weights)."""
    for inst in sequential.instances:
        data = inst.exact.to_json()
        assert (inst.exact.status, inst.exact.lower_bound, inst.exact.upper_bound, inst.exact.neurons) == \
            (data["status"], data["lower_bound"], data["upper_bound"], data["neurons"])
        assert Network.from_json(data["network"]).to_json() == inst.exact.network.to_json()
        for run in inst.runs:
            data = run.to_json()
            assert (run.method, run.p, run.seed, run.hit, run.hit_polished) == \
                (data["method"], data["p"], data["seed"], data["hit"], data["hit_polished"])
            assert (run.trained.interpolates, run.trained.neurons, run.trained.parameters, run.max_abs_residual) == \
                (data["interpolates"], data["neurons"], data["parameters"], data["max_abs_residual"])
            assert run.trained.max_path_weight == max_path_weight(Network.from_json(data["network"]))
            if run.polished is None:
                assert data["polished"] is None
            else:
                polished = data["polished"]
                assert (run.polished.interpolates, run.polished.neurons, run.polished.parameters) == \
                    (polished["interpolates"], polished["neurons"], polished["parameters"])
                assert (run.polished.network is None) == (polished["network"] is None)


def test_a_sweep_and_its_report_never_parse_a_network_back_from_json(monkeypatch, tmp_path):
    def parsed(*args):
        raise AssertionError("Network.from_json called")

    monkeypatch.setattr(Network, "from_json", classmethod(parsed))
    dataset = load_dataset(INSTANCES / "square_corners_2d.json")  # d = 2: the lines figure draws every network
    result = compare([dataset], methods=["none", "convex-l1"], seeds=1, backend="sequential", time_limit=10.0,
                     train_options={"steps": 100, "width": 4})
    files = write_report(result, tmp_path)
    assert files.report.exists() and len(files.figures) == 3


def _assert_never_below_the_bound(run, exact):
    """An interpolating network (trained or polished) can never beat a proven lower bound."""
    for stage in ("trained", "polished"):
        outcome = stage_outcome(run, stage)
        if outcome is not None and outcome.interpolates:
            assert outcome.count(exact.objective) >= exact.lower_bound, (stage, run.method, run.seed)


def test_training_and_polish_never_beat_the_certificate_on_random_instances():
    rng = np.random.default_rng(7)
    datasets = []
    for k in range(8):  # exact rational data: y = x/2 + two planted kinks (at most 2 neurons)
        x = [Fraction(int(v), 4) for v in np.sort(rng.choice(np.arange(-8, 9), size=7, replace=False))]
        knots = [Fraction(int(v), 8) for v in rng.integers(-12, 13, 2)]
        slopes = [Fraction(int(v), 2) for v in rng.choice([-3, -2, 2, 3], 2)]
        y = [xi / 2 + sum(s * max(xi - t, 0) for s, t in zip(slopes, knots)) for xi in x]
        datasets.append(Dataset.from_arrays(x, y, name=f"random-{k}"))
    result = compare(datasets, methods=["none"], seeds=1, time_limit=10.0, backend="threading",
                     train_options={"steps": 1000, "width": 12})
    polished_fits = 0
    for inst in result.instances:
        assert proven_optimum(inst.exact) == min_knots(inst.dataset)  # 1-D: the closed form of docs/math.md §4
        for run in inst.runs:
            _assert_never_below_the_bound(run, inst.exact)
            polished = stage_outcome(run, "polished")
            polished_fits += bool(polished and polished.interpolates)
    assert polished_fits >= 4  # the check above is not vacuous


def test_json_output_follows_the_contract(tmp_path, capsys):
    out = tmp_path / "out"
    code = _cli(["compare", str(INSTANCES / "peak_plateau.json"), "--methods", "lp", "weight-decay", "convex-l1",
                 "--p", "0.7", "--seeds", "1", "--steps", "200", "--width", "6", "--time-limit", "10",
                 "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    data = json.loads(captured.out)
    (inst,) = data["instances"]
    assert set(inst) == {"name", "exact", "runs", "summary"} and inst["name"] == "peak_plateau"
    assert {"status", "objective", "lower_bound", "upper_bound", "neurons", "parameters", "network"} <= set(inst["exact"])
    assert [(r["method"], r["p"], r["seed"]) for r in inst["runs"]] == \
        [("lp", 0.7, 0), ("weight-decay", None, 0), ("convex-l1", None, None)]
    assert inst["runs"][2]["interpolates"] and inst["runs"][2]["neurons"] >= inst["exact"]["lower_bound"]
    for run in inst["runs"]:
        assert {"neurons", "parameters", "interpolates", "max_abs_residual", "network", "polished", "hit"} <= set(run)
    assert {(row["method"], row["stage"]) for row in inst["summary"]} >= {("lp", "trained"), ("weight-decay", "trained")}
    assert json.loads((out / "results.json").read_text())["instances"] == data["instances"]
    assert (out / "report.md").exists() and (out / "results.csv").exists()


def test_a_method_that_crashes_on_one_run_is_a_recorded_failure_not_a_lost_sweep(monkeypatch, tmp_path):
    def out_of_memory(*args):
        raise MemoryError("cannot allocate 81 GiB")

    monkeypatch.setattr(compare_module, "_convex_task", out_of_memory)
    dataset = load_dataset(INSTANCES / "peak_plateau.json")
    result = compare([dataset], methods=["convex-l1", "none"], seeds=1, backend="sequential",
                     train_options={"steps": 100, "width": 4})
    failed, trained = result.instances[0].runs
    assert failed.error == "MemoryError: cannot allocate 81 GiB" and failed.trained.interpolates is False
    assert failed.hit is False and "error" not in trained.to_json()
    row = result.instances[0].summary[0]
    assert (row.method, row.interpolating, row.median_neurons) == ("convex-l1", 0, None)
    text = write_report(result, tmp_path).report.read_text()
    assert "convex-l1 failed: MemoryError: cannot allocate 81 GiB" in text


def test_an_instance_too_large_to_certify_is_refused_up_front():
    from sparsest.generators import planted_instance

    big = planted_instance(3, 60, 2, 0)  # 2 sum_{k<=3} C(59, k) = 68 560 activation sets: above the limit
    with pytest.raises(SparsestError, match="activation sets, more than the certifier enumerates"):
        compare([big], methods=["none"], seeds=1, train_options={"steps": 10})
