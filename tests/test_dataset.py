"""Loading and validating instances: every bad input is one clear SparsestError."""

import json
from fractions import Fraction

import numpy as np
import pytest

from sparsest.core.dataset import Dataset, load_dataset
from sparsest.errors import SparsestError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_flat_list_is_1d_with_skip_and_exact_decimals(tmp_path):
    path = write(tmp_path, "a.json", json.dumps({"name": "a", "X": [0, 0.1, 0.2], "y": [0.3, 0, 1]}))
    data = load_dataset(path)
    assert data.dim == 1 and data.n_points == 3 and data.skip
    assert data.X_exact[1][0] == Fraction(1, 10)  # decimal text kept exactly, not the binary float
    assert data.y[0] == 0.3


def test_json_rows_default_to_no_skip(tmp_path):
    path = write(tmp_path, "b.json", json.dumps({"X": [[0, 1], [1, 0]], "y": [1, 2]}))
    data = load_dataset(path)
    assert data.dim == 2 and not data.skip and data.name == "b"
    assert data.X_tilde.shape == (2, 3)


def test_csv_last_column_is_y(tmp_path):
    path = write(tmp_path, "c.csv", "x1,x2,y\n0,1,2\n1,0,3\n")
    data = load_dataset(path)
    assert data.dim == 2 and list(data.y) == [2.0, 3.0]


def test_repeated_point_with_equal_target_is_merged_with_notice():
    data = Dataset.from_arrays([0, 1, 1, 2], [0, 1, 1, 0])
    assert data.n_points == 3 and data.notices


@pytest.mark.parametrize(
    "X, y, message",
    [
        ([0, 1, 1], [0, 1, 2], "no function can fit"),
        ([0, 1], [0, 1, 2], "2 points but y has 3"),
        ([], [], "empty"),
        ([[0, 1], [1]], [0, 1], "ragged"),
        ([0, float("nan")], [0, 1], "not a finite number"),
        ([0, 1], [0, float("inf")], "not a finite number"),
        ([0, "abc"], [0, 1], "not a number"),
        ([0, True], [0, 1], "boolean"),
        ([[0, 1], 2], [0, 1], "ragged"),
    ],
)
def test_bad_arrays(X, y, message):
    with pytest.raises(SparsestError, match=message):
        Dataset.from_arrays(X, y)


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.json", "{\"X\": [0, 1], \"y\": [0, 1]", "malformed JSON"),
        ("nan.json", "{\"X\": [0, NaN], \"y\": [0, 1]}", "not a finite number"),
        ("nokey.json", "{\"X\": [0, 1]}", "missing key 'y'"),
        ("extra.json", "{\"X\": [0], \"y\": [0], \"colour\": 1}", "unknown key"),
        ("list.json", "[1, 2]", "top level"),
        ("skip.json", "{\"X\": [0], \"y\": [0], \"skip\": 1}", "true or false"),
        ("bad.csv", "x,y\n0,1\n1\n", "columns"),
        ("nan.csv", "x,y\n0,1\n1,nan\n", "not a finite number"),
        ("empty.csv", "x,y\n", "at least one data row"),
        ("data.txt", "0 1", "unknown instance format"),
    ],
)
def test_bad_files(tmp_path, name, text, message):
    with pytest.raises(SparsestError, match=message):
        load_dataset(write(tmp_path, name, text))


def test_missing_file(tmp_path):
    with pytest.raises(SparsestError, match="no such file"):
        load_dataset(tmp_path / "nothing.json")


def test_round_trip_through_json(tmp_path):
    data = Dataset.from_arrays([[0, 1.5], [2, -1]], [1, 0.25], name="rt", description="d")
    path = write(tmp_path, "rt.json", json.dumps(data.to_json()))
    again = load_dataset(path)
    assert np.array_equal(again.X, data.X) and np.array_equal(again.y, data.y)
    assert again.skip == data.skip and again.name == "rt"


def test_repeated_points_are_one_notice_naming_the_rows():
    data = Dataset.from_arrays([0, 1, 1, 2, 2], [0, 1, 1, 0, 0])
    assert data.n_points == 3 and len(data.notices) == 1
    assert "merged 2 repeated point(s)" in data.notices[0] and "rows 2, 4" in data.notices[0]


def test_json_strings_read_as_numbers_are_a_notice(tmp_path):
    data = load_dataset(write(tmp_path, "s.json", '{"X": [0, 1, 2], "y": ["0", 1, "2.5"]}'))
    assert data.y_exact == (0, 1, Fraction(5, 2))
    assert any("2 value(s) written as text" in n and "y[0] = '0'" in n for n in data.notices)


@pytest.mark.parametrize("value", ["1e308", "1e309", "-1e999", "\"1e999\"", "1e13", str(10 ** 300)])
def test_values_beyond_the_range_are_one_line_errors_naming_them(tmp_path, value):
    path = write(tmp_path, "big.json", '{"X": [0, 1, 2], "y": [0, %s, 1]}' % value)
    with pytest.raises(SparsestError, match=r"y\[1\] = .* beyond the supported range") as err:
        load_dataset(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ['{"X": [0, 1], "y": [0, 1e999999999]}', '{"X": [0, 1], "y": [0, 1%s]}' % ("0" * 5000)])
def test_numbers_too_long_to_expand_are_refused_quickly(tmp_path, text):
    with pytest.raises(SparsestError, match="beyond the range of numbers read"):
        load_dataset(write(tmp_path, "long.json", text))


def test_points_equal_only_in_float64_are_refused(tmp_path):
    path = write(tmp_path, "f.json", '{"X": [0, 1, 1.00000000000000000001], "y": [0, 1, 2]}')
    with pytest.raises(SparsestError, match="same point in float64"):
        load_dataset(path)


def test_csv_without_header_keeps_every_row(tmp_path):
    data = load_dataset(write(tmp_path, "nh.csv", "0,0\n1,1\n2,0\n3,5\n"))
    assert data.n_points == 4 and list(data.y) == [0, 1, 0, 5]
    assert any("no header row" in n for n in data.notices)
    with_header = load_dataset(write(tmp_path, "h.csv", "x,y\n0,0\n1,1\n2,0\n3,5\n"))
    assert with_header.n_points == 4 and not with_header.notices


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs"), ("|", "'|'"), ("  ", "spaces")])
def test_csv_delimiters_are_detected_and_reported(tmp_path, sep, name):
    text = "\n".join(sep.join(row) for row in [["x1", "x2", "y"], ["0", "1.5", "2"], ["1", "0", "-3"]]) + "\n"
    data = load_dataset(write(tmp_path, "d.csv", text))
    assert data.dim == 2 and list(data.y) == [2.0, -3.0] and data.X_exact[0][1] == Fraction(3, 2)
    assert any(name in n for n in data.notices)


def test_csv_with_one_column_names_the_delimiters(tmp_path):
    with pytest.raises(SparsestError, match="separated by one of"):
        load_dataset(write(tmp_path, "one.csv", "x\n1\n2\n"))
