"""`grade` under hostile or careless input: the batch is never lost, the file is refused by row
before grading when it is malformed, and the report cannot run formulas in a spreadsheet."""
from __future__ import annotations

import csv
import json
import os

import pytest
from click.testing import CliRunner

from derive.check import grading
from derive.check.grading import Graded, Row, grade_all, neutralised, read_rows
from derive.cli_app import main

RIGHT = r"\sigma_i - y_i"


def _grade(path, *extra):
    return CliRunner().invoke(main, ["grade", "--target", "cross-entropy-gradient", "--workers", "1",
                                     *extra, str(path)])


def _one_line_exit_2(result, *words):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert all(word in result.stderr for word in words), result.stderr


def test_a_byte_order_mark_is_accepted(tmp_path):
    source = tmp_path / "excel.csv"
    source.write_text(f"id,answer\nalice,{RIGHT}\n", encoding="utf-8-sig")
    assert read_rows(source) == (Row("alice", RIGHT),)


@pytest.mark.parametrize("content, words", [
    (f'id,answer\na,{RIGHT}\nb,"\\sigma_i\n', ["row 2 (line 3)", "not valid CSV"]),
    ("id,answer\na,\\sigma_i(1, 2)\n", ["row 1 (line 2)", "3 fields", "double quotes"]),
    ("name,text\nx,y\n", ["id and answer"]),
], ids=["unterminated-quote", "unquoted-comma", "no-header"])
def test_a_malformed_csv_is_refused_with_its_row(tmp_path, content, words):
    source = tmp_path / "bad.csv"
    source.write_text(content, encoding="utf-8")
    _one_line_exit_2(_grade(source), *words)
    assert not (tmp_path / "bad.report.csv").exists()


def test_a_field_over_the_csv_default_limit_is_one_invalid_answer(tmp_path):
    source = tmp_path / "long.csv"
    source.write_text(f"id,answer\nlong,{'x' * 131_073}\nok,{RIGHT}\n", encoding="utf-8")
    result = _grade(source, "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    verdicts = [r["verdict"] for r in json.loads((tmp_path / "r.json").read_text())]
    assert verdicts == ["invalid", "correct"]


@pytest.mark.parametrize("line, words", [
    ("[" * 100_000 + "]" * 100_000, ["line 2", "nested too deeply"]),
    ('["a"]', ["line 2", "object with id and answer"]),
    ("{oops", ["line 2", "not JSON"]),
], ids=["deep", "not-an-object", "not-json"])
def test_a_malformed_jsonl_line_is_refused_with_its_number(tmp_path, line, words):
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps({"id": "a", "answer": RIGHT}) + "\n" + line + "\n", encoding="utf-8")
    _one_line_exit_2(_grade(source), *words)


def test_a_numeric_id_of_5000_digits_stays_text(tmp_path):
    source = tmp_path / "ids.jsonl"
    source.write_text('{"id": ' + "7" * 5000 + ', "answer": "\\\\sigma_i - y_i"}\n', encoding="utf-8")
    assert read_rows(source) == (Row("7" * 5000, RIGHT),)


def test_the_row_cap_stops_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "MAX_ROWS", 3)
    source = tmp_path / "many.csv"
    source.write_text("id,answer\n" + "".join(f"{n},x\n" for n in range(10)), encoding="utf-8")
    _one_line_exit_2(_grade(source), "more than 3 answers")


def test_the_size_cap_stops_reading_even_within_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "MAX_INPUT_CHARS", 1000)
    source = tmp_path / "huge.jsonl"
    source.write_text('{"id": "a", "answer": "' + "x" * 5000 + '"}\n', encoding="utf-8")
    _one_line_exit_2(_grade(source), "larger than 1,000 characters")


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert neutralised(cell) == "'" + cell


def test_the_csv_report_neutralises_every_formula_cell(tmp_path):
    source = tmp_path / "inject.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "answer": RIGHT}) for i in ("=1+1", "@x", "ok")) + "\n",
                      encoding="utf-8")
    assert _grade(source).exit_code == 0
    rows = list(csv.DictReader((tmp_path / "inject.report.csv").open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["'=1+1", "'@x", "ok"]


@pytest.mark.parametrize("report, words", [
    ("out.txt", [".csv or .json"]),
    ("missing-dir-is-a-file.csv/out.csv", ["cannot write"]),
    ("class.csv", ["overwrite the answers"]),
], ids=["extension", "parent-is-a-file", "same-as-input"])
def test_the_report_path_is_checked_before_grading(tmp_path, monkeypatch, report, words):
    def never(*_args, **_kwargs):
        raise AssertionError("graded before the report path was checked")
    monkeypatch.setattr(grading, "grade_one", never)
    source = tmp_path / "class.csv"
    source.write_text(f"id,answer\na,{RIGHT}\n", encoding="utf-8")
    (tmp_path / "missing-dir-is-a-file.csv").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "--target", "cross-entropy-gradient", "--workers", "1",
                                       "--report", str(tmp_path / report), str(source)])
    _one_line_exit_2(result, *words)


def _dies_on_poison(job):
    """A grade_one whose worker dies on one answer, as a worker killed by the OOM killer would."""
    row = job[1]
    if row.answer == "poison":
        os._exit(1)
    return Graded(row.id, "correct", None, "fine")


def test_a_dead_worker_costs_only_its_answer(monkeypatch):
    # Pool workers are forked (Linux), so they see this replacement too.
    monkeypatch.setattr(grading, "grade_one", _dies_on_poison)
    count = 32 * 2 + 6  # enough distinct answers for grade_all to start worker processes
    rows = [Row(str(n), "poison" if n == 3 else f"fine {n}") for n in range(count)]
    results = grade_all(rows, target="cross-entropy-gradient", workers=2)
    assert [r.id for r in results] == [str(n) for n in range(count)]
    assert results[3].verdict == "undecided" and "died" in results[3].message
    assert all(r.verdict == "correct" for n, r in enumerate(results) if n != 3)


def test_a_bug_in_one_check_is_that_answers_verdict(monkeypatch):
    from derive.check import checker

    def broken(*_args, **_kwargs):
        raise ValueError("too many values to unpack (expected 1)")
    monkeypatch.setattr(checker, "_judge", broken)
    results = grade_all([Row("a", RIGHT), Row("b", "((")], target="cross-entropy-gradient", workers=1)
    assert [r.verdict for r in results] == ["undecided", "invalid"]


@pytest.mark.parametrize("report", ["report.csv", "report.json"])
def test_an_id_with_a_lone_surrogate_does_not_cost_the_class_its_report(tmp_path, report):
    """JSON may escape a lone surrogate ("\\ud800"), which UTF-8 cannot encode: the report keeps it
    as that escape and every other row, instead of failing after all the checking."""
    source = tmp_path / "odd.jsonl"
    source.write_text('{"id": "2\\ud800", "answer": "\\\\sigma_i - y_i"}\n'
                      '{"id": "bob", "answer": "\\\\sigma_i + y_i"}\n', encoding="utf-8")
    result = _grade(source, "--report", str(tmp_path / report))
    assert result.exit_code == 0, result.output
    written = (tmp_path / report).read_text(encoding="utf-8")
    assert "2\\ud800" in written and "bob" in written


def test_macros_that_feed_each_other_stop_at_the_length_limit():
    """--macro pairs apply in turn, so each may multiply the last one's text: the length is checked
    after every one, before the text can grow to gigabytes."""
    from derive.check import check_answer
    macros = tuple(f"\\{a}=" + f"\\{b}" * 20 for a, b in zip("abcdefg", "bcdefgh")) + ("\\h=\\sigma_i",)
    verdict = check_answer("\\a", target="cross-entropy-gradient", macros=macros, seed=1)
    assert verdict.verdict == "invalid" and "too long" in verdict.message


def test_an_id_that_is_not_text_costs_nothing_and_a_missing_one_names_the_line(tmp_path):
    """Red team, rounds 3 and 4: an id null, true, a list or an object refused the whole file."""
    jsonl = tmp_path / "ids.jsonl"
    jsonl.write_text('{"id": null, "answer": "\\\\sigma_i - y_i"}\n{"id": true, "answer": "1"}\n'
                     '{"id": [1, 2], "answer": "1"}\n{"id": {"a": 1}, "answer": "1"}\n{"answer": "1"}\n'
                     '{"id": "ok", "answer": "\\\\sigma_i - y_i"}\n', encoding="utf-8")
    rows = read_rows(jsonl)
    assert [row.id for row in rows] == ["line 1", "true", '["1", "2"]', '{"a": "1"}', "line 5", "ok"]  # numbers kept as text
    result = _grade(jsonl, "--report", str(tmp_path / "ids.json"))
    assert result.exit_code == 0, result.output
    verdicts = {row["id"]: row["verdict"] for row in json.loads((tmp_path / "ids.json").read_text(encoding="utf-8"))}
    assert verdicts["line 1"] == "correct" and verdicts["ok"] == "correct" and len(verdicts) == 6


def test_a_missing_answer_or_a_byte_that_is_not_utf8_costs_only_its_own_row(tmp_path):
    jsonl = tmp_path / "null.jsonl"
    jsonl.write_text('{"id": "ann", "answer": null}\n{"id": "bob", "answer": "\\\\sigma_i - y_i"}\n'
                     '{"id": "eve", "answer": ["a"]}\n{"id": "fay", "answer": true}\n', encoding="utf-8")
    assert read_rows(jsonl) == (Row("ann", ""), Row("bob", RIGHT), Row("eve", '["a"]'), Row("fay", "true"))
    result = _grade(jsonl, "--report", str(tmp_path / "null.json"))
    assert result.exit_code == 0, result.output
    verdicts = {row["id"]: row["verdict"] for row in json.loads((tmp_path / "null.json").read_text(encoding="utf-8"))}
    assert verdicts == {"ann": "invalid", "bob": "correct", "eve": "invalid", "fay": "invalid"}
    csv_file = tmp_path / "latin1.csv"
    csv_file.write_bytes(b"id,answer\ncat,\\sigma_i - y_i \xe9\ndan,\\sigma_i - y_i\n")
    result = _grade(csv_file, "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    verdicts = {row["id"]: row["verdict"] for row in json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))}
    assert verdicts == {"cat": "invalid", "dan": "correct"}
