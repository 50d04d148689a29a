"""CLI cold start: `--help`, `list` and one `check` as whole processes, against `import sympy`.

    python bench/cli_startup.py [--runs 15] [--before DIR]

The baseline is the least a SymPy-based CLI pays before doing anything: starting Python and
importing SymPy. The ratio is our process over that baseline (1.3x: 30 % more than the import
alone; below 1: we finish before that import alone would). Every figure is the CPU time (user +
system, from getrusage) of the whole child process, and the commands are run in turn with the
baseline, so the load of other processes on the machine stretches none of them. `--before DIR`
(an older tree: git archive REV | tar -x -C DIR, then python -m compileall DIR/derive) runs the
same commands there too, in the same rounds.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "--help": ["--help"],
    "list": ["list"],
    "check (wrong answer)": ["check", "--target", "softmax-jacobian", r"\sigma_i(1-\sigma_j)"],
    "check (right answer)": ["check", "--target", "softmax-jacobian", r"\sigma_i(\delta_{ij}-\sigma_j)"],
}


def child_cpu(argv: list, cwd: Path) -> float:
    """CPU seconds (user + system) of one whole child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=cwd, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", help="an older tree to measure in the same rounds")
    args = parser.parse_args()
    trees = {"ours": ROOT, **({"before": Path(args.before)} if args.before else {})}
    baseline, spent = [], {(tree, name): [] for tree in trees for name in COMMANDS}
    for _ in range(args.runs):
        baseline.append(child_cpu([sys.executable, "-c", "import sympy"], ROOT))
        for name, command in COMMANDS.items():
            for tree, root in trees.items():
                spent[tree, name].append(child_cpu([sys.executable, "cli.py", *command], root))
    base = statistics.median(baseline)
    print(f"median CPU s of whole processes; python -c 'import sympy': {base:.3f} s")
    print(f"{'command':<22} " + " ".join(f"{tree + ' (s)':>12} {'ratio':>6}" for tree in trees))
    for name in COMMANDS:
        cells = [statistics.median(spent[tree, name]) for tree in trees]
        print(f"{name:<22} " + " ".join(f"{cell:12.3f} {cell / base:5.2f}x" for cell in cells))


if __name__ == "__main__":
    main()
