"""The files of a comparison (results.json, results.csv, report.md, PNG figures), on hand-made
results: every instance reported, every linked figure present, nothing half-written on failure."""

import csv
import io
import json
import math
import os
import stat
import re
from dataclasses import replace

import numpy as np
import pytest

import sparsest.comparison.report as report_module
from sparsest.comparison.compare import Comparison, InstanceComparison, judge, summarize
from sparsest.comparison.records import ExactRecord, Outcome, RunRecord
from sparsest.core.dataset import Dataset
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.comparison.report import CSV_COLUMNS, results_json, runs_csv, text_summary, write_report
from sparsest.exact.closed_form import sparsest_interpolant

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _outcome(dataset, network):
    residual = float(np.max(np.abs(network(dataset.X) - dataset.y)))
    return Outcome(bool(residual <= dataset.interpolation_tol), network.count_neurons(dataset.X, dataset.count_tol),
                   network.count_parameters(dataset.X, dataset.count_tol), network)


def _run(dataset, network, method, p, seed, seconds=0.5, history=True, polished=None):
    residual = float(np.max(np.abs(network(dataset.X) - dataset.y)))
    return RunRecord(
        dataset.name, method, p, seed, _outcome(dataset, network),
        polished=None if polished is None else _outcome(dataset, polished),
        max_abs_residual=residual, seconds=seconds, neurons_raw=network.width, steps=40,
        history=tuple({"step": s, "lambda": 0.01, "mse": 1.0 / (1 + s), "max_abs_residual": 1.0 / (1 + s),
                       "neurons_raw": max(1, 12 - s // 5), "neurons": max(1, 9 - s // 5)}
                      for s in range(0, 41, 5)) if history else (),
    )


def _instance(dataset, exact, runs):
    runs = tuple(judge(r, exact) for r in runs)
    return InstanceComparison(dataset.name, dataset, exact, runs, summarize(runs, exact))


def _exact(dataset, network, *, lower, upper, status="optimal"):
    return ExactRecord(dataset.name, "neurons", status, method="hand-made",
                       neurons=network.count_neurons(dataset.X, dataset.count_tol),
                       parameters=network.count_parameters(dataset.X, dataset.count_tol), lower_bound=lower,
                       upper_bound=upper, seconds=0.1, assumptions={"box": None}, network=network)


def _comparison(seed=0):
    """A 1-D instance (closed-form optimum, one run per method of which some miss the data), a
    2-D one with an open gap, and a 3-D one: every kind of figure."""
    rng = np.random.default_rng(seed)
    one = Dataset.from_arrays(list(range(-2, 4)), [0, 0, 1, 1, 0, 0], name="peak plateau")
    best = sparsest_interpolant(one).network
    wild = Network(rng.normal(size=6), rng.uniform(0.5, 2, (6, 1)), rng.normal(size=6), [0.0], 0.0)
    runs1 = [_run(one, wild, "lp", 0.4, s, polished=best) for s in range(2)]
    runs1 += [_run(one, wild, "none", None, s) for s in range(2)]
    inst1 = _instance(one, _exact(one, best, lower=3, upper=3), runs1)

    X = rng.uniform(-1, 1, (8, 2))
    planted = Network([1.0, -1.0], rng.normal(size=(2, 2)), rng.normal(size=2) * 0.3)
    two = Dataset.from_arrays(X, planted(X), name="planted-2d")
    runs2 = [_run(two, planted, "lp", 0.7, 0), _run(two, planted, "weight-decay", None, 0, history=False)]
    inst2 = _instance(two, _exact(two, planted, lower=1, upper=2, status="time_limit"), runs2)

    X3 = rng.uniform(-1, 1, (6, 3))
    net3 = Network([1.0], rng.normal(size=(1, 3)), [0.1])
    three = Dataset.from_arrays(X3, net3(X3), name="three-d")
    inst3 = _instance(three, _exact(three, net3, lower=1, upper=1), [_run(three, net3, "lp", 0.4, 0)])
    settings = {"methods": ["lp", "none", "weight-decay"], "ps": [0.4, 0.7], "seeds": 2, "objective": "neurons",
                "time_limit": 5.0, "box": None, "train_options": {"steps": 40}}
    return Comparison((inst1, inst2, inst3), settings)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    comparison = _comparison()
    folder = tmp_path_factory.mktemp("report") / "nested" / "out"
    return comparison, write_report(comparison, folder)


def test_csv_has_one_row_per_run_with_the_expected_columns():
    comparison = _comparison()
    rows = list(csv.DictReader(io.StringIO(runs_csv(comparison))))
    runs = [(inst.name, run) for inst in comparison.instances for run in inst.runs]
    assert len(rows) == len(runs) == 7
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, (name, run) in zip(rows, runs):
        assert row["instance"] == name and row["method"] == run.method
        assert row["p"] == ("" if run.p is None else str(run.p))
        assert int(row["neurons"]) == run.trained.neurons and int(row["parameters"]) == run.trained.parameters
        assert row["interpolates"] == str(run.trained.interpolates)
        assert row["hit"] == ("" if run.hit is None else str(run.hit))
        if run.polished:
            assert int(row["polished_neurons"]) == run.polished.neurons
            assert row["polished_interpolates"] == str(run.polished.interpolates)
            assert row["hit_polished"] == str(run.hit_polished)
        else:
            assert row["polished_neurons"] == row["polished_interpolates"] == row["hit_polished"] == ""
        assert float(row["seconds"]) == run.seconds


def test_json_round_trips_and_writes_non_finite_numbers_as_null():
    comparison = _comparison()
    data = json.loads(results_json(comparison))
    assert data == json.loads(json.dumps(comparison.to_json()))
    assert [inst["name"] for inst in data["instances"]] == ["peak plateau", "planted-2d", "three-d"]
    for inst in data["instances"]:
        assert set(inst) == {"name", "exact", "runs", "summary"}
        groups = {(r["method"], r["p"]) for r in inst["runs"]}
        polished = {(r["method"], r["p"]) for r in inst["runs"] if r["polished"]}
        assert [(row["method"], row["p"]) for row in inst["summary"] if row["stage"] == "trained"] == \
            list(dict.fromkeys((r["method"], r["p"]) for r in inst["runs"]))
        assert len(inst["summary"]) == len(groups) + len(polished)
    broken = _comparison()
    first = broken.instances[0]
    first.runs[1].history[0]["mse"] = math.nan
    runs = (replace(first.runs[0], max_abs_residual=math.inf),) + first.runs[1:]
    broken = Comparison((replace(first, runs=runs),) + broken.instances[1:], broken.settings)
    data = json.loads(results_json(broken))
    assert data["instances"][0]["runs"][0]["max_abs_residual"] is None
    assert data["instances"][0]["runs"][1]["history"][0]["mse"] is None


@pytest.mark.slow
def test_report_mentions_every_instance_and_links_only_existing_pngs(written):
    comparison, files = written
    text = files.report.read_text()
    for inst in comparison.instances:
        assert f"## {inst.name}" in text
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == sorted(p.name for p in files.figures)
    for name in links:
        data = (files.folder / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5000
    assert "NOT proven" in text and "certified optimum 3 neurons" in text
    assert "no run interpolates" in text  # the trained runs miss the data: failures, said so
    # one line per method: the trained runs miss the data, their polish finds the optimum
    assert re.search(r"\| lp p=0\.4 +\| 2 +\| 0% +\| 0% +\| 100% +\| 100% +\|", text)
    assert report_module.TABLE_LEGEND in text and "box R = None" not in text


def test_each_dimension_gets_its_figures(written):
    _, files = written
    names = {p.name for p in files.figures}
    assert {"peak_plateau_counts.png", "peak_plateau_interpolants.png", "peak_plateau_training.png"} <= names
    assert {"planted-2d_counts.png", "planted-2d_lines.png", "planted-2d_training.png"} <= names
    assert {"three-d_counts.png", "three-d_training.png"} <= names
    assert not any(n.startswith("three-d_") and ("lines" in n or "interpolants" in n) for n in names)
    on_disk = {p.name for p in files.folder.iterdir()}
    assert on_disk == names | {"report.md", "results.json", "results.csv", report_module.MANIFEST}  # no leftovers


@pytest.mark.slow
def test_a_new_report_removes_only_the_files_of_the_previous_one(tmp_path):
    comparison = _comparison()
    first = write_report(comparison, tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "other_counts.png").write_bytes(b"not a report's")
    smaller = Comparison(comparison.instances[2:], comparison.settings)
    second = write_report(smaller, tmp_path)
    on_disk = {p.name for p in tmp_path.iterdir()}
    assert {p.name for p in first.figures if p.name.startswith("peak")} and not any(
        n.startswith(("peak", "planted")) for n in on_disk)  # the old instances' figures are gone
    assert {p.name for p in second.figures} <= on_disk and {"notes.txt", "other_counts.png"} <= on_disk


def test_an_unwritable_output_folder_is_refused_before_any_work():
    with pytest.raises(SparsestError, match="not writable"):
        report_module.check_output_folder("/proc/sparsest-report")


def test_a_failure_while_rendering_leaves_the_folder_untouched(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(report_module, "instance_figures", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        write_report(_comparison(), out)
    assert not out.exists() or list(out.iterdir()) == []


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(SparsestError, match="not a folder"):
        write_report(_comparison(), target)
    assert target.read_text() == "x"


def test_instances_whose_names_clash_as_file_names_get_distinct_figures(tmp_path):
    comparison = _comparison()
    a = comparison.instances[2]  # d = 3: the cheapest figures
    clash = Comparison(tuple(InstanceComparison(name, a.dataset, a.exact, a.runs, a.summary)
                             for name in ("three d", "three/d")), comparison.settings)
    files = write_report(clash, tmp_path)
    assert len(files.figures) == len(set(files.figures)) == 4
    assert all(path.exists() for path in files.figures)


def test_text_summary_states_bounds_and_failures():
    text = text_summary(_comparison())
    assert "peak plateau (N=6, d=1): certified optimum 3 neurons" in text
    assert "NOT proven (time_limit): 1 <= neurons <= 2" in text
    assert "warning: none: no run interpolates" in text
    # the lp runs miss the data but their polish interpolates: no warning for them
    assert "lp p=0.4: no run interpolates" not in text and text.endswith(report_module.TABLE_LEGEND)


def test_polish_rows_show_the_polish_time_not_the_training_time():
    comparison = _comparison()
    runs = [replace(r, polish_seconds=0.25) for r in comparison.instances[0].runs]
    exact = comparison.instances[0].exact
    rows = {(row.method, row.stage): row for row in summarize(runs, exact)}
    assert rows[("lp", "trained")].median_seconds == 0.5 and rows[("lp", "polished")].median_seconds == 0.25
    assert rows[("lp", "trained")].median_seconds != rows[("lp", "polished")].median_seconds
    assert summarize(comparison.instances[0].runs, exact)[1].median_seconds is None  # not measured: not shown


def test_report_files_get_the_usual_permissions_not_private_temp_ones(written):
    _, files = written
    mask = os.umask(0o022)
    os.umask(mask)
    for path in (files.report, files.json, files.csv, *files.figures):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name
