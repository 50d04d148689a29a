"""Hostile input: each answered with exit 2 or 3 (or 1 for a well-formed wrong answer), one line
on stderr, never a traceback or a hang. Reading is bounded by counts (digits, root order, sizes),
so the expected codes hold on any machine; the time assertions are only generous safety nets."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.cli_app import main
from derive.check import check_answer

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    ("__import__('os').system('x')", {2}),
    ("().__class__", {2}),
    ("sigma.__class__.__bases__", {2}),
    ("9^{9^{9^9}}", {2}),
    ("((9^9)^{9999})^{9999}", {2}),
    ("1e999999", {2}),
    ("(10^6)!", {2}),
    ("(" * 3000 + "1" + ")" * 3000, {2}),
    ("1+" * 50_000 + "1", {2}),
    (r"\input{/etc/passwd}", {2}),
    (r"\write18{touch /tmp/pwned}", {2}),
    (r"\def\a{\a}\a", {2}),
    ("<img src=x onerror=alert(1)>", {2}),
    ("σ_i\x00", {2}),
    ("\u202eσ_i - y_i", {2}),
    ("р_i - у_i", {2}),
    ("1/0", {2}),
    (r"\frac{1}{\sigma_i - \sigma_i}", {2}),
    ("", {2}),
    ("pp", {2}),  # found by fuzzing: two column vectors once became a MatPow the evaluator cannot run
    ("0·z", {3}),  # found by fuzzing: a zero vector is read but cannot be evaluated: undecided, never correct
    (r"\sum_a \sum_l \sum_c \sum_m \sum_f \sigma_a \sigma_l \sigma_c \sigma_m \sigma_f", {2}),
    (r"\sum_a \sum_l \sum_c \sigma_a \sigma_l \sigma_c \frac{\partial}{\partial z_i} (\frac{\partial}{\partial z_i} \sigma_i)", {1, 3}),
    (r"e^{690} \sigma_i", {1}),
    (r"\sigma_i^{1000} - y_i", {1}),
    (r"\log(\sigma_i - \sigma_i + 0)", {1, 2}),
    # issue 13: reading once took 69 s (a millionth root), gigabytes (digits), or raised
    ("0.999999^{0.999999}", {2}),
    (r"(999999\sigma_i)^{0.999999}", {2}),
    ("((0.5^{1000})^{1000})^{1000}", {2}),
    ("0.000001^{999}", {2}),
    ("999999" + r"\cdot 999999" * 200, {2}),
    ("Ye^b", {2}),
    (r"\frac{\partial \sigma_i}{\partial u}", {1, 2, 3}),
    (r"\frac{\partial L}{\partial z_9}", {1, 2, 3}),
    (r"\frac{\partial}{\partial z_j}\frac{\partial L}{\partial z_i}", {0, 1, 2, 3}),
    # found by fuzzing the building stage (tests/test_build_fuzz.py): SymPy's IndexException
    (r"\sum_k \frac{\partial}{\partial x_d}\frac{\partial 0.5}{\partial z}", {2}),
]
SAFETY_NET_SECONDS = 60  # far above any real check: it only catches a hang


def _run(answer):
    return CliRunner().invoke(main, ["check", "--target", "cross-entropy-gradient", "--", answer])


@pytest.mark.parametrize("answer, codes", HOSTILE)
def test_hostile_answer_is_answered_with_one_line(answer, codes):
    start = time.perf_counter()
    result = _run(answer)
    assert time.perf_counter() - start < SAFETY_NET_SECONDS
    assert result.exit_code in codes, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 1:  # a verdict, not an exception's exit status
        assert result.stdout.startswith("INCORRECT")
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


def test_column_is_named_for_a_bad_character():
    result = _run("σ_i - \u202e y_i")
    assert "U+202E" in result.stderr and "column 7" in result.stderr


@pytest.mark.parametrize("answer", ["\u202eσ_i - y_i", "(" * 3000, r"\input{x}", "9^{9^{9^9}}", "1e999999",
                                    "0.999999^{0.999999}"])
def test_real_process_one_line_no_traceback(answer):
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", "--target", "softmax-jacobian", "--", answer],
                          capture_output=True, text=True, timeout=SAFETY_NET_SECONDS, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_an_unexpected_exception_becomes_the_answers_verdict(monkeypatch):
    """The edge in check_answer: a bug while judging is "undecided" with a note, never a traceback."""
    from derive.check import checker

    def broken(*_args, **_kwargs):
        raise KeyError("u")
    monkeypatch.setattr(checker, "_judge", broken)
    verdict = checker.check_answer(r"\sigma_i - y_i", target="cross-entropy-gradient")
    assert verdict.verdict == "undecided" and "Internal error while checking" in verdict.message
    monkeypatch.setattr(checker, "_read", broken)
    verdict = checker.check_answer(r"\sigma_i - y_i", target="cross-entropy-gradient")
    assert verdict.verdict == "invalid" and "Internal error while reading" in verdict.message


def test_reading_shares_the_time_limit(monkeypatch):
    """A reading that outlasts the budget is undecided (the SIGALRM net), not a hang."""
    from derive.check import checker

    def slow(*_args, **_kwargs):
        for _ in range(10**9):  # stopped by the timer long before the end
            pass
    monkeypatch.setattr(checker, "_read", slow)
    verdict = checker.check_answer("1", target="softmax-jacobian", seconds=0.2)
    assert verdict.verdict == "undecided" and "reading" in verdict.message


# --- notation input -----------------------------------------------------------------------------

def _generate(*args):
    return CliRunner().invoke(main, ["generate", "softmax-jacobian", "-o", "-", *args])


@pytest.mark.parametrize("symbol", [r"probs=\mathbf", r"probs=\hat", r"probs=\operatorname", r"loss=\mathcal",
                                    "probs={}", r"probs=\hat{}", r"probs=\mathbf{\hat}"])
def test_a_symbol_must_be_a_complete_atom(symbol):
    result = _generate("--symbol", symbol)
    assert result.exit_code == 2 and "not a complete LaTeX symbol" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("symbol", [r"loss=\mathcal{L}", r"probs=\hat{y}", r"probs=\hat y", "probs=p'",
                                    r"loss=\operatorname{CE}", r"probs=\tilde{\mathbf{p}}"])
def test_complete_atoms_are_accepted(symbol):
    from derive.render.notation_input import notation_from
    notation_from(flags=[symbol])


@pytest.mark.parametrize("content, message", [
    ("a = " + "[\n" * 10_000 + "]\n" * 10_000, "nests brackets"),  # tomllib would recurse 10,000 deep
    ("a." * 30_000 + "b = 1", "line longer"),
    ("# x\n" * 20_000, "longer than"),
], ids=["nested", "dotted", "long"])
def test_a_hostile_notation_file_is_refused_before_parsing(tmp_path, content, message):
    path = tmp_path / "n.toml"
    path.write_text(content, encoding="utf-8")
    result = _generate("--notation", str(path))
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_an_endless_notation_file_is_read_only_up_to_the_cap():
    result = _generate("--notation", "/dev/zero")
    assert result.exit_code == 2 and "longer than" in result.stderr


@pytest.mark.parametrize("answer, target, verdict, words", [
    (r"\frac{\partial \sigma_i}{\partial u}", "softmax-jacobian", "undecided", "u, which is not an input"),
    (r"\frac{\partial L}{\partial z_9}", "cross-entropy-gradient", "incorrect", "restates the question"),  # entry 9
    (r"\frac{\partial}{\partial z_j}\frac{\partial L}{\partial z_i} = \sigma_i(\delta_{ij}-\sigma_j)",
     "cross-entropy-hessian", "correct", "Evidence"),
    (r"\frac{\partial}{\partial z_j}\frac{\partial L}{\partial z_i} = \sigma_i(\delta_{ij}+\sigma_j)",
     "cross-entropy-hessian", "incorrect", "H_{ij}"),
])
def test_derivatives_the_question_has_no_input_for_and_mixed_partials(answer, target, verdict, words):
    """Once internal errors (KeyError, IndexError, the printer's ValueError): now a reasoned verdict."""
    result = check_answer(answer, target=target)
    assert result.verdict == verdict and words in result.message
    assert "Internal error" not in result.message
