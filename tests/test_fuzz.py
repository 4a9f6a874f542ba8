"""Fuzzing the loaders and the command line (issue 12 item 9).

Random instance files - JSON and CSV texts of random shapes, values (huge, tiny, NaN, text,
booleans, nesting) and damage (truncation, stray characters) - go through ``load_dataset`` and
through ``sparsest certify`` / ``sparsest claims`` as the console script runs them. Every one must
end in exit 0 (or 1: a claim failed) or in exactly one stderr line with exit 2; never a traceback,
never an exception other than SparsestError from the loader, never a file left in the folder.
The heavy version (>= 10,000 inputs) is ``python -m benchmarks.bench_inputs``.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparsest.cli.main import main
from sparsest.core.dataset import load_dataset
from sparsest.errors import SparsestError

pytestmark = pytest.mark.slow  # fuzzing / a dask cluster: in make test, not make test-fast

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

numbers = st.one_of(
    st.integers(-5, 5),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 10),
    st.sampled_from([1e308, -1e308, 1e-308, 5e-324, 1e12, 1e13, 0.1, -0.0]),
)
cells = st.one_of(
    numbers,
    st.sampled_from(["0", "1.5", "1e999", "-1e-999", "inf", "nan", "abc", "", " 3 ", "1/3", "1/0", "0x10", "1_000"]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-3, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@st.composite
def instance_objects(draw):
    """A JSON object that is often a valid instance and often a little wrong."""
    n = draw(st.integers(0, 7))
    d = draw(st.integers(1, 3))
    value = cells if draw(st.booleans()) else st.integers(-4, 4)
    if d == 1 and draw(st.booleans()):
        X = draw(st.lists(value, min_size=n, max_size=n))
    else:
        X = draw(st.lists(st.lists(value, min_size=d, max_size=d + draw(st.integers(0, 1))),
                          min_size=n, max_size=n))
    y = draw(st.lists(value, min_size=max(0, n - draw(st.integers(0, 1))), max_size=n))
    obj = {"X": X, "y": y}
    extras = draw(st.dictionaries(
        st.sampled_from(["name", "skip", "output_bias", "optimum", "colour", "description"]),
        st.one_of(st.booleans(), st.integers(), st.text(max_size=4), st.none(), st.dictionaries(
            st.sampled_from(["neurons"]), st.integers(0, 3))), max_size=2))
    obj.update(extras)
    for key in draw(st.lists(st.sampled_from(["X", "y"]), max_size=1)):
        del obj[key]
    return obj


@st.composite
def json_texts(draw):
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=40))
    text = json.dumps(draw(instance_objects()), default=str)
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=3)) + text[cut + 1:]
    return text


@st.composite
def csv_texts(draw):
    sep = draw(st.sampled_from([",", ";", "\t", "|", " ", ", "]))
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(st.one_of(
        st.integers(-5, 5).map(str), st.floats(-3, 3).map(repr),
        st.sampled_from(["x", "y", "", "nan", "1e999", "a,b", '"q"', "1e13"])), min_size=width,
        max_size=width + draw(st.integers(0, 1))), max_size=7))
    if draw(st.booleans()):
        rows.insert(0, [f"c{j}" for j in range(width)])
    return "\n".join(sep.join(row) for row in rows) + draw(st.sampled_from(["", "\n", "\n\n"]))


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse
            code = stop.code
    return int(code), out.getvalue(), err.getvalue()


def _check_outcome(code: int, err: str) -> None:
    assert "Traceback" not in err
    assert code in (0, 1, 2), code
    lines = [line for line in err.splitlines() if not line.startswith("sparsest: notice:")]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("sparsest"), err
    else:
        assert not lines, err


def _fuzz_file(name: str, text: str, commands: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text)
        try:
            load_dataset(path)
        except SparsestError as err:
            assert "\n" not in str(err)
        for extra in commands:
            code, _, err = _run_cli([extra[0], str(path), *extra[1:]])
            _check_outcome(code, err)
        assert sorted(p.name for p in Path(folder).iterdir()) == [name]  # nothing left behind


CERTIFY = ["certify", "--time-limit", "2", "--json"]
CLAIMS = ["claims", "--p-grid", "0.5", "--time-limit", "2"]


@FUZZ
@given(json_texts())
def test_json_files_end_cleanly(text):
    _fuzz_file("data.json", text, [CERTIFY])


@FUZZ
@given(csv_texts())
def test_csv_files_end_cleanly(text):
    _fuzz_file("data.csv", text, [CERTIFY])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(json_texts())
def test_claims_end_cleanly(text):
    _fuzz_file("data.json", text, [CLAIMS])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.sampled_from(["--collinear-tol", "-1", "nan", "0", "1e-3", "--box", "inf", "--skip", "--no-skip",
                                 "--output-bias", "--objective", "parameters", "--count-bias", "--method",
                                 "milp", "exhaustive", "closed-form", "--max-patterns", "3", "--json"]), max_size=5))
def test_certify_options_end_cleanly(options):
    _fuzz_file("data.json", json.dumps({"X": [-2, -1, 0, 1, 2, 3], "y": [0, 0, 1, 1, 0, 0]}),
               [["certify", "--time-limit", "2", *options]])
