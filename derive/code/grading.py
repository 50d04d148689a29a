"""grade-code: check one code file per student in a directory; CSV/JSON report and Gradescope results.json.

Why Gradescope's schema: its autograder reads results/results.json ({"score", "output", "tests": [...]})
for each submission, so one file per student drops into that pipeline unchanged.
"""
from __future__ import annotations

import collections
import json
from dataclasses import dataclass
from pathlib import Path

from ..check.grading import write_records
from ..errors import UsageError
from ..files import write_atomic
from .api import check_file

FIELDS = ("student", "file", "verdict", "static", "unstable", "mistake", "message")


@dataclass(frozen=True)
class Graded:
    student: str
    file: str
    verdict: str
    static: bool
    unstable: bool
    mistake: str
    message: str

    def record(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}


def submissions(directory: Path) -> list:
    """(student, file): DIR/alice.py, or DIR/alice/<the only .py file>; sorted by student."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    found = [(path.stem, path) for path in directory.glob("*.py")]
    for folder in (p for p in directory.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.py"))
        if len(files) == 1:
            found.append((folder.name, files[0]))
    if not found:
        raise UsageError(f"{directory} holds no .py submissions")
    return sorted(found)


def grade_directory(directory: Path, *, target: str, name: str | None = None, run: bool = False,
                    signature: dict | None = None, seed: int | None = None, progress=None) -> tuple:
    """Every submission checked at the same cases: pass one seed (None draws a fresh one per file)."""
    out = []
    for student, path in submissions(directory):
        try:
            verdict = check_file(str(path), target=target, name=name, run=run, signature=signature, seed=seed)
            graded = Graded(student, str(path), verdict.verdict, verdict.static, verdict.unstable,
                            verdict.mistake.id if verdict.mistake else "", verdict.message)
        except UsageError as error:  # one student's file cannot be checked: reported, the class goes on
            graded = Graded(student, str(path), "unreadable", True, False, "", str(error))
        out.append(graded)
        if progress:
            progress(1)
    return tuple(out)


def write_report(results: tuple, path: Path) -> None:
    """The class report, CSV or JSON by extension, in the same form as `grade`'s."""
    write_records([r.record() for r in results], FIELDS, path)


def gradescope(result: Graded, target: str) -> dict:
    """One submission in Gradescope's autograder results.json schema."""
    passed = result.verdict == "correct"
    output = result.message + (f" Mistake: {result.mistake}." if result.mistake else "")
    return {"score": 1.0 if passed else 0.0, "output": output, "visibility": "visible",
            "tests": [{"name": f"backward pass against {target}", "score": 1.0 if passed else 0.0, "max_score": 1.0,
                       "status": "passed" if passed else "failed", "output": output}]}


def write_gradescope(results: tuple, directory: Path, target: str) -> None:
    for result in results:
        write_atomic(directory / result.student / "results.json",
                     json.dumps(gradescope(result, target), ensure_ascii=False, indent=1) + "\n")


def summary(results: tuple) -> dict:
    verdicts = collections.Counter(r.verdict for r in results)
    mistakes = collections.Counter(r.mistake for r in results if r.mistake)
    return {"submissions": len(results), "verdicts": dict(verdicts.most_common()),
            "mistakes": dict(mistakes.most_common())}
