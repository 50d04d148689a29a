"""Verdicts a grader can stake a grade on: proof levels, false positives refused, seeds, CPU budgets,
step feedback from the catalogue of wrong rewrites, hints without the answer, en and zh."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sympy import primerange

from derive.check import check_answer
from derive.check.steps import WRONG_REWRITES
from derive.check.words import missing
from derive.cli_app import main

SJ, CE = "softmax-jacobian", "cross-entropy-gradient"

# Wrong answers built to pass a fixed-point checker: each must be incorrect.
FALSE_POSITIVES = [
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + (K-2)(K-3)(K-4)(K-5)\sigma_i"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + (K-2)(K-3)(K-4)(K-5)(K-6)(K-7)(K-8)\sigma_i\sigma_j"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + (\sigma_1 - 0.1)(\sigma_2 - 0.2)"),
    (CE, r"\sigma_i - y_i + (K-4)(K-3)(K-2) y_i"),
    (CE, r"\sigma_i - y_i + (\sum_k \sigma_k - 1)"),  # zero: this one is right, see below
    (CE, r"\sigma_i - y_i + 10^{-12}"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + 0.000001 \sigma_i \sigma_j"),
    # Below the comparison's tolerance (1e-30): caught by tiny_difference, 50 against 100 digits.
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + 10^{-40}"),
    (SJ, r"\sigma_i\delta_{ij} - \sigma_i\sigma_j + 10^{-40}\sigma_j"),
    (CE, r"\sigma_i - y_i + 10^{-45} y_i"),
    # Zero at the fixed K of the points, or at the readable point only.
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + (K-13)(K-29)\sigma_i"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + (\sigma_i - 0.1)(\sigma_j-0.2)(\sigma_1-\sigma_2)"),
    (CE, r"\sigma_i \sum_k y_k - y_i + (K-64)\sigma_i"),
    (CE, r"\sigma_i - y_i + y_i(y_i - 1)"),  # zero for one-hot y only
    ("log-softmax-jacobian", r"\delta_{ij} - \sigma_j + (K-2)(K-3)\sigma_j"),
    # Below what 50 and 100 digits tell from rounding (found by a red-team round): the exact test at K = 2.
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j + 10^{-60})"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j + 10^{-120})"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j + e^{-300})"),
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j)(1 + 10^{-200})"),
    (CE, r"\sigma_i - y_i(1 + 10^{-90})"),
    # Inside a root or a logarithm the exact test says nothing: seen at 200 and 400 digits (second round).
    (CE, r"(\sigma_i - y_i)\sqrt{1 + 10^{-120}}"),
    (CE, r"\sigma_i - y_i + \log(1 + 10^{-120})"),
    (CE, r"\sqrt{\sigma_i^2 + 10^{-240}} - y_i"),
    # Matrix forms, their entry and the target's evaluated apart at rising precision (second round).
    (SJ, r"(\operatorname{diag}(\sigma) - \sigma\sigma^\top)\sqrt{1+10^{-120}}"),
    (CE, r"(\sigma - y)\sqrt{1+10^{-120}}"),
    (SJ, r"\operatorname{diag}(\sigma) - \sigma\sigma^\top + 10^{-200}\sigma\sigma^\top"),
    # Written-out entries with a constant the exact test reads as a number (second round).
    (CE, r"\begin{bmatrix}\sigma_1 - y_1\\ (\sigma_2 - y_2)\sqrt{1+10^{-120}}\end{bmatrix}"),
    (SJ, r"\begin{bmatrix}\sigma_1(1-\sigma_1) & -\sigma_1\sigma_2 \\ -\sigma_2\sigma_1 & "
         r"\sigma_2(1-\sigma_2) + 10^{-120}\log(2)\end{bmatrix}"),
    (SJ, r"\begin{bmatrix}\sigma_1(1-\sigma_1) & -\sigma_1\sigma_2\sqrt{1+10^{-120}} \\ "
         r"-\sigma_2\sigma_1\sqrt{1+10^{-120}} & \sigma_2(1-\sigma_2)\end{bmatrix}"),  # one piece for two places
]


@pytest.mark.parametrize("target, answer", FALSE_POSITIVES)
def test_no_wrong_answer_is_called_correct(target, answer):
    result = check_answer(answer, target=target, seed=1)
    if "\\sum_k \\sigma_k - 1" in answer:  # sum sigma = 1 exactly: a right answer, proved
        assert result.verdict == "correct" and result.evidence.level != "numeric"
    else:
        assert result.verdict == "incorrect", result.message


# Found by a red-team round (2026-12-03): each was called correct. Now incorrect, undecided or invalid.
NEVER_CORRECT = [
    (SJ, r"\sigma_i + 5, \quad i \neq i", None, "invalid"),  # a case no index is in
    (SJ, r"\frac{\partial \sigma_i}{\partial z_i} = \sigma_i + 5 \quad (i \neq j)", None, "invalid"),
    (SJ, r"\sigma_i + 5", "j!=j", "invalid"),
    (CE, r"\sigma_i - y_i + \delta_{i,99}", None, "undecided"),  # a class the points never reach
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + \delta_{i6}\delta_{j7}", None, "undecided"),
    (CE, r"\begin{bmatrix}\sigma_1 - y_1\\ \sigma_2\end{bmatrix}", None, "incorrect"),  # K = 2 at one point only
    (CE, r"\begin{bmatrix}\sigma_1 - y_1\\ \sigma_2 + y_2\end{bmatrix}", None, "incorrect"),
    (CE, r"\sigma_i - y_i + " + "".join(f"(K-{m})" for m in range(2, 65)) + r"\sigma_i", None, "undecided"),
    ("linear-softmax-cross-entropy", r"(\sigma_i - y_i) x_d + (D-2)(D-3)", None, "undecided"),
    ("batched-linear-softmax-cross-entropy:b", r"\frac{1}{N}\sum_n (P_{ni}-Y_{ni}) + (N-2)(N-3)", None, "undecided"),
    # Second round: |K - 64| + K - 64 is zero at every K up to 64; a line's case against the question's.
    (CE, r"\sigma_i - y_i + \sqrt{(K-64)^{2}} - 64 + K", None, "undecided"),
    (SJ, r"-\sigma_i\sigma_j, \quad i \neq j", "i=j", "invalid"),
    (SJ, r"\sigma_i(1-\sigma_i), \quad i = j", "i!=j", "invalid"),
    # Fourth round: a named entry against a --case it is not in claimed nothing and was correct.
    (SJ, r"\frac{\partial \sigma_1}{\partial z_2} = 5", "i=j", "invalid"),
    (SJ, r"\frac{\partial \sigma_1}{\partial z_1} = 5", "i!=j", "invalid"),
    # Sides that share no free index: both letters were mapped onto the target's i.
    (CE, r"\frac{\partial L}{\partial z_k} = \sigma_i - y_i", None, "incorrect"),
    ("log-softmax-jacobian", r"\frac{\partial \log\sigma_l}{\partial z_k} = \delta_{ij} - \sigma_j", None, "incorrect"),
    ("softmax-vjp", r"\frac{\partial L}{\partial z_j} = \sigma_i(g_i - \sum_k g_k\sigma_k)", None, "incorrect"),
    # Third round: a root of a square is |x|, one formula inside the points' ranges and another beyond.
    (CE, r"\sigma_i - y_i + \sqrt{(z_i - 10)^2} + z_i - 10", None, "undecided"),
    (CE, r"(\sigma_i - y_i)\frac{\sqrt{(\sigma_i - 0.999)^2}}{0.999 - \sigma_i}", None, "undecided"),
    ("temperature-softmax-jacobian", r"\frac{1}{T}\sigma_i(\delta_{ij}-\sigma_j)\frac{\sqrt{(T-5)^2}}{5 - T}", None,
     "undecided"),
    ("label-smoothing-gradient", r"\sigma_i - (1-\epsilon) y_i - \frac{\epsilon}{K} + \sqrt{(\epsilon - 0.5)^2} + "
     r"\epsilon - 0.5", None, "undecided"),
    (CE, r"\sigma_i - y_i + \sqrt{(e^{z_i} - e^{4})^2} + e^{z_i} - e^{4}", None, "undecided"),
    (CE, r"\sigma_i - y_i + \sqrt{(z_i - 10)^2} + z_i - 10", "y_i=1", "undecided"),
    (CE, r"\sigma_i - y_i + \log((z_i-10)^2) - 2\log(10-z_i)", None, "undecided"),  # round 4: log of a negative
    # Third round: a size polynomial that vanishes at the few K a target with semantics is tested at.
    ("batched-linear-softmax-cross-entropy:b", r"\frac{1}{N}\sum_n (P_{ni}-Y_{ni}) + (K-2)(K-3)(K-4)(K-5)", None,
     "undecided"),
    ("attention-backward:S", r"P_{nj}(dP_{nj} - \sum_r dP_{nr}P_{nr}) + (\sum_m 1 - 2)(\sum_m 1 - 3)(\sum_m 1 - 4)",
     None, "undecided"),
    # Fourth round: a product in two sizes vanishing at every (K, N) the few points of a semantics pair.
    ("batched-linear-softmax-cross-entropy:b", r"\frac{1}{N}\sum_n (P_{ni}-Y_{ni}) + (K-2)(K-3)(N-2)", None, "undecided"),
    ("attention-backward:V", r"\sum_n P_{nj} dO_{nd} + (\sum_m 1 - 2)(\sum_m 1 - 3)(\sum_n 1 - 2)", None, "undecided"),
    # Third round: a sum written to N or D where the question has neither was read as a sum to K.
    (CE, r"\frac{e^{z_i}}{\sum_{k=1}^{N} e^{z_k}} - y_i", None, "undecided"),
    (SJ, r"\frac{e^{z_i}}{\sum_{k=1}^{D} e^{z_k}}(\delta_{ij} - \sigma_j)", None, "undecided"),
]


@pytest.mark.parametrize("target, answer", [
    (CE, r"(\sigma_i - y_i)\sqrt{\frac{\sum_k e^{z_k}}{\sum_m e^{z_m}}}"),  # a root of something positive: analytic
    (CE, r"\sqrt{\sigma_i}\sqrt{\sigma_i} - y_i"),
    (CE, r"\frac{e^{z_i}}{\sum_{n} e^{z_n}} - y_i"),  # n is only the summation letter here: over the K classes
    ("batched-linear-softmax-cross-entropy:b", r"\frac{1}{N}\sum_n (P_{ni}-Y_{ni})"),
    ("batched-linear-softmax-cross-entropy", r"\frac{1}{N}\sum_n (P_{ni}-Y_{ni}) X_{nd}"),  # sums of entries: no factor
    ("attention-backward:Q", r"\frac{1}{\sqrt{d}}\sum_j P_{nj}(dP_{nj} - \sum_r dP_{nr}P_{nr}) K_{jd}"),
])
def test_what_the_third_round_rules_leave_correct(target, answer):
    assert check_answer(answer, target=target, seed=1).verdict == "correct"


@pytest.mark.parametrize("target, answer, verdict", [
    (CE, r"\frac{\partial L}{\partial z_1} = \sigma_1 - y_1", "correct"),  # red team, round 3: was judged at every i
    (CE, r"\frac{\partial L}{\partial z_1} = \sigma_1 + y_1", "incorrect"),
    ("log-softmax-jacobian", r"\frac{\partial \log\sigma_1}{\partial z_2} = -\sigma_2", "correct"),
    ("log-softmax-jacobian", r"\frac{\partial \log\sigma_1}{\partial z_2} = 1 - \sigma_2", "incorrect"),
    # An entry was judged at K = 2 alone (its largest class number): a term vanishing there passed.
    (SJ, r"\frac{\partial \sigma_1}{\partial z_2} = -\sigma_1\sigma_2 + (K-2)", "incorrect"),
    (SJ, r"\frac{\partial \sigma_1}{\partial z_2} = -\frac{e^{z_1}e^{z_2}}{(e^{z_1}+e^{z_2})^2}", "correct"),  # K = 2
    # Red team, round 4: an entry the sample of index pairs at K = 29 missed was compared nowhere.
    (SJ, r"\frac{\partial \sigma_{20}}{\partial z_{21}} = 5", "incorrect"),
    (SJ, r"\frac{\partial \sigma_{20}}{\partial z_{21}} = -\sigma_{20}\sigma_{21}", "correct"),
    (CE, r"\frac{\partial L}{\partial z_{25}} = \sigma_{25} - y_{25} + 5", "incorrect"),
    (CE, r"\frac{\partial L}{\partial z_{70}} = \sigma_{70} - y_{70} + 5", "invalid"),  # no point has 70 classes
    # Round 5: the batched layer is tested at K = 2, 3, 5 only; class 9 was compared nowhere.
    ("batched-linear-softmax-cross-entropy:b", r"\frac{\partial L}{\partial b_{9}} = 5", "invalid"),
    ("batched-linear-softmax-cross-entropy:b", r"\frac{\partial L}{\partial b_{2}} = 5", "incorrect"),
])
def test_a_left_side_naming_one_entry_is_judged_at_that_entry(target, answer, verdict):
    assert check_answer(answer, target=target, seed=1).verdict == verdict


@pytest.mark.parametrize("target, answer, case, verdict", NEVER_CORRECT)
def test_red_team_answers_are_never_correct(target, answer, case, verdict):
    assert check_answer(answer, target=target, seed=1, case=case).verdict == verdict


@pytest.mark.parametrize("derivation", [  # red team, round 4: a derivative under the sum escaped the exact test
    r"\frac{\partial L}{\partial z_i} &= -\sum_k y_k \frac{\partial \log \sigma_k}{\partial z_i} + 10^{-25} \\ &= \sigma_i - y_i",
    r"\frac{\partial L}{\partial z_i} &= \sum_k \frac{\partial L}{\partial \sigma_k}\frac{\partial \sigma_k}{\partial z_i}"
    r" + 10^{-25} \\ &= \sigma_i - y_i",
])
def test_a_tiny_term_beside_a_derivative_under_a_sum_is_found(derivation):
    result = check_answer(derivation, target=CE, seed=1)
    assert result.verdict == "incorrect" and result.first_wrong_line == 1, result.message


@pytest.mark.parametrize("middle", [r"+ 10^{-22}", r"(1 + 10^{-22})"])
def test_a_tiny_term_on_a_line_still_holding_a_derivative_is_found(middle):
    """Lines with a derivative are compared at a looser tolerance (numeric differentiation): the exact
    test differentiates symbolically instead, so a middle line off by 10^{-22} is the first wrong one."""
    derivation = (r"\frac{\partial \sigma_i}{\partial z_j} = \frac{\partial}{\partial z_j}\frac{e^{z_i}}{\sum_k e^{z_k}}"
                  + middle + "\n" + r"= \sigma_i(\delta_{ij}-\sigma_j)")
    result = check_answer(derivation, target=SJ, seed=1)
    assert result.verdict == "incorrect" and result.first_wrong_line == 1


def test_a_written_out_matrix_is_echoed_as_the_matrix():
    """Not as the Piecewise it is judged as, whose merged places SymPy prints as K = 2, K = 2 v i = 1, ..."""
    result = check_answer(r"\begin{bmatrix}\sigma_1(1-\sigma_1) & -\sigma_1\sigma_2 \\ -\sigma_2\sigma_1 & "
                          r"\sigma_2(1-\sigma_2)\end{bmatrix}", target=SJ, seed=1)
    assert result.verdict == "correct" and result.interpretation.startswith(r"\begin{pmatrix}")
    assert "vee" not in result.interpretation and "cases" not in result.interpretation


def test_a_written_out_jacobian_whose_equal_entries_sympy_merges_is_correct_under_any_hash_seed():
    """SymPy merges the two equal off-diagonal entries into one piece under (i = 1, j = 2) | (i = 2,
    j = 1): each alternative is a place of its own, whatever order the set of equalities comes in."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    cli = Path(__file__).resolve().parent.parent / "cli.py"
    answer = r"\begin{bmatrix}\sigma_1(1-\sigma_1) & -\sigma_1\sigma_2 \\ -\sigma_2\sigma_1 & \sigma_2(1-\sigma_2)\end{bmatrix}"
    for hash_seed in ("0", "1", "3"):
        out = subprocess.run([sys.executable, str(cli), "check", "--target", SJ, "--seed", "1", "--", answer],
                             capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert out.stdout.splitlines()[0] == "CORRECT", (hash_seed, out.stdout, out.stderr)


def test_a_written_out_right_answer_and_a_case_that_holds_stay_correct():
    assert check_answer(r"\begin{bmatrix}\sigma_1 - y_1\\ \sigma_2 - y_2\end{bmatrix}", target=CE, seed=1).verdict == "correct"
    assert check_answer(r"\sigma_i(1-\sigma_i), \quad i = j", target=SJ, seed=1, case="i=j").verdict == "correct"
    assert check_answer(r"-\sigma_i\sigma_j", target=SJ, seed=1, case="i!=j").verdict == "correct"
    assert check_answer(r"\frac{1}{N}(P - Y)^T X", target="batched-linear-softmax-cross-entropy", seed=1).verdict == "correct"
    assert check_answer(r"(\sigma - y)x^T", target="linear-softmax-cross-entropy", seed=1).verdict == "correct"
    assert check_answer(r"\frac{\partial L}{\partial z_k} = \sigma_k - y_k", target=CE, seed=1).verdict == "correct"
    assert check_answer(r"\frac{\partial L}{\partial z} = \sigma_i - y_i", target=CE, seed=1).verdict == "correct"


@pytest.mark.parametrize("target, answer, level", [
    (SJ, r"\sigma_j(\delta_{ij}-\sigma_i)", "proved-symbolic-K"),
    (SJ, r"\frac{e^{z_i}}{\sum_k e^{z_k}}(\delta_{ij} - \frac{e^{z_j}}{\sum_m e^{z_m}})", "proved-symbolic-K"),
    (CE, r"\sigma_i \sum_k y_k - y_i", "proved-symbolic-K"),
    (SJ, r"\operatorname{diag}(\sigma) - \sigma\sigma^\top", "proved-exact-K"),  # entries (1, 1), (1, 2) at K = 2..8
    (CE, r"\sigma - y", "proved-exact-K"),
    (SJ, r"\sigma_i(1 - \sigma_i)\delta_{ij} - (1 - \delta_{ij})\sigma_i\sigma_j", "proved-symbolic-K"),
])
def test_evidence_level_in_the_verdict_and_json(target, answer, level):
    result = check_answer(answer, target=target, seed=3)
    assert result.verdict == "correct" and result.evidence.level == level
    data = result.to_dict()["evidence"]
    assert set(data) == {"level", "Ks", "points", "seed"} and data["seed"] == 3 and data["points"] > 50
    assert "Evidence:" in result.message


@pytest.mark.parametrize("target, answer", [
    ("linear-softmax-cross-entropy", r"(\sigma - y)x^T"),  # another size (D): no relabelling of classes alone
    ("batched-linear-softmax-cross-entropy", r"\frac{1}{N}(P - Y)^T X"),
])
def test_matrix_forms_of_other_sizes_stay_numeric(target, answer):
    result = check_answer(answer, target=target, seed=3)
    assert result.verdict == "correct" and result.evidence.level == "numeric", result.message


def test_a_matrix_form_proof_relies_on_relabelling_and_refuses_what_breaks_it():
    """The entries (1, 1) and (1, 2) stand for all only when the form treats every class alike."""
    import sympy as sp
    from derive.check.proof import _matrix_form_proved
    from derive.check.target import get
    from derive.symbols import K, sigma
    s = sp.MatrixSymbol("sigma", K, 1)
    goal = get(SJ)
    assert _matrix_form_proved(sp.DiagMatrix(s) - s * s.T, goal)
    # A form naming class 3 is not the same under relabelling, whatever its entries: refused.
    assert not _matrix_form_proved(sp.DiagMatrix(s) - s * s.T + (sigma[3] - sigma[1]) * s * s.T, goal)
    assert not _matrix_form_proved(sp.DiagMatrix(s) - s * s.T + (K - 2) * sp.MatrixSymbol("W", K, K), goal)
    assert not _matrix_form_proved(sp.DiagMatrix(s) + s * s.T, goal)


def test_exact_K_level_when_the_symbolic_proof_is_out_of_reach():
    from derive.check.proof import EXACT, prove
    from derive.check.target import get
    from derive.check.checker import _read
    # A nested sum is kept out of the symbolic rewriting (its dummies would be merged): exact K instead.
    expr = _read(r"\sigma_i - y_i + \sum_k \sum_m \sigma_k \sigma_m - 1")[0][0][1]
    assert prove(expr, get(CE)) == (EXACT, tuple(range(2, 9)))


def test_seed_replays_a_verdict_and_fresh_seeds_differ():
    a = check_answer(r"\sigma_i(1-\sigma_j)", target=SJ, seed=11)
    b = check_answer(r"\sigma_i(1-\sigma_j)", target=SJ, seed=11)
    assert a.to_dict() == b.to_dict() and a.seed == 11
    seeds = {check_answer(r"\sigma_i - y_i", target=CE).seed for _ in range(3)}
    assert len(seeds) == 3
    points = [check_answer(r"\sigma_i - y_i + (K-9)(K-10) y_i", target=CE, seed=s) for s in (1, 2)]
    assert all(p.verdict == "incorrect" for p in points)


def test_mistake_id_does_not_depend_on_the_seed():
    ids = {check_answer(r"\sigma_i - y_i + \sigma_i", target=CE, seed=s).mistake.id for s in (1, 2, 3)}
    assert ids == {"spurious-term"}


def test_naming_has_its_own_cpu_budget(monkeypatch):
    """The verdict and the naming each run under their own CPU allowance (counted, not timed), and a
    naming that runs out of its allowance leaves the verdict as it was."""
    import contextlib

    import derive.check.checker as checker
    from derive.check.equivalence import CheckTimeout
    answer = r"\sigma_i(\delta_{ij}-\sigma_j) + 10^{-12}"
    allowances = []
    real_limit = checker.time_limit

    @contextlib.contextmanager
    def recorded(seconds):
        allowances.append(seconds)
        with real_limit(seconds):
            yield
    monkeypatch.setattr(checker, "time_limit", recorded)
    result = check_answer(answer, target=SJ, seed=1, seconds=30)
    assert result.mistake.id == "spurious-term"
    assert allowances[-2:] == [30, checker.NAMING_SECONDS]  # the verdict's, then the naming's own

    def out_of_time(*_args):
        raise CheckTimeout("naming ran out of its allowance")
    monkeypatch.setattr(checker, "identify", out_of_time)
    starved = check_answer(answer, target=SJ, seed=1)
    assert starved.verdict == "incorrect" and starved.mistake is None  # the verdict never moves
    assert starved.counterexample == result.counterexample


# One real wrong derivation per catalogue entry: (target, lines, expected wrong-rewrite id).
DERIVATIONS = [
    (SJ, [r"\frac{\partial \sigma_i}{\partial z_j} = \frac{\partial}{\partial z_j} \frac{e^{z_i}}{\sum_k e^{z_k}}",
          r"\frac{\delta_{ij} e^{z_i}}{\sum_k e^{z_k}}"], "quotient-term-dropped"),
    (CE, [r"\frac{\partial L}{\partial z_i} = \sum_k \frac{\partial L}{\partial \sigma_k}\frac{\partial \sigma_k}{\partial z_i}",
          r"\frac{\partial L}{\partial \sigma_i}\frac{\partial \sigma_i}{\partial z_i}"], "chain-term-dropped"),
    (CE, [r"-\sum_k y_k \delta_{ki} + \sigma_i \sum_k y_k", r"-y_j + \sigma_i"], "delta-wrong-index"),
    (CE, [r"-\sum_k y_k \delta_{ki} + \sigma_i \sum_k y_k", r"-K y_i + \sigma_i"], "sum-kept"),
    (SJ, [r"\sigma_i(\delta_{ij}-\sigma_j)", r"\sigma_i\delta_{ij} + \sigma_i\sigma_j"], "sign-lost-distributing"),
    (CE, [r"\sum_k -\frac{y_k}{\sigma_k}\, \sigma_i(\delta_{ki} - \sigma_k)", r"\sum_k -y_k (\delta_{ki} - \sigma_k)"],
     "sigma-cancelled-wrongly"),
    (CE, [r"\sigma_i \sum_k y_k - y_i", r"\sigma_i \sum_k y_k \sigma_k - y_i", ], None),
    (CE, [r"-\sum_k y_k \delta_{ki} + \sum_k y_k \sigma_i", r"-y_i + 1"], "sum-to-one-misused"),
]


@pytest.mark.parametrize("target, lines, rewrite", DERIVATIONS)
def test_step_feedback_names_the_wrong_rewrite(target, lines, rewrite):
    result = check_answer("\n".join(lines), target=target, seed=1)
    assert result.verdict == "incorrect" and result.first_wrong_line == len(lines)
    assert result.step is not None and result.step.id == rewrite


def test_every_wrong_rewrite_has_a_derivation():
    assert {row[2] for row in DERIVATIONS if row[2]} == set(WRONG_REWRITES)


def test_hint_gives_no_values_and_no_answer():
    text = "\n".join(DERIVATIONS[2][1])
    out = CliRunner().invoke(main, ["check", "--target", CE, "--hint", "--format", "json", "--", text])
    data = json.loads(out.stdout)
    assert out.exit_code == 1 and data["counterexample"] is None and data["mistake"] is None
    assert data["hint"].startswith("Hint for line 2") and data["message"] == data["hint"]
    assert "0." not in data["hint"] and "y_{i}" not in data["hint"] and "sigma_i - y_i" not in data["hint"]
    assert data["step"] is None  # the broken step's diagnosis names the slip: not in a hint
    text_out = CliRunner().invoke(main, ["check", "--target", CE, "--hint", "--", text])
    assert "step:" not in text_out.stdout and "mistake:" not in text_out.stdout


@pytest.mark.parametrize("target, first", [
    (SJ, "Write the softmax as a quotient"), ("log-softmax-jacobian", "Take the logarithm apart"),
    ("cross-entropy-hessian", "The Hessian is the derivative of the gradient"),
    (CE, "The loss reaches the variable"), ("temperature-softmax-jacobian", "Write the softmax as a quotient"),
])
def test_a_one_line_answer_gets_the_hint_its_question_calls_for_first(target, first):
    """Red team, round 3: every target got the cross-entropy's chain-rule hint, the Hessian "compare with
    the previous line" on line 1."""
    result = check_answer(r"\sigma_i + 3", target=target, seed=1, hint=True)
    assert result.verdict == "incorrect" and first in result.hint, result.hint


def test_chinese_messages_and_no_missing_key():
    from derive.check.mistakes import EXPLANATIONS
    from derive.check.steps import TRANSFORMATIONS
    from derive.check.words import say
    assert missing() == []
    for lang in ("en", "zh"):  # every id the checker can produce has its text in both languages
        assert all(say(lang, t, "hints") and say(lang, f"transformation_{t}", "steps") for t in TRANSFORMATIONS)
        assert all(say(lang, r, "steps") for r in WRONG_REWRITES) and all(say(lang, m, "mistakes") for m in EXPLANATIONS)
    result = check_answer(r"\sigma_i - 1", target=CE, lang="zh", seed=1)
    assert "错误" in result.message and "真实类别" in result.mistake.explanation
    out = CliRunner().invoke(main, ["check", "--target", CE, "--lang", "zh", r"\sigma_i - y_i"])
    assert out.exit_code == 0 and "正确" in out.stdout and "依据" in out.stdout


def test_cli_seed_is_recorded_and_replayed():
    args = ["check", "--target", SJ, "--format", "json", "--seed", "42", r"\sigma_i(\delta_{ij}-\sigma_j)"]
    first, second = (json.loads(CliRunner().invoke(main, args).stdout) for _ in range(2))
    assert first == second and first["seed"] == 42 and first["evidence"]["level"] == "proved-symbolic-K"


def test_grade_reports_the_evidence_level_and_checks_equal_answers_once(tmp_path):
    from derive.check.grading import Row, grade_all
    rows = [Row("a", r"\sigma_i - y_i"), Row("b", r"\sigma_i - y_i"), Row("c", r"\sigma_i - 1")]
    results = grade_all(rows, target=CE, workers=1, seed=5)
    assert [r.evidence for r in results] == ["proved-symbolic-K", "proved-symbolic-K", None]
    assert [r.id for r in results] == ["a", "b", "c"] and results[2].mistake == "true-class-only"
    path = tmp_path / "class.csv"
    path.write_text("id,answer\na,\\sigma_i - y_i\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["grade", "--target", CE, "--lang", "zh", "--seed", "9", str(path)])
    assert out.exit_code == 0 and "--seed 9" in out.stdout and "已对照" in out.stdout


def _forget_targets(targets) -> None:
    targets.stored.cache_clear()
    targets.get.cache_clear()


def test_targets_are_stored_once_and_read_back_equal(tmp_path, monkeypatch):
    """A fresh process reads the targets instead of building them (a check of softmax-jacobian builds
    nothing; naming a mistake builds no other derivation); what it reads equals a fresh build, and a
    damaged file is rebuilt, never believed."""
    from derive.check import target as targets
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fresh = {name: targets.built(name) for name in targets.names()}
    _forget_targets(targets)
    try:
        targets.stored()
        cache = targets._cache_file()
        assert cache.parent.parent == tmp_path and cache.is_file()
        _forget_targets(targets)

        def no_build(name):
            raise AssertionError(f"built {name} although it is stored")
        monkeypatch.setattr(targets, "built", no_build)
        stored = targets.stored()
        assert set(stored) == set(fresh)
        for name, (target, has_semantics) in stored.items():
            assert target == fresh[name] and has_semantics == (fresh[name].semantics is not None)
        assert targets.get(SJ) == fresh[SJ]
        # No near mistake matches: naming runs through every other target's result, all read.
        result = check_answer(r"\sigma_i + \sigma_j", target=SJ, seed=1)
        assert result.verdict == "incorrect" and result.mistake is None

        monkeypatch.undo()
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        cache.write_bytes(b"not a pickle")
        _forget_targets(targets)
        assert {name: target for name, (target, _s) in targets.stored().items()} == fresh
        assert cache.read_bytes() != b"not a pickle"
    finally:
        _forget_targets(targets)


def test_the_stored_targets_are_renamed_by_any_edit_to_the_package(tmp_path):
    """The targets file is named by each source's path, size and modification time: an edit that keeps
    the size still moves the time, a new module or a renamed one changes the list; other files do not count."""
    import os
    from derive.check.target import _sources_stamp
    (tmp_path / "engine").mkdir()
    module = tmp_path / "engine" / "softmax.py"
    module.write_text("RESULT = 1\n")
    (tmp_path / "model.py").write_text("")
    stamps = [_sources_stamp(tmp_path)]
    (tmp_path / "notes.txt").write_text("not a source")
    stamps.append(_sources_stamp(tmp_path))
    assert stamps[1] == stamps[0]
    module.write_text("RESULT = 2\n")  # the same size
    os.utime(module, ns=(1, 1))  # a time of its own, whatever the clock's resolution
    stamps.append(_sources_stamp(tmp_path))
    (tmp_path / "engine" / "extra.py").write_text("")
    stamps.append(_sources_stamp(tmp_path))
    module.rename(tmp_path / "engine" / "renamed.py")
    stamps.append(_sources_stamp(tmp_path))
    assert len(set(stamps[1:])) == 4
    assert _sources_stamp(tmp_path) == stamps[-1]  # and the same files give the same name


def test_a_bug_in_the_proof_surfaces_and_the_undecidable_is_a_missed_proof(monkeypatch):
    """Only what SymPy raises on the undecidable lowers the evidence; a programming error (here an
    AttributeError) is reported as internal, never hidden behind a weaker "correct"."""
    from derive.verify import generic

    def broken(_difference):
        raise AttributeError("a bug")

    def undecidable(_difference):
        raise NotImplementedError("SymPy cannot decide this")
    answer = r"\sigma_j(\delta_{ij}-\sigma_i)"  # equal to the target only by the case split
    assert check_answer(answer, target=SJ, seed=1).evidence.level == "proved-symbolic-K"
    monkeypatch.setattr(generic, "is_zero_by_cases", broken)
    result = check_answer(answer, target=SJ, seed=1)
    assert result.verdict == "undecided" and "AttributeError: a bug" in result.message
    monkeypatch.setattr(generic, "is_zero_by_cases", undecidable)
    result = check_answer(answer, target=SJ, seed=1)
    assert result.verdict == "correct" and result.evidence.level != "proved-symbolic-K"


@pytest.mark.parametrize("target, answer, some_candidate", [
    (SJ, r"\sigma_i(1-\sigma_j)", True), (SJ, r"-\sigma_i\sigma_j", True), (SJ, r"\sigma_i + \sigma_j", False),
    (CE, r"\sigma_i + y_i", True), (CE, r"y_i - \sigma_i", False), (CE, r"\frac{\partial L}{\partial \sigma_i}", True),
])
def test_naming_fingerprints_agree_with_compare_on_every_candidate(target, answer, some_candidate):
    """The cached values at the naming points decide exactly as compare(sample=2) does, per candidate."""
    from dataclasses import replace

    from derive.check import mistakes
    from derive.check.checker import _read
    from derive.check.equivalence import compare
    from derive.check.target import get
    goal = get(target)
    expr = _read(answer)[0][0][1]
    answer_values = mistakes._AnswerValues(expr, goal)
    decisions = [(mistakes._matches(expr, replace(goal, result=candidate), answer_values),
                  compare(expr, replace(goal, result=candidate), sample=2).agree)
                 for _id, candidate, _note in mistakes.candidates(goal)]
    assert len(decisions) > 20 and all(fast == slow for fast, slow in decisions)
    assert any(fast for fast, _slow in decisions) == some_candidate


@pytest.mark.parametrize("target, answer, expected", [
    (SJ, r"-\sigma_i(\delta_{ij}-\sigma_j)", "sign"), (SJ, r"3\sigma_i(\delta_{ij}-\sigma_j)", "scale"),
    (CE, r"y_i - \sigma_i", "sign"), (CE, r"\frac{\sigma_i - y_i}{2}", "scale"),
    (CE, r"\sigma_i - y_i + 3", "spurious-term"), (SJ, r"\sigma_i(1-\sigma_j)", "missing-delta"),
    (SJ, r"\sigma_i + \sigma_j", None),
])
def test_naming_reuses_the_answers_values_and_names_as_when_it_computes_them_again(target, answer, expected,
                                                                                    monkeypatch):
    """identify evaluates the answer once at the naming points for the sign, scale, catalogue and constant
    tests; computing them afresh for each test (as _values does) names the same mistake."""
    from derive.check import mistakes
    from derive.check.checker import _read
    from derive.check.target import get
    goal, expr = get(target), _read(answer)[0][0][1]
    reused = mistakes.identify(expr, goal)
    assert (reused.id if reused else None) == expected
    assert mistakes._known_pairs(goal, {tuple(goal.free): mistakes._naming_values(expr, goal, tuple(goal.free))})
    monkeypatch.setattr(mistakes, "_known_pairs", lambda _target, _values: None)
    afresh = mistakes.identify(expr, goal)
    assert afresh == reused


@pytest.mark.parametrize("target, answer, tiny", [
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + 10^{-40}", True),
    (SJ, r"\sigma_i\delta_{ij} - \sigma_i\sigma_j + 10^{-40}\sigma_j", True),
    (SJ, r"\sigma_j(\delta_{ij}-\sigma_i)", False),
    (SJ, r"\frac{e^{z_i}}{\sum_k e^{z_k}}(\delta_{ij} - \frac{e^{z_j}}{\sum_m e^{z_m}})", False),
    (CE, r"\frac{e^{z_i}}{\sum_k e^{z_k}} - y_i", False),
    (CE, r"\sigma_i - y_i + \sum_k \sum_m \sigma_k y_m - 1", False),
    (CE, r"\sigma_i - y_i + \log(\sum_k e^{z_k}) - \log(\sum_m e^{z_m})", False),
])
def test_a_tiny_difference_is_told_from_rounding(target, answer, tiny):
    """Right answers written so that SymPy does not cancel them (their difference is rounding at every
    point) are never flagged; a difference below the tolerance is, whatever its form."""
    from derive.check.checker import _read
    from derive.check.proof import tiny_difference
    from derive.check.target import get
    expr = _read(answer)[0][0][1]
    assert (tiny_difference(expr, get(target), seed=4) is not None) == tiny


@pytest.mark.parametrize("target, answer, K", [
    (SJ, r"\sigma_i(\delta_{ij}-\sigma_j + 10^{-120})", 2),
    (CE, r"\sigma_i - y_i + 10^{-300} y_i", 2),
    (SJ, r"\sigma_j(\delta_{ij}-\sigma_i)", None),
    (CE, r"\sigma_i - y_i + (\sum_k y_k - 1)", None),  # zero on the simplex: y_K eliminated first
    (CE, r"\sigma_i \sum_k y_k - y_i", None),
    (CE, r"\sigma_i - y_i + \log(\sum_k e^{z_k}) - \log(\sum_m e^{z_m})", None),
])
def test_an_exact_difference_is_found_only_where_there_is_one(target, answer, K):
    from derive.check.checker import _read
    from derive.check.proof import exact_difference
    from derive.check.target import get
    assert exact_difference(_read(answer)[0][0][1], get(target)) == K


@pytest.mark.parametrize("answer, case, verdict", [
    (r"\sigma_i(1-\sigma_i), \quad i = j", None, "incorrect"),  # red team, round 2: right, but for i = j only
    (r"\frac{\partial \sigma_i}{\partial z_i} = \sigma_i(1-\sigma_i)", None, "incorrect"),  # the left side's case
    (r"-\sigma_i\sigma_j \quad (i \neq j)", None, "incorrect"),
    (r"\sigma_i(1-\sigma_i), \quad i = j", "i=j", "correct"),  # the question asks for that case
    ("\\sigma_i(1-\\sigma_i), \\quad i = j\n-\\sigma_i\\sigma_j, \\quad i \\neq j", None, "correct"),  # both cases
    ("\\sigma_i(1-\\sigma_i), \\quad i = j\n-\\sigma_i\\sigma_j, \\quad \\text{otherwise}", None, "correct"),
])
def test_an_answer_for_one_case_is_incomplete_unless_the_question_asks_for_that_case(answer, case, verdict):
    result = check_answer(answer, target=SJ, seed=1, case=case)
    assert result.verdict == verdict, result.message
    if verdict == "incorrect":
        assert result.mistake.id == "case-missing" and "is not answered" in result.message
        assert all(line.verdict == "correct" for line in result.lines)  # every line right where it is stated


@pytest.mark.parametrize("target, answer", [  # red team, round 4: the second row's case was the first's too
    (SJ, r"\sigma_i(1-\sigma_i) \quad \text{if } i = j \\ -\sigma_i\sigma_j \quad \text{otherwise}"),
    ("label-smoothing-gradient", r"\frac{\partial L}{\partial z_i} = \sigma_i - (1-\epsilon) - \frac{\epsilon}{K} \quad "
     r"\text{if } i = y \\ \frac{\partial L}{\partial z_i} = \sigma_i - \frac{\epsilon}{K} \quad \text{otherwise}"),
])
def test_rows_of_one_line_each_keep_their_own_case(target, answer):
    assert "\n" not in answer
    assert check_answer(answer, target=target, seed=1).verdict == "correct"


def test_an_indexed_attention_left_side_is_set_aside_like_the_whole_one():
    """Red team, rounds 3 and 5: dV_{jd} = sum_n P_{nj} dO_{nd} (the textbook dV = P^T dO) read dV_{jd} as an
    entry of an unknown array and was incorrect (nan)."""
    target = "attention-backward:V"
    assert check_answer(r"dV_{jd} = \sum_n P_{nj} dO_{nd}", target=target, seed=1).verdict == "correct"
    assert check_answer(r"dV_{jd} = \sum_n P_{nj} dO_{nd} + 1", target=target, seed=1).verdict == "incorrect"


def test_a_line_defining_the_loss_before_the_derivation_is_set_aside():
    """Red team, round 5: notes open with L = -sum_k y_k log sigma_k; judged as a step, a right derivation
    was "not differentiated". The lines after it keep their numbers."""
    defined = "L = -\\sum_k y_k \\log \\sigma_k\n"
    assert check_answer(defined + r"\frac{\partial L}{\partial z_i} = \sigma_i - y_i", target=CE, seed=1).verdict == "correct"
    wrong = check_answer(defined + r"\frac{\partial L}{\partial z_i} = \sigma_i + y_i", target=CE, seed=1)
    assert wrong.verdict == "incorrect" and wrong.first_wrong_line == 2
    assert check_answer(defined, target=CE, seed=1).verdict == "incorrect"  # the definition alone is no answer


def test_a_case_naming_the_label_is_the_true_class():
    """`\\text{if } i = y` with y the targets' letter: i is the true class (read as an index y, the right
    sigma_i - 1 was judged at a y of its own and called wrong); its otherwise is y_i = 0."""
    both = "\\sigma_i - 1 \\quad \\text{if } i = y\n\\sigma_i \\quad \\text{otherwise}"
    assert check_answer(both, target=CE, seed=1).verdict == "correct"
    wrong = "\\sigma_i - 1 \\quad \\text{if } i = y\n\\sigma_i + 1 \\quad \\text{otherwise}"
    result = check_answer(wrong, target=CE, seed=1)
    assert result.verdict == "incorrect" and result.first_wrong_line == 2, result.message
    # Line 2 states the other case: it is no step from line 1, and its left side is not its mistake.
    assert result.step is None and "does not follow" not in result.message
    assert result.mistake is None or result.mistake.id != "not-differentiated"


def test_a_nonzero_numerator_proves_nothing_unless_the_generators_are_independent():
    """sigma_1 beside e^{z_1} are related: their polynomial may vanish on the whole domain, so only
    entries of independent inputs make a non-zero numerator a difference."""
    import sympy as sp
    from derive.algebra.zero_test import nonzero
    from derive.symbols import sigma, z
    def inputs(generators):
        return all(isinstance(node, sp.Indexed) and node.base == z for _kind, node in generators)
    assert nonzero(sp.exp(z[1]) - sp.exp(z[2]), inputs)
    assert not nonzero(sigma[1] - sp.exp(z[1]) / (sp.exp(z[1]) + sp.exp(z[2])), inputs)
    assert not nonzero(sp.exp(z[1]) - sp.exp(z[1]), inputs)
    assert not nonzero(sp.exp(2 * z[1]) * sp.exp(-z[1]) - sp.exp(z[1]), inputs)  # e^{2z} e^{-z} = e^z is seen


def test_constants_are_numbers_of_the_exact_test_told_from_zero_or_not_at_all():
    """sqrt(1 + 10^{-120}) - 1 and 10^{-120} log 2 are non-zero numbers (evalf with strict accuracy);
    log 6 - log 2 - log 3 is zero, which evalf cannot show: nothing is proved then."""
    import sympy as sp
    from derive.algebra.zero_test import nonzero
    from derive.symbols import y, z
    def inputs(generators):
        return all(isinstance(node, sp.Indexed) for _kind, node in generators)
    tiny = sp.Rational(1, 10 ** 120)
    assert nonzero((sp.exp(z[1]) - y[1]) * (sp.sqrt(1 + tiny) - 1), inputs)
    assert nonzero(tiny * sp.log(2), inputs)
    assert nonzero(sp.exp(z[1]) * sp.exp(sp.Rational(1, 2)) - sp.exp(z[1]) * sp.E, inputs)
    assert not nonzero(sp.exp(z[1]) * (sp.log(6) - sp.log(2) - sp.log(3)), inputs)
    assert not nonzero(sp.exp(z[1]) * (sp.sqrt(2) * sp.sqrt(3) - sp.sqrt(6)), inputs)


# One answer per reading error of [check.parse]: (key, target, answer).
READING_ERRORS = [
    ("ends_early", CE, "(("), ("unexpected_character", CE, r"\sigma_i # 2"), ("unexpected", CE, "__import__('os')"),
    ("empty", CE, ""), ("too_long", CE, "x" * 5000), ("not_closed", CE, r"\sigma_i(1 - \sigma_j"),
    ("closes_without_opening", CE, r"\sigma_i)"), ("frac_groups", CE, r"\frac a b"),
    ("operator_missing", CE, r"\sigma_i -"), ("unknown_command", CE, r"\sigma_i + \foo"), ("division_by_zero", CE, "1/0"),
    ("unknown_indexed_symbol", CE, r"\sigma_i + q_i"), ("unknown_symbol", CE, r"\sigma_i + Q"),
    ("which_index", CE, r"\sum \sigma_k"), ("log_zero", CE, r"\log 0"), ("too_many_digits", CE, r"\sigma_i^{1000000}"),
    ("case_impossible", SJ, r"\sigma_i + 5, \quad i \neq i"),
    ("entry_derivative_times_matrix", CE, r"\sigma - y + \frac{\partial \sigma_i}{\partial z_j}\sigma"),
    ("lone_index", CE, r"\sigma_i + i"), ("delta_indices", SJ, r"\delta_i"), ("sum_range", CE, r"\sum_{k=2}^K y_k"),
    ("exponent_too_large", CE, "9^{9^{9^9}}"), ("exp_too_large", CE, "e^{1000}"), ("not_a_class", CE, r"\sigma_0"),
    ("nested_same_index", CE, r"\sum_k \sum_k y_k"), ("look_alike", CE, "р_i - y_i"),
    ("nested_brackets", CE, "(" * 60 + r"\sigma_i" + ")" * 60), ("too_many_lines", CE, "\n".join(["1"] * 60)),
    ("only_words", CE, "所以"),
    ("class_numbers_left_side", CE, r"\frac{\partial \sigma_1}{\partial z_2} = -\sigma_1\sigma_2"),
    ("written_out_classes", SJ, r"\frac{\partial \sigma_1}{\partial z_9} = -\frac{e^{z_1}e^{z_9}}{(e^{z_1}+e^{z_9})^2}"),
    ("class_beyond_points", CE, r"\frac{\partial L}{\partial z_{70}} = \sigma_{70} - y_{70} + 5"),
    ("class_beyond_sum", CE, r"\frac{\partial L}{\partial z_{5}} = \frac{e^{z_5}}{\sum_{k=1}^{3} e^{z_k}} - y_5"),
    ("too_many_symbols", CE, "+".join(["1"] * 800)), ("control_character", CE, "\u202e\\sigma_i - y_i"),
    ("character_not_understood", CE, "\\sigma_i - y_i \u2603"), ("exponent_notation", CE, r"\sigma_i - y_i + 1e5"),
    ("number_out_of_range", CE, r"10^{200} \cdot 10^{200}"), ("number_out_of_range", SJ, r"\sigma_i(\delta_{ij}-\sigma_j) + e^{-1000}"),
    ("numbers_too_many_digits", CE, "+".join(f"1/{p}" for p in primerange(900000, 903000))),  # ~220 primes
    ("power_too_large", CE, r"(\sigma_i+999999)^{100}"), ("power_too_many_digits", CE, r"\sigma_i + 1.000001^{999}"),
    ("root_order", CE, r"(2\sigma_i)^{1/999}"), ("division_by_array", CE, r"1/\sigma"),
    ("cannot_combine", CE, r"\sigma + 1"), ("column_vectors_product", CE, r"\sigma y"),
    ("two_shapes_added", SJ, r"\sigma + \sigma^T"), ("two_shapes_added_inner_product", SJ, r"\mathrm{diag}(\sigma) - \sigma^T \sigma"),
    ("entrywise_shapes", SJ, r"\sigma \odot \sigma^T"), ("one_index", CE, r"\sigma_{ij}"), ("two_indices", CE, r"W_{i}"),
    ("subscript_condition", CE, r"\sigma_{i=j}"), ("not_an_index", CE, r"\sigma_{e}"),
    ("call_not_understood", CE, r"\sigma(z, y)"), ("not_a_function", CE, r"y(z, y)"), ("vector_power", CE, r"\sigma^2"),
    ("function_of_vector", CE, r"\log \sigma"), ("transpose_needs_array", CE, r"\sigma_i^T"),
    ("rowsum_argument", CE, r"\mathrm{rowsum}(\sigma_i)"), ("diag_argument", CE, r"\mathrm{diag}(\sigma_i)"),
    ("second_derivative", SJ, r"\frac{\partial^2 L}{\partial z_i}"),
    ("derivative_variable", CE, r"\frac{\partial L}{\partial y_i}"), ("sum_of_vectors", CE, r"\sum_k \sigma"),
    ("too_many_sums", CE, r"\sum_j\sum_k\sum_l\sum_m \sigma_j\sigma_k\sigma_l\sigma_m"),
    ("sum_range_from_zero", CE, r"\sum_{k=0}^{K} y_k"), ("sum_range_letters", CE, r"\sum_{k=1}^{M} y_k"),
    ("sum_excludes_itself", CE, r"\sum_{k \neq k} y_k"), ("sum_to_number", CE, r"\sum_{k=1}^{1} y_k"),
    ("sum_whole_number", CE, r"\sum_{k=1}^{2.5} y_k"),
    ("matrix_too_large", SJ, r"\begin{pmatrix}" + r"\\".join(["&".join(["1"] * 12)] * 12) + r"\end{pmatrix}"),
    ("matrix_ragged_rows", SJ, r"\begin{pmatrix} 1 & 2 \\ 3 \end{pmatrix}"),
    ("matrix_ragged_dotted_rows", SJ, r"\begin{pmatrix} s_1 & \cdots & s_n \\ s_1 & s_2 \cdots & s_n & s_1 \\ \vdots \\ "
                                      r"s_n & \cdots & s_n \end{pmatrix}"),
    ("matrix_in_matrix", SJ, r"\begin{pmatrix} \sigma & 1 \\ 1 & 1 \end{pmatrix}"),
    ("matrix_row_dots_twice", SJ, r"\begin{pmatrix} s_1 & \cdots & s_2 & \cdots & s_n \\ \vdots \\ "
                                  r"s_n & \cdots & s_n & \cdots & s_n \end{pmatrix}"),
    ("matrix_dot_rows_twice", SJ, r"\begin{bmatrix} s_1 & \cdots & s_n \\ \vdots & \ddots & \vdots \\ s_2 & \cdots & s_n "
                                  r"\\ \vdots & \ddots & \vdots \\ s_n & \cdots & s_n \end{bmatrix}"),
    ("matrix_no_entry", SJ, r"\begin{pmatrix} \vdots \\ \vdots \end{pmatrix}"),
    ("matrix_one_entry", SJ, r"\begin{pmatrix} s_1 & \cdots \\ \vdots & \ddots \end{pmatrix}"),
    ("matrix_indices", SJ, r"\begin{bmatrix} s_1 & \cdots & s_n \\ \vdots & \ddots & \vdots \\ s_m & \cdots & s_n \end{bmatrix}"),
    ("dotted_matrix_alone", SJ, r"\begin{bmatrix} s_1 & \cdots & s_n \\ \vdots & \ddots & \vdots \\ s_n & \cdots & s_n "
                                r"\end{bmatrix} + 1"),
    ("matrix_size_not_checked", CE, r"\begin{bmatrix} \sigma_1 - y_1 \end{bmatrix}"),
    ("matrix_shape", CE, r"\begin{bmatrix} s_1 & \cdots & s_n \\ \vdots & \ddots & \vdots \\ s_n & \cdots & s_n \end{bmatrix}"),
    ("sized_matrix_shape", SJ, r"\begin{pmatrix} 1 & 2 & 3 \\ 1 & 2 & 3 \end{pmatrix}"),
    ("vector_shape", SJ, r"\begin{pmatrix} s_1 \\ \vdots \\ s_n \end{pmatrix}"),
    ("otherwise_without_case", CE, r"\sigma_i - y_i, otherwise"), ("letter_without_meaning", CE, r"\sigma_i - g_i"),
    ("loss_without_meaning", SJ, r"\sigma_i\delta_{ij} - \sigma_i\sigma_j + L"),
    ("upstream_gradient_given", "attention-backward:V", "dO = P^T dV"),
    ("other_attention_part", "attention-backward:V", "dQ = dS K"),
]
# Templates no answer to check_answer(answer, target=..., seed=...) brings out as an invalid verdict;
# tests/test_parse_messages.py reads each one's raise site and checks its template and Chinese.
CHECKED_BY_SOURCE_ONLY = {
    # Options, not the answer: --macro, --case, --symbol/--notation (and a non-text answer from the API).
    "too_many_macros", "macro_form", "case_form", "declared_symbol_unread", "must_be_text",
    # Raised by parse.parse (one expression, not used by check) and by the reader's safety nets
    # (lark errors other than the three it raises, RecursionError under the depth and token limits,
    # SymPy refusing to build, a marker or a non-expression where a value belongs).
    "one_expression", "cannot_read", "nested_too_deeply", "cannot_build", "not_usable_here", "not_an_expression",
    "cases_not_understood",
    # Needs every spare sum letter (k m l r q a b c f h u v) taken, most of which cannot be written as indices.
    "sum_index_no_letter_left",
    # Every real message has two shapes or more, said by two_shapes_added(_inner_product) instead.
    "shapes_added", "shapes_added_inner_product",
}


def test_reading_errors_are_said_in_chinese():
    """Every [check.parse] template is what the parser really says for some answer (so a changed
    English text fails here), and under --lang zh that answer's error is the Chinese entry."""
    from derive.check.words import _matched, say
    from derive.render.messages import catalogue
    templates = {key for key in catalogue("en")["check"]["parse"] if not key.startswith("at_")}
    assert {key for key, _target, _answer in READING_ERRORS} | CHECKED_BY_SOURCE_ONLY == templates
    assert not {key for key, _target, _answer in READING_ERRORS} & CHECKED_BY_SOURCE_ONLY
    for key, target, answer in READING_ERRORS:
        english = check_answer(answer, target=target, seed=1)
        chinese = check_answer(answer, target=target, seed=1, lang="zh")
        assert english.verdict == chinese.verdict == "invalid", (key, english.message)
        found = _matched(english.message.split(" (line")[0].split(" (column")[0])
        assert found is not None and found[0] == key, (key, english.message)
        assert chinese.message.startswith(say("zh", key, "parse", **found[1])), (key, chinese.message)
        assert chinese.message != english.message and ("column" in english.message) == ("列" in chinese.message)


def test_a_sum_over_n_runs_over_the_classes_when_the_question_has_no_batch():
    """n is a batch index only where the question has a batch size N; cross-entropy-gradient has
    none, so a sum over n runs over the K classes like one over k: the same verdict either way."""
    with_n = check_answer(r"\sigma_i - y_i + \sum_k\sum_m\sum_n \sigma_k\sigma_m\sigma_n - 1", target=CE, seed=1)
    same_with_l = check_answer(r"\sigma_i - y_i + \sum_k\sum_m\sum_l \sigma_k\sigma_m\sigma_l - 1", target=CE, seed=1)
    assert with_n.verdict == same_with_l.verdict == "correct"
    wrong_with_n = check_answer(r"\sigma_i - y_i + \sum_n \sigma_n", target=CE, seed=1)
    assert wrong_with_n.verdict == "incorrect"


def test_a_size_the_question_lacks_is_undecided_and_said_in_the_students_language():
    english = check_answer(r"(\sigma_i - y_i)/N", target=CE, seed=1)
    chinese = check_answer(r"(\sigma_i - y_i)/N", target=CE, seed=1, lang="zh")
    assert english.verdict == chinese.verdict == "undecided"
    assert "uses N" in english.message and "用到了 N" in chinese.message and "batch" not in chinese.message


def test_the_targets_sum_to_one_only_over_all_classes_in_the_leaf_proof():
    """The cheap proof replaces Sum_{k=1}^{K} y_k by 1 (the target's own assumption) and nothing else:
    a sum of the targets to 3, from 0, of another array or of y_k times something keeps its value."""
    import sympy as sp

    from derive.check.proof import SYMBOLIC, _on_the_simplex, prove
    from derive.check.target import get
    from derive.check.checker import _read
    from derive.symbols import K, k, sigma, y
    expr = _read(r"\sigma_i - y_i + 3(\sum_k y_k - 1)")[0][0][1]
    assert prove(expr, get(CE)) == (SYMBOLIC, ())
    assert _on_the_simplex(sp.Sum(y[k], (k, 1, K)) * sigma[k]) == sigma[k]
    for kept in (sp.Sum(y[k], (k, 1, 3)), sp.Sum(y[k], (k, 0, K - 1)), sp.Sum(sigma[k], (k, 1, K)),
                 sp.Sum(y[k] * sigma[k], (k, 1, K))):
        assert _on_the_simplex(kept) == kept


def test_both_symbolic_proofs_are_tried_the_rewriting_first_where_an_exponential_or_a_sum_is_left(monkeypatch):
    """The order follows the difference, never the level: e^{z_i} / sum_k e^{z_k} is proved by the
    rewriting without the leaf proof failing first; sigma_i - y_i by the leaves without the rewriting;
    and where the rewriting fails, the leaves still get their turn (an exponential that cancels)."""
    from derive.check import proof
    from derive.check.target import get
    from derive.check.checker import _read
    calls = []
    leaves, rewriting = proof._by_cases, proof._rewritten_equal
    monkeypatch.setattr(proof, "_by_cases", lambda difference: calls.append("leaves") or leaves(difference))
    monkeypatch.setattr(proof, "_rewritten_equal", lambda step, target: calls.append("rewriting") or rewriting(step, target))

    def proved(answer):
        calls.clear()
        return proof.prove(_read(answer)[0][0][1], get(CE))

    assert proved(r"\frac{e^{z_i}}{\sum_k e^{z_k}} - y_i") == (proof.SYMBOLIC, ()) and calls == ["rewriting"]
    assert proved(r"\sigma_i (1 + y_i) - y_i - \sigma_i y_i") == (proof.SYMBOLIC, ()) and calls == ["leaves"]
    monkeypatch.setattr(proof, "_rewritten_equal", lambda step, target: calls.append("rewriting") or False)
    assert proved(r"\sigma_i - y_i + (e^{z_1} + 1)^2 - e^{2 z_1} - 2 e^{z_1} - 1") == (proof.SYMBOLIC, ())
    assert calls == ["rewriting", "leaves"]
