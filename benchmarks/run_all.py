"""Run every benchmark module of this package (modules named bench_*) and print their figures.

    python -m benchmarks.run_all
"""

import runpy
import sys
from pathlib import Path

for script in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    sys.argv = [script.stem]
    runpy.run_module(f"benchmarks.{script.stem}", run_name="__main__")
