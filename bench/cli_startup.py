"""CLI cold start: `softmax-derive --help` and `list` as whole processes, against `import sympy`.

    python bench/cli_startup.py [--runs 15]

The baseline is the least a SymPy-based CLI pays before doing anything: starting Python and
importing SymPy. A ratio above 1 means our command finishes before that import alone would.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(argv: list, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    baseline = median_seconds([sys.executable, "-c", "import sympy"], args.runs)
    print(f"{'command':<28} {'ours (s)':>9} {'python -c import sympy (s)':>27} {'ratio':>7}")
    for command in (["--help"], ["list"]):
        ours = median_seconds([sys.executable, "cli.py", *command], args.runs)
        print(f"{'softmax-derive ' + ' '.join(command):<28} {ours:9.3f} {baseline:27.3f} {baseline / ours:6.1f}x")


if __name__ == "__main__":
    main()
