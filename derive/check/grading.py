"""Grade a whole class: read (id, answer) rows, check them in parallel, write a report.

Why processes: checking is CPU-bound Python; a pool uses every core, and each worker owns its
main thread, so the CPU-time limit (SIGPROF) works there too. Equal answer texts are checked once.
One bad answer never stops the batch: every row yields a record (check_answer never raises for
an answer), and a worker that dies
(out of memory, a crash in C) costs only the answer it was checking, marked "undecided".

The input is streamed with stated caps (MAX_INPUT_CHARS, MAX_ROWS), so a huge file is refused
after reading at most that much; a malformed file is refused with the row where it goes wrong,
before anything is graded.
"""
from __future__ import annotations

import collections
import csv
import gc
import io
import json
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

from ..errors import UsageError

MAX_ROWS = 100_000
MAX_INPUT_CHARS = 64 * 1024 * 1024  # 100,000 answers of a few hundred characters fit many times over
WORKER_MEMORY_BYTES = 4 * 1024 ** 3  # a worker past this gets MemoryError (the answer's verdict), not the OOM killer
# Spreadsheets run a cell starting with these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REPORT_FIELDS = ["id", "verdict", "mistake", "message", "evidence"]
# Answers sent to a worker at a time: fewer round trips (at 8, the parent spent 0.05 CPU s of a
# 1,000-answer class sending and receiving; at 32, 0.025). A worker that dies loses its chunk; the
# first unfinished answer is then checked alone, so a killer answer is still found, one at a time.
CHUNK = 32


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
    """Rows from a .csv (header with id and answer; a UTF-8 byte-order mark is fine) or a .jsonl
    file (one object per line); UsageError naming the row for a malformed or oversized file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise UsageError(f"{path}: give a .csv or .jsonl file")
    try:
        # A byte that is not UTF-8 becomes U+FFFD: that row's answer is then invalid (an unexpected
        # character), and the rest of the class is still graded.
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            lines = _bounded_lines(handle, path)
            rows = tuple(_counted(_csv_rows(lines, path) if suffix == ".csv" else _jsonl_rows(lines, path), path))
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    return rows


def _bounded_lines(handle: TextIO, path: Path) -> Iterator[str]:
    """The file's lines, refusing it once more than MAX_INPUT_CHARS are read (a single line too)."""
    total = 0
    while line := handle.readline(MAX_INPUT_CHARS - total + 1):
        total += len(line)
        if total > MAX_INPUT_CHARS:
            raise UsageError(f"{path}: the file is larger than {MAX_INPUT_CHARS:,} characters")
        yield line


def _counted(rows: Iterator[Row], path: Path) -> Iterator[Row]:
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise UsageError(f"{path}: more than {MAX_ROWS:,} answers")
        yield row


def _csv_rows(lines: Iterator[str], path: Path) -> Iterator[Row]:
    csv.field_size_limit(MAX_INPUT_CHARS)  # the default (131,072) would refuse one long answer
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if not header or not {"id", "answer"} <= set(header):
            raise UsageError(f"{path}: the CSV header must have the columns id and answer")
        id_at, answer_at = header.index("id"), header.index("answer")
        number, start = 0, reader.line_num + 1
        for fields in reader:
            if fields:
                number += 1
                if len(fields) != len(header):
                    raise UsageError(f"{path}: row {number} (line {start}) has {len(fields)} fields, the header "
                                     f"{len(header)}; put an answer that contains a comma in double quotes")
                yield Row(fields[id_at], fields[answer_at])
            start = reader.line_num + 1
    except csv.Error as error:
        raise UsageError(f"{path}: row {number + 1} (line {start}) is not valid CSV: {error}") from None


def _jsonl_rows(lines: Iterator[str], path: Path) -> Iterator[Row]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            # Numbers stay text: an id of 5,000 digits is an id, not an int past Python's limit.
            record = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
        except json.JSONDecodeError as error:
            raise UsageError(f"{path}: line {number} is not JSON: {error.msg}") from None
        except RecursionError:
            raise UsageError(f"{path}: line {number} is nested too deeply") from None
        if not isinstance(record, dict):
            raise UsageError(f"{path}: line {number} must be an object with id and answer (text or numbers)")
        if record.get("answer", "") is None:
            record["answer"] = ""  # no answer given: that row is invalid (empty), not the whole file
        elif not isinstance(record.get("answer", ""), str):
            record["answer"] = json.dumps(record["answer"])  # a list or true: read as written, that row invalid
        if record.get("id") is None:
            record["id"] = f"line {number}"  # no id: the row is still graded, and named where it stands
        elif not isinstance(record["id"], str):
            record["id"] = json.dumps(record["id"], ensure_ascii=False)  # true, [1, 2]: the id as written
        yield Row(record["id"], record["answer"] if "answer" in record else "")


# This process's decisions in the current batch (see check_answer's memo); one per worker process.
_DECISIONS: dict = {}


def grade_one(job: tuple) -> Graded:
    """Check one answer; never raises for a bad answer (check_answer turns every failure into a verdict)."""
    target, row, seed, lang, declared, macros, case, classes = job
    from .checker import check_answer
    verdict = check_answer(row.answer, target=target, seed=seed, lang=lang, declared=declared, macros=macros,
                           case=case, classes=classes, memo=_DECISIONS, printed=False)
    return Graded(row.id, verdict.verdict, verdict.mistake.id if verdict.mistake else None, verdict.message,
                  verdict.evidence.level if verdict.evidence else None)


def _limit_worker_memory() -> None:
    """Pool initializer: a memory-hungry answer fails with MemoryError in its own check."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > WORKER_MEMORY_BYTES:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, hard))


def grade_all(rows: Iterable[Row], *, target: str, workers: int | None = None,
              progress: Callable[[int], None] | None = None, seed: int | None = None, lang: str = "en",
              declared: dict | None = None, macros: tuple = (), case: str | None = None,
              classes: int | None = None) -> tuple:
    """Results in input order, checked on all cores; `declared`, `macros`: the course's notation;
    `case`: the case the question asks for (i=j, i!=j, y_i=1), as `check --case`; `classes`: its number of
    classes, as `check --classes`.
    One seed for the whole class (drawn fresh unless given), so equal answers get equal verdicts:
    each distinct answer text is checked once. If a worker dies, the first unfinished answer is
    checked again on its own (undecided if that kills its worker too) and the rest go on."""
    from .points import fresh_seed
    rows = tuple(rows)
    seed = fresh_seed() if seed is None else seed
    distinct = list(dict.fromkeys(row.answer for row in rows))
    jobs = [(target, Row("", answer), seed, lang, declared, macros, case, classes) for answer in distinct]
    _DECISIONS.clear()  # a batch's decisions, not an earlier one's (the key holds the seed, this bounds memory)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 32 * workers:  # starting a worker costs about as much as 30 checks
        checked = [grade_one(job) for job in jobs]
    else:
        # Forked workers inherit what this process has loaded: read the target, the grammar and the
        # naming catalogue once here (with an answer of our own), import the verifier's rewriting that
        # proves right answers, and build the lexer states of the target's own question written out
        # (its left side = its result, as answers are written), instead of once per worker.
        grade_one((target, Row("", "0"), seed, lang, declared, macros, case, classes))
        from .proof import verifier
        verifier()
        from ..parse.parser import warm_lexer
        from ..render.printer import to_latex
        from .target import get
        goal = get(target)
        warm_lexer(f"{to_latex(goal.lhs)} = {to_latex(goal.result)}")
        checked = _forked_after_freezing(jobs, workers)
    by_answer = dict(zip(distinct, checked))
    results = []
    for row in rows:
        results.append(replace(by_answer[row.answer], id=row.id))
        if progress:
            progress(1)
    return tuple(results)


def _forked_after_freezing(jobs: list, workers: int) -> list:
    """_on_all_cores with what this process holds so far (SymPy, the target, the grammar: most of a
    worker's objects) out of the garbage collector's reach: a worker's full collection would otherwise
    walk them all, and write to every page that holds one, which the fork then copies (Python's
    gc.freeze documentation). Unfrozen afterwards, so this process collects them again."""
    gc.freeze()
    try:
        return _on_all_cores(jobs, workers)
    finally:
        gc.unfreeze()


def _on_all_cores(jobs: list, workers: int) -> list:
    checked: list[Graded] = []
    while len(checked) < len(jobs):
        try:
            with ProcessPoolExecutor(max_workers=workers, initializer=_limit_worker_memory) as pool:
                for graded in pool.map(grade_one, jobs[len(checked):], chunksize=CHUNK):
                    checked.append(graded)
        except BrokenProcessPool:
            checked.append(_alone(jobs[len(checked)]))
    return checked


def _alone(job: tuple) -> Graded:
    try:
        with ProcessPoolExecutor(max_workers=1, initializer=_limit_worker_memory) as pool:
            return pool.submit(grade_one, job).result()
    except BrokenProcessPool:
        return Graded(job[1].id, "undecided", None,
                      "Undecided: the process checking this answer died (out of memory?); it is not judged.")


def report_format(path: Path) -> str:
    """"csv" or "json" by the report's extension; UsageError otherwise (checked before grading)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "json"):
        raise UsageError(f"{path}: the report must end in .csv or .json")
    return suffix


def neutralised(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading ' (OWASP)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def write_report(results: tuple, path: Path) -> None:
    """CSV for .csv, JSON for .json (a list of objects); the same five fields either way."""
    write_records([{"id": r.id, "verdict": r.verdict, "mistake": r.mistake, "message": r.message,
                    "evidence": r.evidence} for r in results], REPORT_FIELDS, path)


def write_records(records: list, fields, path: Path) -> None:
    """A report of `records` (dicts over `fields`): JSON for .json; CSV for .csv, every cell quoted and
    formula-like cells neutralised. Written atomically: an interrupted run leaves the old report or
    none, never half of one. Shared by `grade` and `grade-code`."""
    if report_format(path) == "json":
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(fields), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for record in records:
            writer.writerow({key: neutralised("" if record[key] is None else str(record[key])) for key in fields})
        text = buffer.getvalue()
    from ..files import write_atomic
    # An id read from JSON may hold a lone surrogate ("\ud800"), which UTF-8 cannot encode: it is
    # written as that escape, so one odd id never costs the class its report.
    write_atomic(path, text.encode("utf-8", "backslashreplace"))


def summary(results: tuple) -> dict:
    verdicts = collections.Counter(r.verdict for r in results)
    mistakes = collections.Counter(r.mistake for r in results if r.mistake)
    return {"answers": len(results), "verdicts": dict(verdicts.most_common()), "mistakes": dict(mistakes.most_common())}
