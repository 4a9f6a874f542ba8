"""Bad, extreme and big input: >= 10,000 generated instance files through the loader and the CLI.

    PYTHONPATH=src python -m benchmarks.bench_inputs [--count 10000] [--seed 20261201]

Each input is a JSON or CSV text built by a seeded generator (valid instances, wrong shapes,
huge/tiny/non-finite values, text, booleans, nesting, truncation, stray characters, other
delimiters, missing headers) and goes through ``sparsest certify`` (and, for every 10th,
``sparsest claims``) in-process, as the console script runs it. Prints the outcome counts and
the number of tracebacks (an exception escaping ``main``, or stderr that is not one line on exit
2, or a file left in the folder); the goal is zero. Never fails on timing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from sparsest.cli.main import main

SPECIAL = [1e308, -1e308, 1e309, 1e-308, 5e-324, 1e12, 1e13, -0.0, 0.1, 2**53 + 1, 10**30, float("nan"),
           float("inf")]
TEXTS = ["0", "1.5", "1e999", "-1e-999", "inf", "nan", "abc", "", " 3 ", "1/3", "1/0", "0x10", "1_000", "1e400000"]


def value(rng: random.Random):
    kind = rng.randrange(12)
    if kind < 5:
        return rng.randint(-5, 5)
    if kind < 7:
        return round(rng.uniform(-10, 10), rng.randrange(0, 18))
    if kind == 7:
        return rng.choice(SPECIAL)
    if kind == 8:
        return rng.choice(TEXTS)
    if kind == 9:
        return rng.choice([True, False, None])
    if kind == 10:
        return [rng.randint(-2, 2) for _ in range(rng.randrange(3))]
    return rng.randint(-10**rng.randrange(1, 40), 10**rng.randrange(1, 40))


def instance(rng: random.Random) -> dict:
    n, d = rng.randrange(0, 9), rng.choice([1, 1, 1, 2, 2, 3])
    clean = rng.random() < 0.6
    spoil = 0.0 if clean else rng.choice([0.02, 0.1, 0.5])
    pick = lambda: value(rng) if rng.random() < spoil else rng.choice(  # noqa: E731
        [rng.randint(-4, 4), round(rng.uniform(-3, 3), rng.randrange(1, 18))])
    if d == 1 and rng.random() < 0.6:
        X = [pick() for _ in range(n)]
    else:
        X = [[pick() for _ in range(d + (rng.random() < 0.05))] for _ in range(n)]
    if clean and rng.random() < 0.3 and n:  # repeated points
        X.append(X[0])
        n += 1
    y = [pick() for _ in range(n - (rng.random() < 0.05))]
    obj = {"X": X, "y": y}
    for key in rng.sample(["name", "skip", "output_bias", "optimum", "colour", "description"], rng.choice([0, 0, 0, 1, 2])):
        obj[key] = rng.choice([True, False, 3, "s", None, {"neurons": 2}, [1]])
    if rng.random() < 0.05:
        del obj[rng.choice(["X", "y"])]
    return obj


def json_text(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(30)))
    text = json.dumps(instance(rng), default=str)
    if rng.random() < 0.1:
        cut = rng.randrange(len(text) + 1)
        text = text[:cut] + rng.choice(["", "]", "{", ",", "\x00", "NaN", "Infinity", "\u00e9"]) + text[cut + 1:]
    return text


def csv_text(rng: random.Random) -> str:
    sep = rng.choice([",", ";", "\t", "|", " ", ", "])
    width = rng.randrange(1, 5)
    rows = []
    for _ in range(rng.randrange(0, 9)):
        row = []
        for _ in range(width + (rng.random() < 0.05)):
            v = value(rng) if rng.random() < 0.3 else rng.randint(-5, 5)
            row.append(str(v) if not isinstance(v, float) else repr(v))
        rows.append(row)
    if rng.random() < 0.5:
        rows.insert(0, [f"c{j}" for j in range(width)])
    return "\n".join(sep.join(r) for r in rows) + rng.choice(["", "\n", "\n\n", "\r\n"])


def run_cli(argv: list[str]) -> tuple[int | None, str, str | None]:
    out, err = io.StringIO(), io.StringIO()
    crash = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
        except BaseException:  # noqa: BLE001 - counting exactly these is the point
            code, crash = None, traceback.format_exc()
    return code, err.getvalue(), crash


def main_bench(count: int, seed: int) -> int:
    rng = random.Random(seed)
    outcomes: Counter = Counter()
    failures: list[str] = []
    start = time.perf_counter()
    for index in range(count):
        suffix = ".csv" if rng.random() < 0.3 else ".json"
        text = csv_text(rng) if suffix == ".csv" else json_text(rng)
        commands = [["certify", "--time-limit", "1", "--json"]]
        if index % 10 == 0:
            commands.append(["claims", "--p-grid", "0.5", "--time-limit", "1"])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"data{suffix}"
            path.write_text(text)
            for command in commands:
                code, err, crash = run_cli([command[0], str(path), *command[1:]])
                lines = [line for line in err.splitlines() if not line.startswith("sparsest: notice:")]
                bad = crash is not None or "Traceback" in err or code not in (0, 1, 2) or \
                    (code == 2 and len(lines) != 1) or (code in (0, 1) and lines)
                if sorted(p.name for p in Path(folder).iterdir()) != [path.name]:
                    bad = True
                outcomes[f"{command[0]} exit {code}" if not bad else f"{command[0]} TRACEBACK"] += 1
                if bad and len(failures) < 10:
                    failures.append(f"input {index} ({suffix}): {text[:200]!r}\n{crash or err}")
    seconds = time.perf_counter() - start
    tracebacks = sum(v for k, v in outcomes.items() if k.endswith("TRACEBACK"))
    print(f"{count} generated inputs (seed {seed}), {sum(outcomes.values())} command runs, {seconds:.0f} s")
    for key in sorted(outcomes):
        print(f"  {key}: {outcomes[key]}")
    print(f"tracebacks: {tracebacks}")
    for failure in failures:
        print("----\n" + failure)
    return tracebacks


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261201)
    options = parser.parse_args()
    main_bench(options.count, options.seed)
