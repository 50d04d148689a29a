"""Grade a whole class: read (id, answer) rows, check them in parallel, write a report.

Why processes: checking is CPU-bound Python; a pool uses every core, and each worker owns its
main thread, so the CPU-time limit (SIGPROF) works there too. Equal answer texts are checked once. One bad answer never stops the batch:
every row yields a record, and a worker crash becomes an "undecided" row, not an abort.
"""
from __future__ import annotations

import collections
import csv
import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from ..errors import UsageError

MAX_ROWS = 100_000


@dataclass(frozen=True)
class Row:
    id: str
    answer: str


@dataclass(frozen=True)
class Graded:
    id: str
    verdict: str
    mistake: str | None
    message: str
    evidence: str | None = None  # for "correct": proved-symbolic-K, proved-exact-K or numeric


def read_rows(path: Path) -> tuple:
    """Rows from a .csv (header with id and answer) or .jsonl file (one object per line)."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"id", "answer"} <= set(reader.fieldnames):
            raise UsageError(f"{path}: the CSV header must have the columns id and answer")
        rows = [Row(str(r.get("id") or ""), str(r.get("answer") or "")) for r in reader]
    elif suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise UsageError(f"{path}: line {number} is not JSON: {error.msg}") from None
            if not isinstance(record, dict):
                raise UsageError(f"{path}: line {number} must be an object with id and answer")
            rows.append(Row(str(record.get("id", "")), str(record.get("answer", ""))))
    else:
        raise UsageError(f"{path}: give a .csv or .jsonl file")
    if len(rows) > MAX_ROWS:
        raise UsageError(f"{path}: at most {MAX_ROWS} answers")
    return tuple(rows)


def grade_one(job: tuple) -> Graded:
    """Check one answer; never raises for a bad answer (that is what the report is for)."""
    target, row, seed, lang, declared, macros = job
    from .checker import check_answer
    from ..errors import DeriveError
    try:
        verdict = check_answer(row.answer, target=target, seed=seed, lang=lang, declared=declared,
                               macros=macros)
    except (DeriveError, RecursionError, MemoryError, ValueError, TypeError, ArithmeticError) as error:
        return Graded(row.id, "undecided", None, f"the checker failed on this answer: {error}")
    return Graded(row.id, verdict.verdict, verdict.mistake.id if verdict.mistake else None, verdict.message,
                  verdict.evidence.level if verdict.evidence else None)


def grade_all(rows: Iterable[Row], *, target: str, workers: int | None = None,
              progress: Callable[[int], None] | None = None, seed: int | None = None, lang: str = "en",
              declared: dict | None = None, macros: tuple = ()) -> tuple:
    """Results in input order, checked on all cores; `declared`, `macros`: the course's notation.
    One seed for the whole class (drawn fresh unless given), so equal answers get equal verdicts:
    each distinct answer text is checked once."""
    from .points import fresh_seed
    rows = tuple(rows)
    seed = fresh_seed() if seed is None else seed
    distinct = list(dict.fromkeys(row.answer for row in rows))
    jobs = [(target, Row("", answer), seed, lang, declared, macros) for answer in distinct]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 32 * workers:  # starting a worker costs about as much as 30 checks
        checked = [grade_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            checked = list(pool.map(grade_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    by_answer = dict(zip(distinct, checked))
    results = []
    for row in rows:
        results.append(replace(by_answer[row.answer], id=row.id))
        if progress:
            progress(1)
    return tuple(results)


def write_report(results: tuple, path: Path) -> None:
    """CSV for .csv, JSON for .json (a list of objects); the same five fields either way."""
    records = [{"id": r.id, "verdict": r.verdict, "mistake": r.mistake, "message": r.message, "evidence": r.evidence}
               for r in results]
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["id", "verdict", "mistake", "message", "evidence"])
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "mistake": record["mistake"] or "", "evidence": record["evidence"] or ""})
        text = buffer.getvalue()
    else:
        raise UsageError(f"{path}: the report must end in .csv or .json")
    from ..files import write_atomic
    write_atomic(path, text)


def summary(results: tuple) -> dict:
    verdicts = collections.Counter(r.verdict for r in results)
    mistakes = collections.Counter(r.mistake for r in results if r.mistake)
    return {"answers": len(results), "verdicts": dict(verdicts.most_common()), "mistakes": dict(mistakes.most_common())}
