"""`sparsest certify` as a user runs it: the JSON contract, the human summary and table, and every
bad input of issue #2 item 7 as exactly one stderr line with exit code 2."""

import json

import numpy as np
import pytest

from sparsest.cli.main import main

CONTRACT_KEYS = {"instance", "n_points", "dim", "objective", "method", "status", "neurons", "parameters",
                 "lower_bound", "upper_bound", "max_abs_residual", "seconds", "assumptions", "network"}

ONE_D = {"name": "bumps", "X": [-2, -1, 0, 1, 2, 3], "y": [0, 0, 1, 1, 0, 0]}  # the paper's example: 3
TWO_D = {"name": "corners", "X": [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]], "y": [0, 1, 1, 2, 1.5]}


def _run(argv):
    """main(argv) as the console script runs it: the exit code, argparse's exits included."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_json_for_one_file_is_the_contract_object(tmp_path, capsys):
    code = _run(["certify", _write(tmp_path, "bumps.json", ONE_D), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    body = json.loads(out)
    assert CONTRACT_KEYS <= set(body)
    assert body["instance"] == "bumps" and body["method"] == "closed-form" and body["status"] == "optimal"
    assert body["neurons"] == body["lower_bound"] == body["upper_bound"] == 3
    assert set(body["network"]) == {"v", "W", "b", "a", "c"}


def test_json_for_several_files_is_a_list_and_options_reach_certify(tmp_path, capsys):
    files = [_write(tmp_path, "bumps.json", ONE_D), _write(tmp_path, "corners.json", TWO_D)]
    code = _run(["certify", *files, "--json", "--objective", "parameters", "--method", "milp", "--box", "5",
                 "--time-limit", "30", "--solver", "highs"])
    out, _ = capsys.readouterr()
    assert code == 0
    bodies = json.loads(out)
    assert [b["instance"] for b in bodies] == ["bumps", "corners"]
    assert all(b["objective"] == "parameters" and b["method"] == "milp" and b["box"] == 5.0 for b in bodies)
    assert all(b["status"] == "optimal" for b in bodies)


def test_human_summary_and_table(tmp_path, capsys):
    one = _write(tmp_path, "bumps.json", ONE_D)
    assert _run(["certify", one]) == 0
    out, _ = capsys.readouterr()
    assert "bumps: N=6, d=1, skip term" in out and "optimal 3 (proven)" in out
    assert _run(["certify", one, _write(tmp_path, "corners.json", TWO_D)]) == 0
    out, _ = capsys.readouterr()
    header = out.splitlines()[0].split()
    assert header == ["instance", "N", "d", "method", "status", "neurons", "parameters", "bounds", "residual",
                      "seconds"]
    assert any(line.startswith("corners") and "optimal" in line for line in out.splitlines())


def test_network_options_and_a_start_file(tmp_path, capsys):
    one = _write(tmp_path, "bumps.json", ONE_D)
    assert _run(["certify", one, "--no-skip", "--output-bias", "--json"]) == 0
    body = json.loads(capsys.readouterr()[0])
    assert body["assumptions"]["skip"] is False and body["assumptions"]["output_bias"] is True
    assert body["method"] != "closed-form" and body["status"] == "optimal"
    # --start reads a certify output (a "network" key) or the bare network
    certificate = _write(tmp_path, "cert.json", body)
    assert _run(["certify", one, "--no-skip", "--output-bias", "--method", "milp", "--start", certificate,
                 "--json"]) == 0
    again = json.loads(capsys.readouterr()[0])
    assert again["upper_bound"] == body["upper_bound"] and again["notes"] == []
    bare = _write(tmp_path, "net.json", body["network"])
    assert _run(["certify", one, "--no-skip", "--output-bias", "--method", "milp", "--start", bare]) == 0


BAD_INSTANCES = {
    "nan.json": '{"X": [0, 1, 2], "y": [0, NaN, 1]}',
    "inf.json": '{"X": [0, 1, 2], "y": [0, Infinity, 1]}',
    "ragged.json": {"X": [[0, 1], [1], [2, 2]], "y": [0, 1, 2]},
    "mismatch.json": {"X": [0, 1, 2], "y": [0, 1]},
    "empty.json": {"X": [], "y": []},
    "text.json": {"X": [0, "one", 2], "y": [0, 1, 2]},
    "malformed.json": '{"X": [0, 1, 2], "y": [0, 1, 2]',
    "missing_key.json": {"X": [0, 1, 2]},
    "repeated.json": {"X": [0, 1, 1], "y": [0, 1, 2]},
    "inf.csv": "x,y\n0,1\n1,inf\n",
    "ragged.csv": "x,y\n0,1\n1\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INSTANCES))
def test_bad_instances_give_one_stderr_line_and_exit_2(tmp_path, capsys, name):
    code = _run(["certify", _write(tmp_path, name, BAD_INSTANCES[name])])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("extra", [
    ["--frobnicate"],
    ["--method", "closed-form"],            # 2-D data
    ["--max-patterns", "5"],                # the data has more activation sets
    ["--box", "-1"],
    ["--box", "nan"],
    ["--time-limit", "0"],
    ["--method", "simplex"],
    ["--max-patterns", "many"],
    ["--start", "no_such_network.json"],
    ["--start", "BAD_START"],
    ["--start", "WRONG_DIM_START"],
    ["--output-bias"],                      # with the skip term on
])
def test_bad_options_give_one_stderr_line_and_exit_2(tmp_path, capsys, extra):
    files = {"BAD_START": _write(tmp_path, "bad_start.json", "{not json"),
             "WRONG_DIM_START": _write(tmp_path, "start.json", {"v": [1.0], "W": [[1.0, 2.0, 3.0]], "b": [0.0]})}
    extra = [files.get(arg, arg) for arg in extra]
    data = _write(tmp_path, "corners.json", {**TWO_D, "skip": "--output-bias" in extra})
    code = _run(["certify", data, *extra])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_file_and_a_bad_file_among_good_ones(tmp_path, capsys):
    assert _run(["certify", str(tmp_path / "absent.json")]) == 2
    assert len(capsys.readouterr()[1].strip().splitlines()) == 1
    good = _write(tmp_path, "bumps.json", ONE_D)
    bad = _write(tmp_path, "mismatch.json", BAD_INSTANCES["mismatch.json"])
    assert _run(["certify", good, bad, good, "--json"]) == 2
    out, err = capsys.readouterr()
    bodies = json.loads(out)
    assert [b.get("instance") for b in bodies] == ["bumps", None, "bumps"]
    assert bodies[1]["file"] == bad and "y has 2 values" in bodies[1]["error"]
    assert bodies[0]["status"] == bodies[2]["status"] == "optimal"
    assert len(err.strip().splitlines()) == 1 and "mismatch.json" in err
    assert _run(["certify", good, bad]) == 2
    out, err = capsys.readouterr()
    rows = out.splitlines()
    assert any(r.startswith("bumps") and "optimal" in r for r in rows)
    assert any(r.startswith(bad) and "error" in r for r in rows) and len(err.strip().splitlines()) == 1


def _piecewise_linear_file(tmp_path, seed=3, n=200):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, n))
    y = 0.5 * x + 2 * np.maximum(x - 0.3, 0) - 3 * np.maximum(x + 0.2, 0)
    return _write(tmp_path, "pl.json", '{"X": [%s], "y": [%s]}' % (
        ", ".join(f"{v:.17g}" for v in x), ", ".join(f"{v:.17g}" for v in y)))


def test_decimals_from_a_piecewise_linear_function_get_an_answer(tmp_path, capsys):
    path = _piecewise_linear_file(tmp_path)
    assert _run(["certify", path, "--json"]) == 0
    body = json.loads(capsys.readouterr()[0])
    assert body["assumptions"]["problem"] == "within tolerance" and body["status"] == "optimal"
    assert body["neurons"] == body["lower_bound"] == body["upper_bound"] == 2
    assert body["assumptions"]["exact_neurons"] > 2 and body["recheck"]["interpolates"]
    assert any("exact rationals" in note for note in body["notes"])
    assert _run(["certify", path]) == 0
    out = capsys.readouterr()[0]
    assert "problem: within the interpolation tolerance" in out and "optimal 2 (proven)" in out
    # the exact problem alone: refused in one line that names the option
    assert _run(["certify", path, "--collinear-tol", "0"]) == 2
    err = capsys.readouterr()[1]
    assert len(err.strip().splitlines()) == 1 and "--collinear-tol" in err
    assert _run(["certify", path, "--collinear-tol", "-1"]) == 2


def test_notices_go_to_stderr_and_into_the_notes(tmp_path, capsys):
    path = _write(tmp_path, "dup.json", {"X": [-2, -1, 0, 0, 1, 2, 3], "y": [0, 0, 1, 1, 1, 0, "0"]})
    assert _run(["certify", path, "--json"]) == 0
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert body["neurons"] == 3 and body["n_points"] == 6
    assert err.count("sparsest: notice:") == 2 and "merged 1 repeated point" in err and "as text" in err
    assert any("merged 1 repeated point" in n for n in body["notes"])
    two_d = _write(tmp_path, "dup2.json", {"X": [[0, 0], [1, 0], [0, 1], [0, 1]], "y": [0, 1, 1, 1]})
    assert _run(["certify", two_d, "--json"]) == 0
    assert any("merged" in n for n in json.loads(capsys.readouterr()[0])["notes"])


def test_data_float64_cannot_resolve_gets_the_exact_count_not_a_refusal(tmp_path, capsys):
    rng = np.random.default_rng(5)
    x = [f"1.{i:011d}" for i in range(0, 40, 3)]  # spacing 3e-11 near 1: slopes ~ 1e11
    y = [int(v) for v in rng.integers(-1, 2, size=len(x))]
    path = _write(tmp_path, "steep.json", '{"X": [%s], "y": %s}' % (", ".join(x), json.dumps(y)))
    assert _run(["certify", path, "--json"]) == 0
    body = json.loads(capsys.readouterr()[0])
    assert body["status"] == "unverified" and body["lower_bound"] == body["upper_bound"] > 0
    assert body["assumptions"]["problem"] == "exact" and not body["recheck"]["interpolates"]
    assert any("proven in exact rationals" in note for note in body["notes"])
    assert _run(["certify", path]) == 0
    assert "proven in exact rationals; the float64 network below misses" in capsys.readouterr()[0]
