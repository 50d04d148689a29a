"""`grade` throughput on four classes of 1,000 answers, against checking the same rows one by one.

    python bench/grade.py [--answers examples/class-1000.csv] [--workers 2] [--before DIR]

The classes, all built from the same file (cross-entropy-gradient):
  typical   the file as it is: 1,000 rows, 20 distinct texts (students copy, and slips repeat);
  variants  every text different but reading the same as one of the 20 (a term added and taken
            away: `+ 30^{-12} - 30^{-12}`), as spacing, \\left( or \\cdot variants do;
  distinct  every answer a different expression (`+ n(\\sum_k y_k - 1)`, zero on the simplex):
            nothing can be shared, each is read, compared and proved on its own;
  sigma-sum the same with `+ n(\\sum_k \\sigma_k - 1)` (zero by the softmax's definition): the
            proof of the right ones needs the verifier's rewriting, where the distinct class's
            `\\sum_k y_k = 1` is the target's stated assumption, which the cheap leaf proof uses.
Ours: `softmax-derive grade --workers N` as a whole process (start-up included), CPU time of the
process and its workers. Plain: `check_answer` called for every row in one warm process (no
sharing, no start-up): the cost of a loop over the class in a notebook. Both use one seed.
`--before DIR` (an older tree: git archive REV | tar -x -C DIR; python -m compileall DIR/derive) also
runs that tree's `grade` right after ours on each class, and says whether the two reports are the
same bytes.
"""
from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = "cross-entropy-gradient"
SEED = 7


def classes(rows: list) -> dict:
    return {
        "typical": rows,
        "variants": [{"id": r["id"], "answer": f"{r['answer']} + {n}0^{{-12}} - {n}0^{{-12}}"}
                     for n, r in enumerate(rows, start=1)],
        "distinct": [{"id": r["id"], "answer": f"{r['answer']} + {n}(\\sum_k y_k - 1)"}
                     for n, r in enumerate(rows, start=1)],
        "sigma-sum": [{"id": r["id"], "answer": f"{r['answer']} + {n}(\\sum_k \\sigma_k - 1)"}
                      for n, r in enumerate(rows, start=1)],
    }


def write_class(rows: list, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "answer"])
        writer.writeheader()
        writer.writerows(rows)


def ours(path: Path, workers: int, root: Path = ROOT, label: str = "report") -> tuple:
    """(wall s, CPU s of grade and its workers, the report's verdicts by id, the report's bytes)."""
    report = path.with_suffix(f".{label}.csv")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "cli.py", "grade", "--target", TARGET, "--seed", str(SEED), "--workers",
                    str(workers), str(path), "--report", str(report)], cwd=root, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    verdicts = {row["id"]: row["verdict"] for row in csv.DictReader(open(report, newline="", encoding="utf-8"))}
    return wall, cpu, verdicts, report.read_bytes()


def plain(rows: list) -> tuple:
    """(CPU s, verdicts by id): check_answer row by row in this (warm) process."""
    from derive.check import check_answer
    start = time.process_time()
    verdicts = {row["id"]: check_answer(row["answer"], target=TARGET, seed=SEED).verdict for row in rows}
    return time.process_time() - start, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", default=str(ROOT / "examples" / "class-1000.csv"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", help="an older tree whose grade is run beside ours on each class")
    args = parser.parse_args()
    rows = list(csv.DictReader(open(args.answers, newline="", encoding="utf-8")))
    from derive.check import check_answer
    check_answer(r"\sigma_i - y_i", target=TARGET, seed=SEED)  # warm the plain loop's process
    before_columns = f" {'before CPU (s)':>14} {'on 2 idle cores':>15} {'same report':>11}" if args.before else ""
    print(f"{'class':<9} {'rows':>5} {'texts':>5} {'wall (s)':>8} {'CPU (s)':>8} {'answers/CPU s':>13} "
          f"{'on 2 idle cores':>15} {'plain CPU (s)':>13} {'ratio':>6} {'same verdicts':>13}{before_columns}")
    for name, chosen in classes(rows).items():
        path = Path(f"/tmp/softmax-derive-bench-grade-{name}.csv")
        write_class(chosen, path)
        wall, cpu, graded, report = ours(path, args.workers)
        plain_cpu, checked = plain(chosen)
        texts = len({row["answer"] for row in chosen})
        line = (f"{name:<9} {len(chosen):5d} {texts:5d} {wall:8.2f} {cpu:8.2f} {len(chosen) / cpu:13.0f} "
                f"{2 * len(chosen) / cpu:15.0f} {plain_cpu:13.2f} {plain_cpu / cpu:5.1f}x {str(graded == checked):>13}")
        if args.before:
            _wall, old_cpu, _graded, old_report = ours(path, args.workers, Path(args.before), "before")
            line += f" {old_cpu:14.2f} {2 * len(chosen) / old_cpu:15.0f} {str(old_report == report):>11}"
        print(line)


if __name__ == "__main__":
    main()
