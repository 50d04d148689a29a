"""Grading a class: CSV and JSONL in, report and summary out; one bad answer never stops the batch."""
from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from derive.check.grading import Row, grade_all
from derive.cli_app import main

ANSWERS = [
    ("alice", r"\sigma_i - y_i"),
    ("bob", r"\sigma_i - 1"),
    ("carol", "__import__('os')"),
    ("dave", ""),
    ("erin", r"p - y"),
    ("frank", r"-\frac{y_i}{\sigma_i}"),
]


def test_grade_csv_writes_a_report_and_a_summary(tmp_path):
    source = tmp_path / "class.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "answer"])
        writer.writerows(ANSWERS)
    report = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["grade", "--target", "cross-entropy-gradient", "--workers", "2",
                                       "--report", str(report), str(source)])
    assert result.exit_code == 0, result.output
    records = json.loads(report.read_text())
    assert [r["id"] for r in records] == [a for a, _ in ANSWERS]
    assert [r["verdict"] for r in records] == ["correct", "incorrect", "invalid", "invalid", "correct", "incorrect"]
    assert [r["mistake"] for r in records][:2] == [None, "true-class-only"]
    assert "correct    2" in result.output and "true-class-only" in result.output


def test_grade_jsonl_default_report_is_csv(tmp_path):
    source = tmp_path / "class.jsonl"
    source.write_text("\n".join(json.dumps({"id": a, "answer": b}) for a, b in ANSWERS) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "--target", "cross-entropy-gradient", str(source)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "class.report.csv").open(encoding="utf-8")))
    assert {r["id"]: r["verdict"] for r in rows}["frank"] == "incorrect"
    assert list(rows[0]) == ["id", "verdict", "mistake", "message", "evidence"]


def test_grade_refuses_a_file_without_the_columns(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("name,text\nx,y\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "--target", "softmax-jacobian", str(source)])
    assert result.exit_code == 2 and "id and answer" in result.stderr


def test_grade_all_in_process_keeps_order():
    rows = [Row(str(n), r"\delta_{ij} - \sigma_j" if n % 2 else "((") for n in range(5)]
    results = grade_all(rows, target="log-softmax-jacobian", workers=1)
    assert [r.verdict for r in results] == ["invalid", "correct", "invalid", "correct", "invalid"]


def test_grade_and_check_agree_on_every_answer_of_a_class():
    """The class file's answers, each also in spellings that read the same, on two worker processes
    (shared decisions, chunks, a warmed parent): every record is what a fresh `check` of that text says."""
    from pathlib import Path

    from derive.check import check_answer
    path = Path(__file__).resolve().parent.parent / "examples" / "class-1000.csv"
    texts = list(dict.fromkeys(row["answer"] for row in csv.DictReader(open(path, newline="", encoding="utf-8"))))
    variants = [text for answer in texts for text in (answer, f" {answer} ", f"{answer} + 0", f"{answer} + 2^{{-1}} - 0.5")]
    rows = [Row(f"s{n}", text) for n, text in enumerate(variants)]
    assert len(rows) >= 64  # enough for the pool (see grade_all)
    graded = grade_all(rows, target="cross-entropy-gradient", workers=2, seed=7)
    for row, record in zip(rows, graded):
        alone = check_answer(row.answer, target="cross-entropy-gradient", seed=7)
        assert record.id == row.id and (record.verdict, record.message) == (alone.verdict, alone.message)
        assert record.mistake == (alone.mistake.id if alone.mistake else None), row.answer
        assert record.evidence == (alone.evidence.level if alone.evidence else None), row.answer


def test_the_workers_fork_with_the_verifiers_rewriting_imported(monkeypatch):
    """Each worker would import the rewriting that proves right answers at its first such answer: the
    parent imports it once, before the pool starts."""
    from derive.check import grading, proof
    events = []
    imported = proof.verifier
    monkeypatch.setattr(proof, "verifier", lambda: events.append("verifier") or imported())
    monkeypatch.setattr(grading, "_on_all_cores",
                        lambda jobs, workers: events.append("pool") or [grading.grade_one(job) for job in jobs])
    rows = [Row(str(n), f"(( {n}") for n in range(64)]  # 64 distinct texts: enough for the pool
    assert [r.verdict for r in grade_all(rows, target="cross-entropy-gradient", workers=2, seed=7)] == ["invalid"] * 64
    assert events == ["verifier", "pool"]


def test_the_workers_fork_with_the_lexer_states_of_the_targets_question_built(monkeypatch):
    """lark builds a parser state's scanner at its first use: the parent parses the target's question
    written out (its left side = its result) before the pool starts, so the workers inherit them."""
    from derive.check import grading
    from derive.parse import parser
    built = []
    monkeypatch.setattr(grading, "_on_all_cores",
                        lambda jobs, workers: built.append(_scanners_built()) or [grading.grade_one(job) for job in jobs])
    parser.grammar.cache_clear()  # a grammar whose scanners are all still to be built
    rows = [Row(str(n), f"(( {n}") for n in range(64)]  # 64 distinct texts: enough for the pool
    grade_all(rows, target="cross-entropy-gradient", workers=2, seed=7)
    before = _scanners_built()
    parser.parse_line(r"\frac{\partial L}{\partial z_i} = \sigma_i - y_i")  # a right answer: no new state
    assert built[0] >= 10 and _scanners_built() == before


def _scanners_built() -> int:
    from derive.parse.parser import grammar
    lexers = grammar().parser.lexer.lexers.values()
    return len({id(lexer) for lexer in lexers if lexer._scanner is not None})


def test_the_workers_fork_from_a_frozen_heap_and_grade_unfreezes_it(monkeypatch):
    """The pool starts with the parent's objects frozen (a worker's collections skip them), and grade_all
    leaves nothing frozen behind."""
    import gc

    from derive.check import grading
    frozen_at_fork = []
    def in_process(jobs, workers):
        frozen_at_fork.append(gc.get_freeze_count())
        return [grading.grade_one(job) for job in jobs]
    monkeypatch.setattr(grading, "_on_all_cores", in_process)
    rows = [Row(str(n), f"(( {n}") for n in range(64)]  # 64 distinct texts: enough for the pool
    results = grade_all(rows, target="cross-entropy-gradient", workers=2, seed=7)
    assert [r.verdict for r in results] == ["invalid"] * 64
    assert frozen_at_fork and frozen_at_fork[0] > 1000
    assert gc.get_freeze_count() == 0


def test_grade_takes_the_question_s_number_of_classes(tmp_path):
    """grade --classes: a sum to another number of classes is class-count, as check --classes says."""
    from click.testing import CliRunner
    from derive.cli_app import main
    answers = tmp_path / "mnist.jsonl"
    answers.write_text('{"id": "ten", "answer": "-\\\\sum_{k=1}^{10} y_k (\\\\delta_{ik} - \\\\sigma_i)"}\n'
                       '{"id": "nine", "answer": "-\\\\sum_{k=1}^{9} y_k (\\\\delta_{ik} - \\\\sigma_i)"}\n', encoding="utf-8")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["grade", "--target", "cross-entropy-gradient", "--classes", "10", "--seed", "1",
                                       "--report", str(report), str(answers)])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(report.read_text(encoding="utf-8"))}
    assert rows["ten"]["verdict"] == "correct" and rows["nine"]["mistake"] == "class-count"
