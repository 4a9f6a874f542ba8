"""SIGTERM ends a run like an interrupt: one line, exit 143, no traceback, no output folder."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sigterm_during_a_parallel_compare_is_one_line_and_leaves_no_files(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "sparsest.cli.main", "compare", str(ROOT / "instances/peak_plateau.json"),
         str(ROOT / "instances/zigzag.json"), "--seeds", "4", "--jobs", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    time.sleep(6)
    assert process.poll() is None, "the sweep ended before the signal: the test needs a longer run"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143
    assert "Traceback" not in err and "sparsest: terminated" in err
    assert not out.exists()
