"""`sparsest train` and `sparsest compare` read their files through the CLI's loader, so what the
loader changed (merged repeated points, text read as numbers, CSV layout) is said on stderr, as
`sparsest certify` does, and never mixes into the --json output on stdout."""

import json

from sparsest.cli.main import main


def _cli(argv):
    """The exit code of ``sparsest argv`` (argparse's usage errors exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_train_says_on_stderr_that_a_repeated_point_was_merged(tmp_path, capsys):
    path = tmp_path / "repeated.json"
    path.write_text(json.dumps({"X": [-2, -1, 0, 0, 1, 2, 3], "y": [0, 0, 1, 1, 1, 0, 0]}))
    assert _cli(["train", str(path), "--method", "convex-l1", "--json"]) == 0
    out, err = capsys.readouterr()
    notices = [line for line in err.splitlines() if line.startswith("sparsest: notice:")]
    assert len(notices) == 1 and str(path) in notices[0] and "merged 1 repeated point" in notices[0]
    assert json.loads(out)["interpolates"]  # stdout is still the JSON object alone


def test_compare_says_on_stderr_that_a_csv_has_no_header_row(tmp_path, capsys):
    path = tmp_path / "plain.csv"
    path.write_text("-2,0\n-1,0\n0,1\n1,1\n2,0\n3,0\n")
    out_folder = tmp_path / "out"
    code = _cli(["compare", str(path), "--methods", "convex-l1", "--time-limit", "10",
                 "--out", str(out_folder), "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    notices = [line for line in err.splitlines() if line.startswith("sparsest: notice:")]
    assert len(notices) == 1 and str(path) in notices[0] and "no header row" in notices[0]
    (instance,) = json.loads(out)["instances"]
    assert len(instance["runs"]) == 1 and (out_folder / "results.json").exists()
