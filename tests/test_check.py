"""Verdicts and named mistakes for each target, line-by-line checking, and the JSON contract."""
from __future__ import annotations

import json

import pytest

from derive.check import check_answer
from derive.check.mistakes import EXPLANATIONS

SJ, LSJ, CE = "softmax-jacobian", "log-softmax-jacobian", "cross-entropy-gradient"

TABLE = [
    # softmax Jacobian: notations that are right, including the symmetry trap
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j)", "correct", None),
    (SJ, r"\sigma_j(\delta_{ij}-\sigma_i)", "correct", None),
    (SJ, r"S_i(\delta_{ij}-S_j)", "correct", None),
    (SJ, r"p_i\,(\mathbb{1}[i=j] - p_j)", "correct", None),
    (SJ, r"\hat{y}_i([i=j] - \hat{y}_j)", "correct", None),
    (SJ, "σ_i(δ_{ij} − σ_j)", "correct", None),
    (SJ, r"sigma_i*(delta(i,j) - sigma_j)", "correct", None),
    (SJ, r"\sigma_i\delta_{ij} - \sigma_i\sigma_j", "correct", None),
    (SJ, r"\frac{\partial \sigma_i}{\partial z_j} = \sigma_i(\delta_{ij}-\sigma_j)", "correct", None),
    (SJ, r"\frac{\partial \sigma_j}{\partial z_i} = \sigma_j(\delta_{ij}-\sigma_i)", "correct", None),
    (SJ, r"\operatorname{diag}(\sigma) - \sigma\sigma^\top", "correct", None),
    (SJ, r"\begin{cases} \sigma_i(1-\sigma_i) & i = j \\ -\sigma_i\sigma_j & i \neq j \end{cases}", "correct", None),
    (SJ, r"\frac{e^{z_i}}{\sum_k e^{z_k}}(\delta_{ij} - \frac{e^{z_j}}{\sum_m e^{z_m}})", "correct", None),
    # softmax Jacobian: mistakes
    (SJ, r"-\sigma_i(\delta_{ij}-\sigma_j)", "incorrect", "sign"),
    (SJ, r"\sigma_i(\delta_{ij}+\sigma_j)", "incorrect", "term-sign"),
    (SJ, r"\sigma_i(1-\sigma_j)", "incorrect", "missing-delta"),
    (SJ, r"\sigma_i(1-\sigma_i)", "incorrect", "diagonal-only"),
    (SJ, r"-\sigma_i\sigma_j", "incorrect", "off-diagonal-only"),
    (SJ, r"2\sigma_i(\delta_{ij}-\sigma_j)", "incorrect", "scale"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_i)", "incorrect", "index-slip"),
    (SJ, r"\delta_{ij}-\sigma_j", "incorrect", "missing-factor"),
    (SJ, r"e^{z_i}(\delta_{ij}-e^{z_j})", "incorrect", "unnormalized"),
    (SJ, r"\sigma_i", "incorrect", "not-differentiated"),
    (SJ, r"\frac{\partial \sigma_i}{\partial z_j}", "incorrect", "not-differentiated"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + 10^{-12}", "incorrect", "spurious-term"),
    (SJ, r"\sigma_i - y_i", "incorrect", "other-target"),
    # right for one case only (mse945871 states the diagonal alone, then the other case apart)
    (SJ, r"\frac{\partial p_j}{\partial o_i} = p_i(1 – p_i),\quad i = j", "incorrect", "case-missing"),
    # log-softmax Jacobian
    (LSJ, r"\delta_{ij}-\sigma_j", "correct", None),
    (LSJ, r"\mathbb{1}_{i=j} - \mathrm{softmax}(z)_j", "correct", None),
    (LSJ, r"\frac{\partial}{\partial z_j} \log \sigma_i", "incorrect", "not-differentiated"),
    (LSJ, r"\sigma_j - \delta_{ij}", "incorrect", "sign"),
    (LSJ, r"\delta_{ij}+\sigma_j", "incorrect", "term-sign"),
    (LSJ, r"1-\sigma_j", "incorrect", "missing-delta"),
    (LSJ, r"\delta_{ij}-\sigma_i", "incorrect", "index-slip"),
    (LSJ, r"\sigma_i(\delta_{ij}-\sigma_j)", "incorrect", "other-target"),
    (LSJ, r"\delta_{ij}-e^{z_j}", "incorrect", "unnormalized"),
    # cross-entropy gradient
    (CE, r"\sigma_i - y_i", "correct", None),
    (CE, r"p_i - t_i", "correct", None),
    (CE, r"p - y", "correct", None),
    (CE, r"\sigma_i \sum_k y_k - y_i", "correct", None),
    (CE, r"\frac{\partial L}{\partial z_i} = \mathrm{softmax}(z)_i - y_i", "correct", None),
    (CE, r"\frac{e^{z_i}}{\sum_k e^{z_k}} - y_i", "correct", None),
    (CE, r"\sigma_i - 1", "incorrect", "true-class-only"),
    (CE, r"-\frac{y_i}{\sigma_i}", "incorrect", "outer-derivative-only"),
    (CE, r"-y_i(1-\sigma_i)", "incorrect", "chain-rule-one-term"),
    (CE, r"y_i - \sigma_i", "incorrect", "sign"),
    (CE, r"\sigma_i + y_i", "incorrect", "term-sign"),
    (CE, r"\sigma_j - y_i", "incorrect", "index-slip"),
    (CE, r"e^{z_i} - y_i", "incorrect", "unnormalized"),
    (CE, r"-\sum_k y_k \log \sigma_k", "incorrect", "not-differentiated"),
    (CE, r"\sigma_i - y_i + \sigma_i", "incorrect", "spurious-term"),
    (CE, r"\sigma_i - y_i + 10^{-12}", "incorrect", "spurious-term"),
    (CE, r"\frac{1}{2}(\sigma_i - y_i)", "incorrect", "scale"),
    (CE, r"\ln \sigma_i", "incorrect", None),
    (CE, r"-y_i", "incorrect", "missing-term"),
    (CE, r"\sigma_i", "incorrect", "other-target"),  # right for logsumexp-gradient
    (CE, r"\sigma_i - 1 \quad \text{if } i = y", "incorrect", "case-missing"),  # y: the label, i its class
]


@pytest.mark.parametrize("target, answer, verdict, mistake_id", TABLE)
def test_verdict_table(target, answer, verdict, mistake_id):
    result = check_answer(answer, target=target)
    assert result.verdict == verdict, result.message
    assert (result.mistake.id if result.mistake else None) == mistake_id
    if verdict == "incorrect" and mistake_id not in ("not-differentiated", "case-missing"):
        assert result.counterexample is not None


# Mistakes that depend on what the question says (--classes): (target, answer, options, mistake id).
WITH_OPTIONS = [
    (CE, r"-\sum_{k=1}^{10} y_k (\delta_{ik} - p_i)", {"classes": 9}, "class-count"),  # MNIST's sum (ecomnet), 9 asked
]


@pytest.mark.parametrize("target, answer, options, mistake_id", WITH_OPTIONS)
def test_mistakes_named_by_the_question(target, answer, options, mistake_id):
    result = check_answer(answer, target=target, **options)
    assert result.verdict == "incorrect" and result.mistake.id == mistake_id, result.message


def test_every_mistake_id_is_exercised():
    assert {row[3] for row in TABLE if row[3]} | {row[3] for row in WITH_OPTIONS} == set(EXPLANATIONS)


def test_counterexample_is_readable_and_separates():
    result = check_answer(r"\sigma_i(1-\sigma_j)", target=SJ)
    c = result.counterexample
    assert (c.K, c.sigma_text) == (4, ("0.1", "0.2", "0.3", "0.4"))
    assert c.index("i") != c.index("j")  # the missing delta shows only off the diagonal
    assert c.expected == pytest.approx(-0.1 * 0.2) and c.got == pytest.approx(0.1 * 0.8)


DERIVATION = "\n".join([
    r"\frac{\partial L}{\partial z_i} &= \sum_k \frac{\partial L}{\partial \sigma_k}\frac{\partial \sigma_k}{\partial z_i} \\",
    r"&= \sum_k -\frac{y_k}{\sigma_k}\, \sigma_k(\delta_{ki} - \sigma_i) \\",
    r"&= -y_i + \sigma_i \sum_k y_k \\",
    r"&= \sigma_i + y_i",
])


def test_line_by_line_reports_the_first_wrong_line():
    result = check_answer(DERIVATION, target=CE)
    assert result.verdict == "incorrect" and result.first_wrong_line == 4
    assert [lv.verdict for lv in result.lines] == ["correct", "correct", "correct", "incorrect"]
    assert result.mistake.id == "term-sign"


def test_line_by_line_correct_derivation_and_lhs_alone():
    text = "\\frac{\\partial L}{\\partial z_i} =\n\\sum_k -y_k (\\delta_{ki} - \\sigma_i)\n\\sigma_i - y_i"
    result = check_answer(text, target=CE)
    assert result.verdict == "correct" and result.first_wrong_line is None
    assert [lv.line for lv in result.lines] == [1, 2, 3]


def test_wrong_middle_line_is_found_even_if_the_end_is_right():
    text = "\\sigma_i(\\delta_{ij} - \\sigma_j) \\\\\n= \\sigma_i\\delta_{ij} + \\sigma_i\\sigma_j \\\\\n= \\sigma_i(\\delta_{ij}-\\sigma_j)"
    result = check_answer(text, target=SJ)
    assert result.first_wrong_line == 2


def test_json_contract_keys_and_types():
    data = json.loads(json.dumps(check_answer(r"\sigma_i - 1", target=CE).to_dict()))
    assert list(data) == ["verdict", "interpretation", "message", "mistake", "counterexample", "lines",
                          "first_wrong_line", "reading", "evidence", "seed", "step", "hint"]
    assert data["evidence"] is None and isinstance(data["seed"], int)
    assert set(data["counterexample"]) == {"K", "i", "j", "z", "y", "expected", "got"}
    assert data["counterexample"]["j"] is None and len(data["counterexample"]["y"]) == data["counterexample"]["K"]
    assert set(data["mistake"]) == {"id", "explanation"}


def test_echo_names_index_roles_and_natural_log():
    result = check_answer(r"-\sum_k y_k \ln \sigma_k", target=CE)
    assert "free indices: none" in result.message and "summed: k" in result.message
    assert "natural logarithm" in result.message


def test_invalid_answer_is_a_verdict_not_an_exception():
    result = check_answer(r"\frac{e^{z_i}}{", target=SJ)
    assert result.verdict == "invalid" and result.exit_code == 2 and "not closed" in result.message


def test_a_sum_reusing_a_free_index_is_read_with_normal_scoping():
    """e^{z_i} / sum_i e^{z_i} as real notes write it: the sum's i is bound, the other i free."""
    result = check_answer(r"\frac{e^{z_i}}{\sum_i e^{z_i}} - y_i", target=CE, seed=3)
    assert result.verdict == "correct", result.message
    assert "The index i of a sum belongs to that sum alone" in result.message
    wrong = check_answer(r"\frac{e^{z_i}}{\sum_i e^{z_i}} + y_i", target=CE, seed=3)
    assert wrong.verdict == "incorrect", wrong.message


def test_time_limit_gives_undecided_never_correct():
    # Repeated: a warm check takes less than a scheduler tick, and while the SIGPROF timer is armed the
    # process's CPU clock moves only at ticks; the deadline reads the thread's clock, which does not.
    for _ in range(40):
        result = check_answer(r"\sigma_i(\delta_{ij}-\sigma_j)", target=SJ, seconds=1e-6)
        assert result.verdict == "undecided" and result.exit_code == 3


def test_left_side_of_another_question_is_named():
    result = check_answer(r"\frac{\partial \sigma_i}{\partial z_j} = \sigma_i(\delta_{ij} - \sigma_j)", target=CE)
    assert result.verdict == "incorrect" and result.first_wrong_line == 1
    assert result.mistake.id == "other-target" and "softmax-jacobian" in result.mistake.explanation


def test_a_check_without_printing_differs_only_by_the_empty_interpretation():
    """grade's report shows no interpretation, so grade asks for none (printed=False): every other field,
    the message with its values included, is the one a printed check gives."""
    from dataclasses import replace

    for text in (r"\sigma_i - y_i", r"\sigma_i - 1", r"\sigma_i - y_i + 3(\sum_k y_k - 1)", "((",
                 r"\frac{\partial L}{\partial z_i} = \sigma_i - y_i"):
        printed = check_answer(text, target="cross-entropy-gradient", seed=7)
        bare = check_answer(text, target="cross-entropy-gradient", seed=7, printed=False)
        assert bare.interpretation == ""
        assert bare == replace(printed, interpretation=""), text


@pytest.mark.parametrize("text", [r"\sigma_i - y_i + 3 y_i", r"\sigma_i \sigma_j - y_i", r"\sigma_i - y_j",
                                  r"\sum_j \sigma_j y_i - y_i + \sigma_i"])
def test_naming_shares_an_answers_values_across_index_sets_only_where_it_cannot_tell(text):
    """The answer's values at the naming points, computed once per entry for all index sets, are the
    values each index set gives on its own: an answer without j shares its (i) values with (i, j),
    one with j (free or summed) does not."""
    import sympy as sp
    from derive import symbols
    from derive.check import target as targets
    from derive.check.mistakes import _AnswerValues, _naming_values
    from derive.parse.parser import parse_line
    goal = targets.get("cross-entropy-gradient")
    answer = parse_line(text).parts[0]
    shared = _AnswerValues(answer, goal)
    i, j = sp.Symbol("i", integer=True, positive=True), sp.Symbol("j", integer=True, positive=True)
    assert goal.free == (i,)
    for free in [(i,), (i, j), (i, j, symbols.n), (i,)]:
        alone = _naming_values(answer, goal, free)
        assert alone is not None and shared.at(free) == alone
        assert shared.get(free) == alone


def test_close_is_the_relative_test_at_the_working_precision_right_at_its_edge():
    """close on raw mpf values decides exactly as |a - b| <= tolerance * max(1, |a|, |b|) on the numbers,
    at and around the tolerance, for tiny, large and non-finite values, and for other number types."""
    import mpmath

    from derive.check.equivalence import RELATIVE_TOLERANCE, close
    def formula(a, b):
        return mpmath.isfinite(a) and mpmath.isfinite(b) and abs(a - b) <= RELATIVE_TOLERANCE * max(1, abs(a), abs(b))
    with mpmath.workdps(50):
        values = [mpmath.mpf(0), mpmath.mpf(1) / 3, mpmath.mpf(-7) / 3, mpmath.mpf("1e-40"), mpmath.mpf("3e25")]
        pairs = [(a, a + RELATIVE_TOLERANCE * max(1, abs(a)) * step) for a in values
                 for step in (0, mpmath.mpf("0.5"), 1, mpmath.mpf("1.0000001"), 2, -1, -3)]
        pairs += [(mpmath.nan, mpmath.nan), (mpmath.inf, mpmath.inf), (mpmath.mpf(1), -mpmath.inf), (2, mpmath.mpf(2)),
                  (mpmath.mpc(1, 0), mpmath.mpf(1))]
        decided = [close(a, b, RELATIVE_TOLERANCE) for a, b in pairs]
        assert decided == [bool(formula(a, b)) for a, b in pairs]
        assert True in decided and False in decided



def test_answers_are_aligned_against_the_indices_of_their_target_worked_out_once(monkeypatch):
    """Aligning an answer reads the target's left side (d L / d z_i: its index i and what it stands for):
    worked out once per target, not for every answer; the meanings still come out as before."""
    from derive.check import alignment
    from derive.check.target import get
    goal = get("cross-entropy-gradient")
    read = []
    def counted(expr):
        read.append(expr)
        return derivative_indices(expr)
    derivative_indices = alignment._derivative_indices
    monkeypatch.setattr(alignment, "_derivative_indices", counted)
    alignment._target_indices.cache_clear()
    alignment._meanings.cache_clear()
    for text in (r"\sigma_i - y_i", r"y_k - \sigma_k", r"\sigma_j - y_j + 1"):
        assert check_answer(text, target="cross-entropy-gradient", seed=5).reading["indices"]
    assert read.count(goal.lhs) == 1
    assert alignment.index_meanings(goal) == {goal.free[0]: "entry index"}
    alignment.index_meanings(goal).clear()  # a caller's copy: the next one is whole again
    assert alignment.index_meanings(goal) == {goal.free[0]: "entry index"}


def test_a_check_works_out_the_free_indices_of_its_answer_once(monkeypatch):
    """Aligning, describing the reading, comparing and naming all ask which indices stand free in the
    answer: the walk is made once per expression (equivalence.free_indices_once), not by each of them."""
    from derive.algebra.indices import free_indices
    from derive.check import alignment, checker, equivalence, mistakes
    from derive.symbols import i, sigma, y
    walked = []
    def counted(expr):
        walked.append(expr)
        return free_indices(expr)
    for module in (alignment, checker, equivalence, mistakes):
        monkeypatch.setattr(module, "free_indices", counted, raising=False)
    equivalence._free_indices_of.cache_clear()
    verdict = check_answer(r"y_i - \sigma_i", target="cross-entropy-gradient", seed=5)
    assert verdict.verdict == "incorrect" and verdict.mistake.id == "sign"
    assert walked.count(y[i] - sigma[i]) == 1
