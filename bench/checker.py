"""The checker: latency of one `check` (in-process and as a whole process) and `grade` throughput.

    python bench/checker.py [--runs 20] [--answers examples/class-1000.csv] [--before DIR]

Whole processes are measured in CPU time (theirs, from getrusage), so the machine's load does not
enter the ratios. `bench/grade.py` measures `grade` on three kinds of class.

Baseline for latency, in the same run: the plain-SymPy way a CAS-backed checker works, on the
same answers typed as SymPy code: sympify(answer) (our own trusted strings here, never user text)
and simplify(answer - target) == 0. It is faster to reach a yes/no but it is also wrong where
we are right (the symmetric form of the Jacobian, a 1e-12 offset), which the table shows.
"""
from __future__ import annotations

import argparse
import csv
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (our input as a student types it, the same answer as SymPy code, target, truly correct?)
CASES = [
    (r"\sigma_i(\delta_{ij} - \sigma_j)", "sigma[i]*(KroneckerDelta(i, j) - sigma[j])", "softmax-jacobian", True),
    (r"\sigma_j(\delta_{ij} - \sigma_i)", "sigma[j]*(KroneckerDelta(i, j) - sigma[i])", "softmax-jacobian", True),
    (r"\sigma_i(1 - \sigma_j)", "sigma[i]*(1 - sigma[j])", "softmax-jacobian", False),
    (r"\sigma_i - y_i", "sigma[i] - y[i]", "cross-entropy-gradient", True),
    (r"\sigma_i - y_i + 10^{-12}", "sigma[i] - y[i] + Rational(1, 10**12)", "cross-entropy-gradient", False),
    (r"\sigma_i - 1", "sigma[i] - 1", "cross-entropy-gradient", False),
]


def plain_sympy_check(code: str, target: str) -> bool:
    import sympy as sp
    import derive
    namespace = {"sigma": sp.IndexedBase("sigma"), "y": sp.IndexedBase("y"),
                 "i": sp.Symbol("i", integer=True, positive=True), "j": sp.Symbol("j", integer=True, positive=True)}
    answer = sp.sympify(code, locals=namespace)  # our own fixed benchmark strings, not user input
    return sp.simplify(answer - derive.derive(target).result) == 0


def median_ms(fn, runs: int) -> float:
    """Median CPU time of this process (load from other processes does not stretch it)."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--answers", default=str(ROOT / "examples" / "class-1000.csv"))
    parser.add_argument("--before", help="an older tree (git archive REV | tar -x -C DIR; compileall it) to "
                                         "measure alternately with this one: before/after in one run")
    args = parser.parse_args()
    from derive.check import check_answer

    for _tex, code, target, _ok in CASES:  # warm both paths (the target's derivation is cached)
        check_answer(_tex, target=target), plain_sympy_check(code, target)
    print(f"{'answer':<34} {'ours (ms)':>9} {'verdict':>10} {'evidence':>18} {'plain (ms)':>10} {'plain says':>10}  truth")
    for tex, code, target, truth in CASES:
        ours = median_ms(lambda: check_answer(tex, target=target), args.runs)
        plain = median_ms(lambda: plain_sympy_check(code, target), args.runs)
        result = check_answer(tex, target=target)
        level = result.evidence.level if result.evidence else "-"
        says = "correct" if plain_sympy_check(code, target) else "incorrect"
        print(f"{tex:<34} {ours:9.1f} {result.verdict:>10} {level:>18} {plain:10.1f} {says:>10}  "
              f"{'correct' if truth else 'incorrect'}")

    whole_processes(args.runs, args.before)
    naming = statistics.median(fresh_naming() for _ in range(5))
    print(f"naming a mistake in a fresh process (no near mistake: the whole catalogue, other targets "
          f"included): {1000 * naming:.0f} ms CPU")
    rows = list(csv.DictReader(open(args.answers, newline="")))
    distinct = len({row["answer"] for row in rows})
    timed_grade(Path(args.answers), f"`grade` on {len(rows)} answers ({distinct} distinct)", len(rows))
    # Every answer different (nothing checked once for many students): the same answers, each made
    # unique by a term that cancels.
    unique = [{"id": r["id"], "answer": f"{r['answer']} + {n}0^{{-12}} - {n}0^{{-12}}"} for n, r in enumerate(rows)]
    path = Path("/tmp/softmax-derive-bench-distinct.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "answer"])
        writer.writeheader()
        writer.writerows(unique)
    timed_grade(path, f"`grade` on {len(unique)} all-different answers", len(unique))

# One `check --target softmax-jacobian` per kind of answer, as a whole process.
PROCESS_ANSWERS = {"wrong": r"\sigma_i(1-\sigma_j)", "right": r"\sigma_i(\delta_{ij}-\sigma_j)",
                   "right, other form": r"\sigma_j(\delta_{ij}-\sigma_i)", "no near mistake": r"\sigma_i + \sigma_j"}


def whole_processes(runs: int, before: str | None) -> None:
    """Median CPU of each answer's `check` process against `python -c 'import sympy'`, alternated in one
    run so all see the same load; with `before`, the older tree's process is measured beside ours."""
    trees = {"after": ROOT, **({"before": Path(before)} if before else {})}
    spent = {(tree, kind): [] for tree in trees for kind in PROCESS_ANSWERS}
    baseline = []
    for _ in range(max(5, runs // 2)):
        baseline.append(child_cpu([sys.executable, "-c", "import sympy"]))
        for kind, answer in PROCESS_ANSWERS.items():
            for tree, root in trees.items():
                spent[tree, kind].append(child_cpu([sys.executable, "cli.py", "check", "--target", "softmax-jacobian",
                                                    answer], cwd=root))
    base = statistics.median(baseline)
    print(f"whole `check` processes, median CPU s (`python -c 'import sympy'`: {base:.3f} s)")
    for kind in PROCESS_ANSWERS:
        cells = [f"{tree} {statistics.median(spent[tree, kind]):.3f} s ({statistics.median(spent[tree, kind]) / base:.2f}x)"
                 for tree in sorted(trees, reverse=True)]
        print(f"  {kind:<18} " + "   ".join(cells))


def child_cpu(argv: list, cwd: Path = ROOT) -> float:
    """CPU seconds (user + system) of one whole child process: the machine's load does not stretch it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=cwd, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# In a fresh process: the target read, then one wrong answer that matches no near mistake, so naming
# runs through every catalogue entry (the other derivations' results included); its CPU time alone.
FRESH_NAMING = """
import time
from derive.check import check_answer
from derive.check import checker
spent = []
def timed(*args):
    start = time.process_time()
    try:
        return decide(*args)
    finally:
        spent.append(time.process_time() - start)
decide, checker._decide = checker._decide, timed
verdict = check_answer(r"\\sigma_i + \\sigma_j", target="softmax-jacobian", seed=1)
assert verdict.verdict == "incorrect"
print(spent[0])
"""


def fresh_naming() -> float:
    result = subprocess.run([sys.executable, "-c", FRESH_NAMING], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(result.stdout)


def timed_grade(path: Path, label: str, count: int) -> None:
    """Wall time (depends on the machine's load) and CPU time of the grade process and its workers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "cli.py", "grade", "--target", "cross-entropy-gradient", str(path),
                    "--report", "/tmp/softmax-derive-bench-report.csv"], cwd=ROOT, capture_output=True, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{label}: {seconds:.1f} s wall, {count / seconds:.0f} answers/s; {cpu:.1f} s CPU, "
          f"{count / cpu:.0f} answers per CPU second ({2 * count / cpu:.0f}/s on 2 idle cores)")


if __name__ == "__main__":
    main()
