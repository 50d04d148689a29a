"""Reading answers in their authors' notation: roles from the left side, declared notation, real forms.

Every row is (source of the form, target, text, verdict, roles the echo must name). The sources are
public pages of tests/data/README.md where the form was found; the texts are typed as there.
"""
from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings, strategies as st

from derive.check import check_answer
from derive.check.reading import infer
from derive.check.spellings import expand_macros, split_condition
from derive.cli_app import main
from derive.errors import ParseError

JAC, CE, LSJ = "softmax-jacobian", "cross-entropy-gradient", "log-softmax-jacobian"
OUT, LOGITS, TARGETS, LOSS = "softmax output", "logits", "targets", "loss"

FORMS = [
    # Notation from the left side: roles and the order of the free indices.
    ("mse945871", JAC, r"\frac{\partial p_j}{\partial o_i} = p_i(\delta_{ij} - p_j)", "correct", {"p": OUT, "o": LOGITS}),
    ("mse945871", JAC, r"\frac{\partial p_j}{\partial o_i} = p_j(\delta_{ij} - p_i)", "correct", {"p": OUT}),
    ("mse945871", CE, r"\frac{\partial L}{\partial o_i} = p_k - y_k", "incorrect", {"p": OUT}),  # k is not the asked i
    ("ningyu", JAC, r"\frac{\partial \hat y_j}{\partial \theta_k} = \hat y_j(\delta_{jk} - \hat y_k)", "correct",
     {r"\theta": LOGITS, r"\hat{y}": OUT}),
    ("heiqu (Bishop)", JAC, r"\frac{\partial y_i}{\partial z_j} = y_i(\delta_{ij} - y_j)", "correct", {"y": OUT}),
    ("mse3789676 (Bishop)", CE, r"\frac{\partial \xi}{\partial z_i} = y_i - t_i", "correct",
     {r"\xi": LOSS, "y": OUT, "t": TARGETS}),
    ("sse235528", CE, r"\frac{\partial E}{\partial z_j} = y_j - t_j", "correct", {"E": LOSS, "y": OUT, "t": TARGETS}),
    ("hoadm", CE, r"\frac{\partial \mathcal{L}}{\partial z_k} = p_k - y_k", "correct", {"L": LOSS, "p": OUT}),
    ("zakariapz", CE, r"\frac{\partial \ell}{\partial a_i} = p_i - y_i", "correct", {r"\ell": LOSS, "a": LOGITS}),
    ("purepisces", CE, r"\frac{\partial \text{Loss}}{\partial A_i} = \sigma(A_i) - Y_i", "correct",
     {"Loss": LOSS, "A": LOGITS, "Y": TARGETS}),
    ("yanfenglee", CE, r"\frac{\partial L}{\partial z_i} = -\sum_k y_k \frac{1}{a_k} \frac{\partial a_k}{\partial z_i}",
     "undecided", {"a": OUT}),  # correct so far, but unfinished: it still holds a derivative
    # Without a left side: one free index of any letter; y alone is the output of a Jacobian.
    ("hoadm", CE, r"p_k - y_k", "correct", {"p": OUT, "y": TARGETS}),
    ("mnn", JAC, r"\operatorname{diag}(y) - y \times y^T", "correct", {"y": OUT}),
    # Left sides: slash, \over, the name of the result.
    ("askswarm", JAC, "∂s_i/∂z_j = s_i(δ_ij - s_j)", "correct", {"s": OUT, "z": LOGITS}),
    ("mnn", JAC, r"\partial y_i / \partial x_k = y_i(\delta_{ik} - y_k)", "correct", {"y": OUT, "x": LOGITS}),
    ("mse4258008", JAC, r"{\partial h_i \over \partial z_j} = h_i(\delta_{ij} - h_j)", "correct", {"h": OUT}),
    ("barryhan", JAC, "J = diag(s) − s s^T", "correct", {"s": OUT}),
    ("lynx", JAC, r"J = diag(p) - p p^T", "correct", {"p": OUT}),
    ("hoadm", CE, r"\nabla_{\mathbf{z}} \text{CE} = \mathbf{p} - \mathbf{y}", "correct", {"p": OUT}),
    ("telhc", JAC, r"J_{ij} = \sigma_i(1_{i=j} - \sigma_j)", "correct", {r"\sigma": OUT}),
    ("mattpetersen", JAC, r"\frac{\partial s(\mathbf x)_i}{\partial x_j} = s_i(\delta_{ij} - s_j)", "correct",
     {"s": OUT, "x": LOGITS}),
    ("purepisces", LSJ, r"\frac{\partial \log(\sigma(A_k))}{\partial A_i} = \delta_{ik} - \sigma(A_i)", "correct",
     {"A": LOGITS}),
    # Cases as the lines people write.
    ("mse945871", JAC, r"\frac{\partial p_j}{\partial o_i} = p_i(1 – p_i),\quad i = j", "correct", {"p": OUT}),
    ("mse945871", JAC, r"\frac{\partial p_j}{\partial o_i} = -p_i p_j,\quad i \neq j.", "correct", {"p": OUT}),
    ("yanfenglee", JAC, "$$ \\frac{\\partial a_j}{\\partial z_i} = a_i(1 - a_i), \\quad i = j $$\n"
     "$$ \\frac{\\partial a_j}{\\partial z_i} = -a_i a_j,\\quad i \\neq j. $$", "correct", {"a": OUT}),
    ("mse3058580", JAC, "$\\frac{\\delta p_i}{\\delta a_j} = p_i*(1-p_j)$ if i=j\nand $-p_j*p_i$ else.", "correct",
     {"p": OUT, "a": LOGITS}),
    ("heiqu", JAC, r"\frac{\partial y_i}{\partial z_j} = y_i - y_i y_j 当 i = j 时", "correct", {"y": OUT}),
    ("heiqu", JAC, r"\frac{\partial y_i}{\partial z_j} = -y_i y_j （i ≠ j）", "correct", {"y": OUT}),
    ("students", JAC, "\\sigma_i(1-\\sigma_i) 当 i = j 时\n-\\sigma_i\\sigma_j 其他", "correct", {r"\sigma": OUT}),
    ("students", JAC, "\\sigma_i(1-\\sigma_i)，若 i=j\n-\\sigma_i\\sigma_j，否则", "correct", {r"\sigma": OUT}),
    ("heiqu", JAC, r"\frac{\partial y_i}{\partial z_j} = \begin{cases} y_i(1-y_i), & 当 i = j 时 \\ -y_iy_j, & 其他 \end{cases}",
     "correct", {"y": OUT}),
    ("students", JAC, r"y_i(1-y_i)（当 i = j 时）", "correct", {"y": OUT}),
    ("sunhaozhe", JAC, r"\frac{\partial p_i}{\partial o_k} = \begin{cases} p_k (1 - p_k) & \text{if }\; i=k \\"
     r" - p_k p_i & \text{if }\; i\neq k \end{cases}", "correct", {"p": OUT, "o": LOGITS}),
    ("jishuzhan2", JAC, r"\frac{\partial s_i}{\partial z_i} = s_i (1 - s_i)", "correct", {"s": OUT}),  # i = j by its left side
    ("jishuzhan2", JAC, r"\frac{\partial s_i}{\partial z_i} = s_i", "incorrect", {"s": OUT}),
    ("purepisces", JAC, r"\frac{\partial a_1}{\partial z_2} = -\frac{e^{z_1}e^{z_2}}{(e^{z_1} + e^{z_2} + e^{z_3})^2}",
     "correct", {"a": OUT}),  # one entry at the K its sums write out
    # Sums.
    ("mse945871", CE, r"\frac{\partial L}{\partial o_i} = -y_i(1-p_i) + \sum_{k \neq i} y_k p_i", "correct", {"o": LOGITS}),
    ("mse945871", CE, r"\frac{\partial L}{\partial o_i} = -y_i(1-p_i) + \sum_{k \ne i} p_k y_k", "incorrect", {"o": LOGITS}),
    ("purepisces", CE, r"- \sum\limits_{k=1}^{C} y_k (\delta_{ik} - p_i)", "correct", {"p": OUT}),
    ("zakariapz", CE, r"\sum_j^C -\frac{y_j}{p_j} p_j(\delta_{ij} - p_i)", "correct", {"p": OUT}),
    ("ningyu", CE, r"-\sum_{i=1}^V y_i (\delta_{ik} - \hat y_k)", "correct", {r"\hat{y}": OUT}),
    ("jpark7ca", CE, r"\sum_{k}^{ } y_k (s_i - \delta_{ik})", "correct", {"s": OUT}),
    ("students", CE, r"\sum^K_{k=1} y_k (s_i - \delta_{ik})", "correct", {"s": OUT}),
    ("sse360450", JAC, r"\begin{cases} S_j(1-S_i), & \text{if i= j}.\\ -S_jS_i, & \text{otherwise}. \end{cases}",
     "correct", {"S": OUT}),
    ("mnn", JAC, r"\frac{e^{z_i}[\sum_k e^{z_k}] - e^{z_i}e^{z_j}}{[\sum_k e^{z_k}]^2}, \quad i = j", "correct",
     {"z": LOGITS}),  # square brackets group
    # Indicators and deltas.
    ("heiqu", JAC, r"\frac{\partial y_i}{\partial z_j} = \mathbf{\large1} \{i=j\}\, y_i - y_i\,y_j", "correct", {"y": OUT}),
    ("lynx", JAC, r"p_i([i = j] - p_j)", "correct", {"p": OUT}),
    ("students", JAC, r"p_i(\delta_{i=j} - p_j)", "correct", {"p": OUT}),
    ("telhc", JAC, r"\sigma_i(1_{i=j} - \sigma_j)", "correct", {r"\sigma": OUT}),
    ("jishuzhan1", JAC, r"\hat{y}_i (\delta{ij} - \hat{y}_j)", "correct", {r"\hat{y}": OUT}),
    # diag and outer products.
    ("lsestrict", JAC, r"\mathop{\textrm{diag}}(p) - pp^T", "correct", {"p": OUT}),
    ("arxiv2002", JAC, r"\diag(p) - p p^\top", "correct", {"p": OUT}),
    ("mattpetersen", JAC, r"\text{diag}(\mathbf s) - \mathbf{s}\mathbf{s}^\top", "correct", {"s": OUT}),
    ("students", JAC, r"\mathrm{diag}(s) - s s^T", "correct", {"s": OUT}),
    # Decorations read through.
    ("mse3058580", JAC, r"\bbox{ \frac{\partial p_i}{\partial z_j} = p_i(\delta_{ij} - p_j) }", "correct", {"p": OUT}),
    ("students", JAC, r"\boxed{\color{red}{p_i}\left( \delta_{ij} - p_j \right)}\;.", "correct", {"p": OUT}),
    ("heiqu", JAC, r"\frac{\partial y_i}{\partial z_j} = -y_iy_j \tag{1.2}", "incorrect", {"y": OUT}),
    ("students", CE, r"{1 \over \sigma_i} \sigma_i^2 - y_i", "correct", {r"\sigma": OUT}),
    ("barryhan", JAC, r"s_i − s_i² — s_i \delta_{ij} + s_i \delta_{ij} - s_i s_j + s_i^2 \cdot 1", "incorrect", {"s": OUT}),
    ("sse360450", JAC, r"\partial_iS_i(\mathbf z) = \left(\frac{e^{z_i}}{\sum_k{e^{z_k}}}\right)\left(1 - \frac{e^{z_i}}{\sum_k{e^{z_k}}}\right)",
     "correct", {"S": OUT}),  # \partial_j and the repeated index: the diagonal case
    ("students", JAC, r"\partial_{z_j} \sigma_i = \sigma_i(\delta_{ij} - \sigma_j)", "correct", {r"\sigma": OUT}),
    # Small explicit matrices and vectors, entry by entry at their own K.
    ("purepisces", JAC, "\\frac{\\partial \\mathbf{a}}{\\partial \\mathbf{z}} = \n\\begin{pmatrix}\na_1(1 - a_1) & -a_1a_2 & -a_1a_3"
     " \\\\\n-a_1a_2 & a_2(1 - a_2) & -a_2a_3 \\\\\n-a_1a_3 & -a_2a_3 & a_3(1 - a_3)\n\\end{pmatrix}", "correct", {"a": OUT}),
    ("students", JAC, r"\begin{bmatrix} s_1(1-s_1) & -s_1 s_2 \\ -s_2 s_1 & s_2 \end{bmatrix}", "incorrect", {"s": OUT}),
    ("students", CE, r"\begin{bmatrix} p_1 - y_1 \\ p_2 - y_2 \\ p_3 - y_3 \end{bmatrix}", "correct", {"p": OUT}),
    # Differentials and names of the loss.
    ("students", CE, r"\frac{dL}{dz_j} = p_j - y_j", "correct", {"L": LOSS, "p": OUT}),
    ("askswarm", CE, "dL/dz = softmax(z) - y", "correct", {"L": LOSS, "y": TARGETS}),
    ("lynx", CE, "∂CE/∂z = softmax(z) - one_hot(y)", "correct", {"CE": LOSS}),
    ("telhc", JAC, r"\frac{\partial[\sigma(\mathbf{a})]_i}{\partial a_j} = \sigma_i(\delta_{ij} - \sigma_j)", "correct",
     {"a": LOGITS}),
    ("students", JAC, r"\mathrm{diag}(s) - s \otimes s", "correct", {"s": OUT}),
    # Code as pasted.
    ("returnn", JAC, "s[i] * (delta(i == j) - s[j])", "correct", {"s": OUT}),
    ("students", CE, "softmax(z)[j] - y[j]", "correct", {"y": TARGETS}),
    ("lynx", CE, "p - onehot(y)", "correct", {"p": OUT}),
    ("mattpetersen", JAC, "return np.diag(s) - np.outer(s, s)", "correct", {"s": OUT}),
    ("thunfisch", JAC, "jacobian = np.diag(y) - np.outer(y, y)", "correct", {"y": OUT}),
    ("mattpetersen", CE, "return s - y", "correct", {"s": OUT, "y": TARGETS}),
    ("iamtarun", JAC, "s_i * (1 - s_i)", "incorrect", {"s": OUT}),
]


# The case a page states for a formula it gives for one case only, given as the question's case (as a
# grader would with --case): alone, a formula for one case leaves the other unanswered (case-missing).
STATED_CASE = {
    r"\frac{\partial p_j}{\partial o_i} = p_i(1 – p_i),\quad i = j": "i=j",
    r"\frac{\partial p_j}{\partial o_i} = -p_i p_j,\quad i \neq j.": "i!=j",
    r"\frac{\partial y_i}{\partial z_j} = y_i - y_i y_j 当 i = j 时": "i=j",
    r"\frac{\partial y_i}{\partial z_j} = -y_i y_j （i ≠ j）": "i!=j",
    r"y_i(1-y_i)（当 i = j 时）": "i=j",
    r"\frac{\partial s_i}{\partial z_i} = s_i (1 - s_i)": "i=j",
    r"\frac{\partial s_i}{\partial z_i} = s_i": "i=j",
    r"\frac{e^{z_i}[\sum_k e^{z_k}] - e^{z_i}e^{z_j}}{[\sum_k e^{z_k}]^2}, \quad i = j": "i=j",
    r"\partial_iS_i(\mathbf z) = \left(\frac{e^{z_i}}{\sum_k{e^{z_k}}}\right)\left(1 - \frac{e^{z_i}}{\sum_k{e^{z_k}}}\right)": "i=j",
}


@pytest.mark.parametrize("source, target, text, verdict, roles", FORMS)
def test_real_form_is_read_in_its_notation(source, target, text, verdict, roles):
    result = check_answer(text, target=target, case=STATED_CASE.get(text))
    assert result.verdict == verdict, (source, result.message)
    assert roles.items() <= result.reading["roles"].items(), (source, result.reading)


def test_the_left_side_orders_the_free_indices():
    result = check_answer(r"\frac{\partial p_j}{\partial o_i} = p_i(\delta_{ij} - p_j)", target=JAC)
    assert result.reading["indices"] == {"j": "row index (output)", "i": "column index (logit)"}
    assert "p: softmax output, o: logits, j: row index (output), i: column index (logit)" in result.message


def test_a_guessed_role_is_said():
    result = check_answer(r"\operatorname{diag}(y) - y y^T", target=JAC)
    assert result.reading["guessed"] == ["y"] and "Guessed: y" in result.message


@pytest.mark.parametrize("text, line", [
    ("\\begin{eqnarray}\n\\frac{\\partial L}{\\partial o_i} &=& -y_i(1-p_i) + \\sum_{k\\neq i} y_k p_i\\\\\n"
     "&=& p_i y_i - y_i + \\sum_{k\\neq i} p_k y_k\\\\\n&=& p_i - y_i\n\\end{eqnarray}", 3),
    ("所以\n\n$\\frac{\\partial L}{\\partial z_i} = p_i - y_i$\n\n其中 $= p_i - y_i + 1$", 5),
    ("\\begin{aligned}\n\\frac{\\partial s_i}{\\partial x_j}\n&= - s_i s_j \\\\[1.6em]\n&= s_i \\end{aligned}", 4),
])
def test_first_wrong_line_is_the_line_as_given(text, line):
    target = JAC if "s_i" in text else CE
    result = check_answer(text, target=target, case="i!=j" if target == JAC else None)
    assert result.verdict == "incorrect" and result.first_wrong_line == line, result.message


def test_lines_before_an_unreadable_line_are_still_judged():
    text = "\\frac{\\partial L}{\\partial o_i} = p_i\n= (\\sum_k p_k y_k) @ y_i"
    assert check_answer(text, target=CE).first_wrong_line == 1
    assert check_answer("= p_i - y_i\n= (\\sum_k p_k y_k) @ y_i", target=CE).verdict == "invalid"


@pytest.mark.parametrize("case, verdict", [("i=j", "correct"), ("i!=j", "incorrect"), (None, "incorrect")])
def test_a_case_given_with_the_question(case, verdict):
    assert check_answer(r"\hat{y}_i (1 - \hat{y}_i)", target=JAC, case=case).verdict == verdict


def test_declared_symbols_and_macros():
    assert check_answer("a_i - y_i", target=CE).verdict == "invalid"
    result = check_answer("a_i - y_i", target=CE, declared={"a": "sigma"})
    assert result.verdict == "correct" and result.reading["roles"]["a"] == OUT
    assert check_answer(r"\probs_i - y_i", target=CE, macros=(r"\probs=\sigma",)).verdict == "correct"


@pytest.mark.parametrize("macro", ["probs=\\sigma", "\\p=" + "x" * 41, "\\p=\\def"])
def test_bad_macros_are_refused(macro):
    with pytest.raises(ParseError, match="--macro expects"):
        expand_macros("x", (macro,))


def test_an_inner_product_where_a_matrix_is_meant_is_a_named_shape_error():
    result = check_answer(r"\text{diag}(\mathbf s) - \mathbf s^\top \mathbf s", target=JAC)
    assert result.verdict == "invalid" and "shape error" in result.message and "s s^T" in result.message


def test_a_matrix_of_the_wrong_shape_or_size_is_refused():
    assert "does not have the shape" in check_answer(r"\begin{bmatrix} p_1 & p_2 \end{bmatrix}", target=JAC).message
    nine = r"\begin{bmatrix} " + r" \\ ".join(f"p_{n} - y_{n}" for n in range(1, 10)) + r" \end{bmatrix}"
    assert "read up to 8x8" in check_answer(nine, target=CE).message


def test_an_explicit_vector_is_proved_only_at_its_own_K():
    six = r"\begin{bmatrix} " + r" \\ ".join(f"p_{n} - y_{n}" for n in range(1, 7)) + r" \end{bmatrix}"
    verdict = check_answer(six, target=CE)
    assert verdict.verdict == "correct" and verdict.evidence.level == "proved-exact-K"
    assert verdict.evidence.Ks == (6,)


def test_letters_that_mean_something_else_here_are_refused_not_misread():
    assert check_answer(r"\nabla f(x) = g", target="logsumexp-gradient").verdict == "invalid"
    assert check_answer("= 1 - e^{LS(z)_i}", target=LSJ).verdict == "invalid"


def test_cli_symbol_notation_and_macro(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["check", "--target", CE, "--symbol", "probs=a", "--format", "json", "a_k - y_k"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["reading"] == {"roles": {"a": OUT, "y": TARGETS},
                                                         "indices": {"k": "entry index"}, "guessed": []}
    notation = tmp_path / "course.toml"
    notation.write_text("[symbols]\nprobs = 'q'\nlogits = 'o'\n", encoding="utf-8")
    assert runner.invoke(main, ["check", "--target", JAC, "--notation", str(notation),
                                r"q_i(\delta_{ij} - q_j)"]).exit_code == 0
    assert runner.invoke(main, ["check", "--target", CE, "--macro", r"\probs=\sigma", r"\probs_i - y_i"]).exit_code == 0
    bad = runner.invoke(main, ["check", "--target", CE, "--macro", "probs", "p_i - y_i"])
    assert bad.exit_code == 2 and "--macro expects" in bad.output


def test_grade_reads_a_class_in_its_course_notation(tmp_path):
    answers = tmp_path / "class.csv"
    answers.write_text("id,answer\n1,a_i - y_i\n2,a_i\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "--target", CE, "--symbol", "probs=a", "--workers", "1", str(answers)])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "class.report.csv", encoding="utf-8", newline="") as report:
        verdicts = {row["id"]: row["verdict"] for row in csv.DictReader(report)}
    assert verdicts == {"1": "correct", "2": "incorrect"}



CASE_ANSWERS = [r"\hat{y}_i (1 - \hat{y}_i)", r"-\hat{y}_i \hat{y}_j", r"\hat{y}_i (\delta_{ij} - \hat{y}_j)",
                r"\hat{y}_i (1 + \hat{y}_i)", r"\sigma_i - y_i"]


@pytest.mark.parametrize("case", ["i=j", "i!=j", "y_i=1"])
def test_grade_and_check_agree_with_a_case(tmp_path, case):
    """grade --case judges every answer as check --case does (same seed)."""
    answers = tmp_path / "class.csv"
    with open(answers, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([("id", "answer"), *((str(n), text) for n, text in enumerate(CASE_ANSWERS))])
    result = CliRunner().invoke(main, ["grade", "--target", JAC, "--case", case, "--seed", "5", "--workers", "1",
                                       str(answers)])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "class.report.csv", encoding="utf-8", newline="") as report:
        graded = {row["id"]: row["verdict"] for row in csv.DictReader(report)}
    checked = {}
    for n, text in enumerate(CASE_ANSWERS):
        run = CliRunner().invoke(main, ["check", "--target", JAC, "--case", case, "--seed", "5", "--format", "json",
                                        "--", text])
        checked[str(n)] = json.loads(run.stdout)["verdict"]
    assert graded == checked
    # The case changes the verdicts: without it the diagonal answer is wrong, with i=j right.
    assert (graded["0"] == "correct") == (case == "i=j")
    assert graded["2"] == "correct" and graded["3"] == "incorrect"


def test_grade_refuses_an_unreadable_case_before_grading(tmp_path):
    answers = tmp_path / "class.csv"
    answers.write_text("id,answer\n1,p_i\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "--target", JAC, "--case", "i=", "--workers", "1", str(answers)])
    assert result.exit_code == 2 and "a case is written" in result.output
    assert not (tmp_path / "class.report.csv").exists()

@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_reading_any_text_ends_in_a_reading_or_a_parse_error(text):
    infer(text)
    try:
        split_condition(text)
        expand_macros(text, (r"\probs=\sigma",))
    except ParseError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\partialfrc{}_^ijkpoz=/∂,当时其他 \n&$")), max_size=120))
def test_checking_latex_like_noise_always_gives_a_verdict(text):
    assert check_answer(text, target=JAC, seconds=2).verdict in ("correct", "incorrect", "invalid", "undecided")


@pytest.mark.parametrize("answer, verdict", [
    (r"\sigma_i(\underbrace{\delta_{ij}}_{\text{Kronecker}}-\sigma_j)", "correct"),
    (r"\overbrace{\sigma_i(\delta_{ij}-\sigma_j)}^{J_{ij}}", "correct"),
    (r"\frac{\cancel{\sigma_k}\sigma_i}{\cancel{\sigma_k}}(\delta_{ij}-\sigma_j)", "correct"),
    (r"\sqrt{\sigma_i^2}(\delta_{ij}-\sigma_j)", "correct"),
    (r"\sqrt{\sigma_i}(\delta_{ij}-\sigma_j)", "incorrect"),
    (r"\sigma_i(\mathbb 1_{ij}-\sigma_j)", "correct"),
    (r"\sigma_i(\mathbb{1}_{ij}+\sigma_j)", "incorrect"),
])
def test_decorations_are_read_through(answer, verdict):
    assert check_answer(answer, target=JAC).verdict == verdict


def test_decorations_unbalanced_or_many_stay_bounded():
    from derive.check.spellings import read_through_decorations
    assert read_through_decorations(r"\cancel{\sigma_i") == r"\cancel{\sigma_i"
    many = r"\cancel{" * 300 + "x" + "}" * 300
    assert read_through_decorations(many).count(r"\cancel") == 200


def test_an_unfinished_step_is_not_an_answer_yet_but_a_restated_question_is_wrong():
    unfinished = check_answer(r"\frac{\partial L}{\partial z_j} = -\sum_{i=1}^C y_i \cdot \frac{1}{\hat{y}_i} \cdot "
                              r"\frac{\partial \hat{y}_i}{\partial z_j}", target=CE)
    assert unfinished.verdict == "undecided" and "Not an answer yet" in unfinished.message
    assert unfinished.first_wrong_line is None
    assert check_answer(r"\frac{\partial \sigma_i}{\partial z_j}", target=JAC).verdict == "incorrect"
    # The function written out under the derivative is a first step, not an answer (sse235528).
    written_out = check_answer(r"\frac{\partial \sigma_i}{\partial z_j} = \frac{\partial}{\partial z_j}"
                               r"\frac{e^{z_i}}{\sum_k e^{z_k}}", target=JAC)
    assert written_out.verdict == "undecided" and "Not an answer yet" in written_out.message
    restated = check_answer(r"\frac{\partial \sigma_i}{\partial z_j} = \frac{\partial \sigma_i}{\partial z_j}", target=JAC)
    assert restated.verdict == "incorrect", restated.message
    wrong_written_out = check_answer(r"\frac{\partial \sigma_i}{\partial z_j} = \frac{\partial}{\partial z_j}"
                                     r"\frac{e^{z_j}}{\sum_k e^{z_k}}", target=JAC)
    assert wrong_written_out.verdict == "incorrect", wrong_written_out.message
    # A wrong step that still holds a derivative is still wrong: the numbers decide first.
    wrong = check_answer(r"\frac{\partial L}{\partial z_j} = -2\sum_i y_i \frac{1}{\hat{y}_i} "
                         r"\frac{\partial \hat{y}_i}{\partial z_j}", target=CE)
    assert wrong.verdict == "incorrect"


ATTENTION = "attention-backward"
# Issue 17's answers as people write them (the FlashAttention paper, Algorithm 2; blog posts re-deriving
# it): each correct form, then a wrong variant of the same result.
ATTENTION_FORMS = [
    ("V", r"dV = P^T dO", "correct"), ("V", r"\frac{\partial L}{\partial V} = P^\top dO", "correct"),
    ("V", r"dV = P dO", "incorrect"), ("V", r"dV = dO^T P", "incorrect"),
    ("P", r"dP = dO V^T", "correct"), ("P", r"dP = dO V", "incorrect"),
    ("S", r"dS = P \circ (dP - \mathrm{rowsum}(dP \circ P))", "correct"),
    ("S", "dS = P ∘ (dP − rowsum(dO ⊙ O))", "correct"),
    ("S", r"dS = P \odot dP - \text{diag}(\operatorname{rowsum}(dP \odot P)) P", "correct"),
    ("S", r"dS = P \circ dP", "incorrect"), ("S", r"dS = P \circ (dP - \mathrm{rowsum}(dP))", "incorrect"),
    ("Q", r"dQ = dS K / \sqrt{d}", "correct"), ("Q", r"dQ = \frac{1}{\sqrt{d_k}} dS K", "correct"),
    ("Q", r"dQ = dS K", "incorrect"), ("Q", r"dQ = dS K / d", "incorrect"),
    ("K", r"dK = dS^T Q / \sqrt d", "correct"), ("K", r"dK = dS^\top Q", "incorrect"),
]


@pytest.mark.parametrize("part, text, verdict", ATTENTION_FORMS)
def test_attention_gradients_are_read_as_written(part, text, verdict):
    result = check_answer(text, target=f"{ATTENTION}:{part}", seed=5)
    assert result.verdict == verdict, (text, result.message)
    if verdict == "incorrect" and result.counterexample is not None:
        named = dict(result.counterexample.indices)
        assert {"n", "j", "d"} & set(named), named  # the entry that differs, by the target's indices
    assert result.reading["roles"].get("dO" if part in "VP" else "P" if part == "S" else "dS"), result.reading


def test_attention_echo_names_the_matrices():
    result = check_answer(r"dQ = dS K / \sqrt{d}", target=f"{ATTENTION}:Q", seed=5)
    assert result.reading["roles"] == {"K": "keys", "d": "head dimension", "dS": "dL/dS"}
    assert "The left side dQ is read as the target's own name" in result.message


@pytest.mark.parametrize("text, message", [
    (r"dQ = dS K / \sqrt{d}", "the left side names dQ; check it with --target attention-backward:Q"),
    (r"dO = P^T dV", "dO is the upstream gradient"),
    (r"dV = P \circ dO", "entrywise product of NxK and NxD"),
    (r"dV = \mathrm{rowsum}(2)", "rowsum(...) takes a matrix"),
])
def test_attention_answers_to_another_question_are_refused_clearly(text, message):
    result = check_answer(text, target=f"{ATTENTION}:V", seed=5)
    assert result.verdict == "invalid" and message in result.message, result.message


def test_attention_letters_keep_their_softmax_meaning_elsewhere():
    assert check_answer(r"S_i(\delta_{ij} - S_j)", target=JAC, seed=5).verdict == "correct"
    assert check_answer(r"P \circ dP", target=JAC, seed=5).verdict == "invalid"


HESS = "cross-entropy-hessian"
# Forms from issue 18's list that the corpus needed, each with its public source (tests/data/README.md).
MORE_FORMS = [
    # General-K matrices: every entry shown is checked at the position it stands for (last row/column: K).
    ("mattpetersen (0-based)", JAC, "\\mathbf J_{\\mathbf x}(\\mathbf s) = \\begin{bmatrix}\ns_0 - s_0^2 & -s_0 s_1 & ... & "
     "-s_0 s_n \\\\[0.6em]\n -s_1 s_0 & s_1 - s_1^2 & ... & -s_1 s_n \\\\[0.6em]\n ... & ... & ... & ... \\\\[0.6em]\n"
     " -s_n s_0 & -s_n s_1 & ... & s_n - s_n^2 \\end{bmatrix}", None, "correct"),
    ("mnn (wrong signs)", JAC, r"J_x y = \begin{bmatrix} y_1 - y_1 y_1 & - y_1 y_2 & ... & - y_1 y_n \\ y_2 y_1 & "
     r"y_2 - y_1 y_2 & ... & - y_1 y_n \\ \vdots & \ddots \\ y_n y_1 & - y_n y_2 & ... & y_n - y_n y_n \end{bmatrix}",
     None, "incorrect"),
    ("general K", JAC, r"\begin{bmatrix} s_1(1-s_1) & \cdots & -s_1 s_K \\ \vdots & \ddots & \vdots \\ -s_K s_1 & "
     r"\cdots & s_K(1-s_K)\end{bmatrix}", None, "correct"),
    ("general K, last entry wrong", JAC, r"\begin{bmatrix} s_1(1-s_1) & \cdots & -s_1 s_K \\ \vdots & \ddots & \vdots "
     r"\\ -s_K s_1 & \cdots & s_K(1-s_1)\end{bmatrix}", None, "incorrect"),
    ("lsestrict (vector)", CE, r"\begin{bmatrix} p_1 - y_1 \\ \vdots \\ p_n - y_n \end{bmatrix}", None, "correct"),
    ("row vector", CE, r"\begin{pmatrix} p_1 - y_1 & \cdots & p_K + y_K \end{pmatrix}", None, "incorrect"),
    # Second derivatives as left sides (math.stackexchange 2416837).
    ("mse2416837", HESS, r"\frac{\partial^2}{\partial x_k x_j}\log \left(\sum_{i=1}^{n} e^{x_i}\right)=-\frac{e^{x_k}"
     r"e^{x_j}}{\left(\sum_{i=1}^{n} e^{x_i}\right)^2},", "j!=k", "correct"),
    ("mse2416837", HESS, r"\frac{\partial^2}{\partial x_k^2}\log \left(\sum_{i=1}^{n} e^{x_i}\right)=\frac{e^{x_k}"
     r"\left(\sum_{i=1}^{n} e^{x_i}-e^{x_k}\right)}{\left(\sum_{i=1}^{n} e^{x_i}\right)^2},", "i=j", "correct"),
    ("second derivative", HESS, r"\frac{\partial^2 L}{\partial z_i \partial z_j} = \sigma_i(\delta_{ij} - \sigma_j)",
     None, "correct"),
    ("second derivative, wrong sign", HESS, r"\frac{\partial^2 L}{\partial z_i \partial z_j} = \sigma_i\delta_{ij} + "
     r"\sigma_i\sigma_j", None, "incorrect"),
    # Damaged pages: underscores lost (jishuzhan.net), an empty row between cases (jiongjiongai).
    ("jishuzhan", JAC, r"\frac{\partial \hat{y}_i}{\partial z_j} = \hat{y}i (\delta{ij} - \hat{y}_j)", None, "correct"),
    ("jishuzhan", CE, r"\frac{\partial L}{\partial z_j} = -\sum{i=1}^C y_i (\delta{ij} - \hat{y}j)", None, "correct"),
    ("jiongjiongai", JAC, r"\dfrac {\partial } {\partial {x_j}} {\hat {y}_{i} } = \begin {cases} \hat {y}_{j} \left "
     r"( 1 - \hat {y}_{j} \right ), & i = j \\ \\ - \hat {y}_{i} \hat {y}_{j} , & i \neq j \end {cases}", None,
     "correct"),
]


@pytest.mark.parametrize("source, target, text, case, verdict", MORE_FORMS)
def test_more_real_forms_are_read(source, target, text, case, verdict):
    result = check_answer(text, target=target, case=case, seed=11)
    assert result.verdict == verdict, (source, result.message)


@pytest.mark.parametrize("text, message", [
    (r"s_0 - s_1", "index 0 is not a class number"),  # 0-based only inside a written-out matrix
    (r"\begin{bmatrix} s_i & \cdots & s_n \end{bmatrix}", "only the last one (as in s_n) is read"),
    (r"\begin{bmatrix} s_1 & \cdots \end{bmatrix}", "shows one entry only"),
    (r"\begin{bmatrix} s_1 & \cdots & s_2 & \cdots & s_n \end{bmatrix}", "dots in two places"),
    (r"\frac{\partial^3 L}{\partial z_i \partial z_j}", "a second derivative is read as"),
    (r"\sum_K p_K", "K cannot be an index"),
])
def test_forms_read_only_where_they_are_unambiguous(text, message):
    result = check_answer(text, target=JAC, seed=11)
    assert result.verdict == "invalid" and message in result.message, result.message


def test_a_general_matrix_is_judged_at_the_positions_it_shows():
    """At K = 3 every position of a matrix showing rows 1, 2 and K is checked: a wrong middle entry is found."""
    text = (r"\begin{bmatrix} s_1(1-s_1) & -s_1 s_2 & \cdots & -s_1 s_K \\ -s_2 s_1 & s_2 & \cdots & -s_2 s_K \\"
            r" \vdots & & \ddots \\ -s_K s_1 & -s_K s_2 & \cdots & s_K(1-s_K)\end{bmatrix}")
    text = text.replace(r"\vdots & & \ddots", r"\vdots & \vdots & \ddots & \vdots")
    result = check_answer(text, target=JAC, seed=11)
    assert result.verdict == "incorrect" and dict(result.counterexample.indices)["i"] == 2, result.message


@pytest.mark.parametrize("text, verdict, note", [
    (r"-\sum_{k=0}^{K-1} y_k (\delta_{ik} - p_i)", "correct", None),  # a course that counts from 0
    (r"-\sum_{k=1}^{10} y_k (\delta_{ik} - p_i)", "correct", "A sum over 10 classes"),  # MNIST (ecomnet)
    (r"-\sum_{k=0}^{9} y_k (\delta_{ik} - p_i)", "correct", "A sum over 10 classes"),
    (r"-\sum_{k=1}^{10} y_k (\delta_{ik} + p_i)", "incorrect", "A sum over 10 classes"),
    (r"-\sum_{k=0}^{K} y_k (\delta_{ik} - p_i)", "invalid", "from 0 to K-1"),  # K + 1 terms: not all classes
    (r"-\sum_{k=1}^{K-1} y_k (\delta_{ik} - p_i)", "invalid", "from 0 to K-1"),
    (r"-\sum_{k=1}^{10} y_k (\delta_{ik} - p_i) + \sum_{k=1}^{9} y_k", "invalid", "does not give the number"),
])
def test_sums_from_zero_and_to_a_number(text, verdict, note):
    result = check_answer(text, target=CE, seed=11)
    assert result.verdict == verdict, result.message
    assert note is None or note in result.message, result.message


@pytest.mark.parametrize("text, classes, verdict, Ks", [
    (r"-\sum_{k=1}^{10} y_k (\delta_{ik} - p_i)", None, "correct", [10]),  # right if the question has 10 classes
    (r"-\sum_{k=1}^{10} y_k (\delta_{ik} - p_i)", 10, "correct", [10]),
    (r"-\sum_{k=0}^{9} y_k (\delta_{ik} - p_i)", 10, "correct", [10]),
    (r"-\sum_{k=1}^{10} y_k (\delta_{ik} - p_i)", 9, "incorrect", None),  # red team, round 2: a sum to 9 of 10
    (r"\frac{e^{z_i}}{\sum_{k=1}^{9} e^{z_k}} - y_i", 10, "incorrect", None),
    (r"\sigma_i - y_i", 10, "correct", []),  # general K covers the question's 10
    (r"\begin{bmatrix}\sigma_1 - y_1\\ \sigma_2 - y_2\end{bmatrix}", 10, "incorrect", None),  # round 4: K = 2 of 10
    (r"\begin{bmatrix}\sigma_1 - y_1\\ \sigma_2 - y_2\end{bmatrix}", 2, "correct", [2]),
])
def test_a_sum_to_a_number_is_right_only_for_that_many_classes(text, classes, verdict, Ks):
    result = check_answer(text, target=CE, seed=11, classes=classes)
    assert result.verdict == verdict, result.message
    if verdict == "incorrect":
        assert result.mistake.id == "class-count" and f"the question has {classes}" in result.message
    else:
        assert result.evidence.to_dict()["Ks"] == Ks, result.evidence
        assert ("Right for a question with" in result.message) == (classes is None and bool(Ks)), result.message



@pytest.mark.parametrize("source, text, case, verdict", [
    # The normaliser written without its sum: Z, or a bare \sum standing as a value.
    ("barryhan", "∂s_i/∂z_i = (exp(z_i)·Z − exp(z_i)·exp(z_i)) / Z² = s_i − s_i² = s_i(1 − s_i)", "i=j", "correct"),
    ("barryhan", "∂s_i/∂z_j = −exp(z_i)·exp(z_j)/Z² = −s_i s_j", "i!=j", "correct"),
    ("barryhan", "∂s_i/∂z_j = −exp(z_i)·exp(z_j)/Z = −s_i s_j", "i!=j", "incorrect"),  # Z, not Z²
    ("blatherstrike", r"\frac{\partial {S_i}}{\partial a_i} = \frac {e^{a_i}\times \sum - e^{a_i}\times e^{a_i}}{\sum^2}",
     "i=j", "correct"),
    ("blatherstrike", r"\frac{\partial S_i}{\partial a_j} = \frac {0 \times \sum - e^{a_i} \times e^{a_j}} {\sum^2}",
     "i!=j", "correct"),
    ("blatherstrike", r"\frac{\partial S_i}{\partial a_j} = \frac {0 \times \sum - e^{a_i} \times e^{a_i}} {\sum^2}",
     "i!=j", "incorrect"),
])
def test_the_normaliser_written_without_its_sum(source, text, case, verdict):
    result = check_answer(text, target=JAC, case=case, seed=11)
    assert result.verdict == verdict, result.message
    assert r"\sum_{m=1}^{K}" in result.interpretation, result.interpretation


@pytest.mark.parametrize("text, message", [
    (r"\frac{e^{z_i}}{Z} - \frac{e^{x_i}}{Z}", "unknown symbol Z"),  # two letters exponentiated: which sum?
    (r"\sigma_i - Z", "unknown symbol Z"),  # nothing exponentiated
    (r"\sigma_i - Z_i", "Z"),  # an indexed Z is an array, never the normaliser
])
def test_the_normaliser_is_read_only_when_certain(text, message):
    result = check_answer(text, target=JAC, seed=11)
    assert result.verdict == "invalid" and message in result.message, result.message



@pytest.mark.parametrize("text, verdict", [
    # A layer (or example) label on every indexed letter, used nowhere else: read through (compphysics).
    (r"\frac{\partial f(z_i^l)}{\partial z_j^l}= f(z_i^l)\left(\delta_{ij}-f(z_j^l)\right),", "correct"),
    (r"s_i^{(l)}(\delta_{ij} - s_j^{(l)})", "correct"),
    (r"s_i^{[l]}(\delta_{ij} + s_j^{[l]})", "incorrect"),
    (r"\sigma_i^{(n)}(\delta_{ij} - \sigma_j^{(n)})", "correct"),
    (r"\sigma_i^k(\delta_{ij} - \sigma_j^k)", "invalid"),  # unbracketed k could be a power: not a label
    (r"\sigma_i^{(j)}(\delta_{ij} - \sigma_j)", "invalid"),  # j is also an index here
    (r"\sigma_i^l(\delta_{ij} - \sigma_j) + l", "invalid"),  # l used elsewhere
    (r"\sigma_i^2 - \sigma_i", "incorrect"),  # a number is a power
])
def test_layer_labels_are_read_through_only_when_they_are_labels(text, verdict):
    result = check_answer(text, target=JAC, seed=11)
    assert result.verdict == verdict, result.message


BATCH_B = "batched-linear-softmax-cross-entropy:b"


@pytest.mark.parametrize("target, text, verdict, upper", [
    # n and d are the author's summation letters where the target has no batch (N) or feature (D) size.
    (CE, r"\frac{e^{z_i}}{\sum_n e^{z_n}} - y_i", "correct", r"\sum_{n=1}^{K}"),
    (CE, r"\frac{e^{z_i}}{\sum_{n=1}^{N} e^{z_n}} - y_i", "correct", r"\sum_{n=1}^{K}"),
    (CE, r"-\sum_n y_n (\delta_{in} - p_i)", "correct", r"\sum_{n=1}^{K}"),
    (CE, r"\frac{e^{z_i}}{\sum_d e^{z_d}} - y_i", "correct", r"\sum_{d=1}^{K}"),
    (CE, r"\frac{e^{z_i}}{\sum_n e^{z_n}} + y_i", "incorrect", r"\sum_{n=1}^{K}"),
    (JAC, r"\frac{e^{z_i}}{\sum_n e^{z_n}}(\delta_{ij} - \frac{e^{z_j}}{\sum_n e^{z_n}})", "correct", r"\sum_{n=1}^{K}"),
    # The batched target has N examples: there a sum over n runs over them, to N.
    (BATCH_B, r"\frac{1}{N}\sum_n (P_{nk} - Y_{nk})", "correct", r"\sum_{n=1}^{N}"),
    (BATCH_B, r"\sum_n (P_{nk} - Y_{nk})", "incorrect", r"\sum_{n=1}^{N}"),
])
def test_sum_letter_runs_to_the_targets_sizes(target, text, verdict, upper):
    result = check_answer(text, target=target, seed=11)
    assert result.verdict == verdict, result.message
    assert upper in result.interpretation, result.interpretation


def test_a_size_the_target_lacks_outside_a_sum_is_still_not_judged():
    """Only a sum's limit is read as the number of classes: 1/N in a single-example answer is not K."""
    result = check_answer(r"(\sigma_i - y_i)/N", target=CE, seed=11)
    assert result.verdict == "undecided" and "N" in result.message, result.message


VJP = "softmax-vjp"


@pytest.mark.parametrize("source, target, text, verdict", [
    ("lexai", VJP, "y * (grad_out - dot(y, grad_out))", "correct"),
    ("xinghaow99", VJP, "grad_x = self.y * (grad_y - (grad_y * self.y).sum(axis=self.axis))", "correct"),
    ("code", VJP, "probs * (grad_out - np.sum(probs * grad_out, axis=-1, keepdims=True))", "correct"),
    ("code, sign slip", VJP, "out * (dout + dot(out, dout))", "incorrect"),
    ("code, no reduction", VJP, "probs * grad_out", "incorrect"),
    ("grahamco", JAC, "jacobian_matrix = np.diagflat(single_output) - \\\n    np.dot(single_output, single_output.T)",
     "correct"),
    ("code", CE, "return probs - labels", "correct"),
    ("code", CE, "dscores = probs - labels * 2", "incorrect"),
])
def test_code_names_are_read_as_the_letters_they_stand_for(source, target, text, verdict):
    result = check_answer(text, target=target, seed=11)
    assert result.verdict == verdict, (source, result.message)


@pytest.mark.parametrize("case, text, verdict", [
    ("y_i=1", r"\frac{\partial H}{\partial A_i} = \sigma(A_i) - 1", "correct"),  # purepisces: i is the true class
    ("Y_{i} = 1", r"\sigma_i - 1", "correct"),
    (None, r"\sigma_i - 1", "incorrect"),  # for a class other than the true one it is wrong
    ("y_i=1", r"\sigma_i", "incorrect"),
])
def test_the_true_class_case(case, text, verdict):
    assert check_answer(text, target=CE, case=case, seed=11).verdict == verdict


def test_cli_case_option():
    runner = CliRunner()
    ok = runner.invoke(main, ["check", "--target", JAC, "--case", "i=j", "--seed", "1", r"p_i(1-p_i)"])
    assert ok.exit_code == 0 and "for}\\: i = j" in ok.output, ok.output
    assert runner.invoke(main, ["check", "--target", JAC, "--seed", "1", r"p_i(1-p_i)"]).exit_code == 1
    bad = runner.invoke(main, ["check", "--target", JAC, "--case", "i<j", r"p_i(1-p_i)"])
    assert bad.exit_code == 2 and "a case is written i=j, i!=j or y_i=1" in bad.output


LINW, BATCHW = "linear-softmax-cross-entropy:W", "batched-linear-softmax-cross-entropy:W"


@pytest.mark.parametrize("source, target, text, verdict", [
    ("hessian, inline", HESS, r"\partial^2 L/\partial z_i \partial z_j = \sigma_i(\delta_{ij} - \sigma_j)", "correct"),
    ("hessian, inline, Unicode", HESS, "∂²L/∂z_i∂z_j = p_i(δ_ij − p_j)", "correct"),
    ("hessian, inline, wrong", HESS, r"\partial^2 L/\partial z_i \partial z_j = \sigma_i\delta_{ij}", "incorrect"),
    ("mse2060944", LINW, r"\frac{\partial L}{\partial W} = (p1^T - I)yx^T = (p - y)x^T", "correct"),
    ("mse2060944, sign slip", LINW, r"\frac{\partial L}{\partial W} = (p1^T + I)yx^T", "incorrect"),
    ("nabla_W", LINW, r"\nabla_{\mathbf W} \mathcal{L} = (p - y) x^\top", "correct"),
    ("whole-matrix left side", LINW, r"\frac{\partial L}{\partial \mathbf{W}} = (\mathbf{p} - \mathbf{y})\mathbf{x}^T",
     "correct"),
    ("whole-vector left side", "linear-softmax-cross-entropy:b", r"\frac{\partial L}{\partial b} = p + y", "incorrect"),
    ("x35yao (codecogs link)", BATCHW, '<img src="https://latex.codecogs.com/png.latex?%5Cnabla_W%20%3D%20%5Cfrac%7B1'
     '%7D%7BN%7D%20(P-Y)%5ET%20X" />', "correct"),
    ("codecogs link, wrong", BATCHW, '<img src="https://latex.codecogs.com/svg.latex?%5Cnabla_W%20%3D%20(P-Y)%5ET%20X">',
     "incorrect"),
])
def test_matrix_left_sides_and_pasted_links(source, target, text, verdict):
    result = check_answer(text, target=target, seed=11)
    assert result.verdict == verdict, (source, result.message)


def test_a_link_to_anything_else_is_not_decoded():
    assert check_answer('<img src="https://example.com/x.png?%5Csigma_i">', target=JAC).verdict == "invalid"


@pytest.mark.parametrize("source, target, text, verdict", [
    ("purepisces", LSJ, r"\frac{\partial \log \sigma_k}{\partial z_i} = \frac{1}{\sigma_k} \cdot -\sigma_k \cdot \sigma_i",
     "incorrect"),  # the i != k case only: judged without it, it is wrong on the diagonal
    ("sign after a product", JAC, r"\sigma_i \times - \sigma_j + \delta_{ij}\sigma_i", "correct"),
    ("ecomnet (综上, ...)", CE, r"综上, \frac{\partial L}{\partial z_i}=p_i-y_i", "correct"),
    ("ecomnet (// comment)", CE, r"\frac{\partial L}{\partial z}=softmax(z)-y //这里用到numpy的广播机制", "correct"),
    ("# comment", CE, "return probs - labels  # the one-hot labels", "correct"),
])
def test_signs_prose_and_comments_around_a_formula(source, target, text, verdict):
    result = check_answer(text, target=target, seed=11)
    assert result.verdict == verdict, (source, result.message)


LSE = "logsumexp-gradient"


@pytest.mark.parametrize("source, target, text, verdict", [
    ("lynx", CE, r"\frac{\partial L}{\partial z_j} = p_j - \mathbb{1}[j = y]", "correct"),
    ("indicator of the class", CE, r"p_j - \mathbb{1}\{y = j\}", "correct"),
    ("indicator of the class, wrong", CE, r"p_j + \mathbb{1}[j = y]", "incorrect"),
    ("index range stated", CE, r"p_j - y_j, \quad j = 1, \ldots, K", "correct"),
    ("lsestrict (\\triangleq, general vector)", LSE, r"g \triangleq \frac{1}{\sum_i e^{x_i}} \begin{bmatrix} e^{x_1} \\ "
     r"\vdots \\ e^{x_n} \end{bmatrix}", "correct"),
    ("sse409658 (tuple)", LSE, r"\nabla f(\mathbf{a}) &= \frac{1}{\sum_{i=1}^n \exp(a_i)} (\exp(a_1),...,\exp(a_n)), "
     r"\\[12pt]", "correct"),
    ("tuple, last entry wrong", LSE, r"\frac{1}{\sum_i e^{x_i}} (e^{x_1}, \ldots, e^{x_1})", "incorrect"),
    ("a tuple in a sum", LSE, r"(\sigma_1, ..., \sigma_K) + 1", "invalid"),
])
def test_indicators_ranges_and_vectors_as_written(source, target, text, verdict):
    result = check_answer(text, target=target, seed=11)
    assert result.verdict == verdict, (source, result.message)


def test_the_exponentiated_letter_is_a_guessed_logit():
    result = check_answer(r"\frac{1}{\sum_i e^{x_i}} (e^{x_1}, \ldots, e^{x_n})", target=LSE, seed=11)
    assert result.reading["roles"]["x"] == LOGITS and "x" in result.reading["guessed"]


@pytest.mark.parametrize("fill", [" ", ", ", "\\quad ", "i,", "e^ ", "\\mathbb ", "\\sum ", "\\sum^ 2 ", "Z e^{z_i} ", "z_i^{( l) ", "_ i ^ "])
def test_reading_hostile_whitespace_stays_linear(fill):
    """A trailing-range pattern once backtracked for 78 s of CPU on 3900 spaces; every spelling pattern
    must stay far below a second on the longest answer (CPU time, not wall time)."""
    import time
    from derive.check.spellings import normalise, set_aside_named_left_side, split_condition
    text = "x" + fill * (3900 // len(fill)) + "!"
    start = time.process_time()
    split_condition(set_aside_named_left_side(normalise(text))[0])
    infer(text)
    assert time.process_time() - start < 3.0


def test_code_names_are_echoed_as_typed():
    result = check_answer("probs * (grad_out - np.sum(probs * grad_out))", target=VJP, seed=11)
    assert result.reading["roles"] == {"probs": OUT, "grad_out": "upstream gradient dL/ds"}, result.reading
    assert "Read as probs: softmax output, grad_out: upstream gradient dL/ds" in result.message


def test_every_echo_term_is_said_in_both_languages_and_zh_echo_is_chinese():
    from derive.check.reading import INDEX_MEANINGS, ROLE_NAMES
    from derive.check.words import say
    for term in {*ROLE_NAMES.values(), *INDEX_MEANINGS}:
        assert say("en", term, "terms") == term
        assert say("zh", term, "terms")
    from derive.check.checker import check_answer
    verdict = check_answer(r"\frac{\partial E}{\partial o_j} = p_j - t_j", target="cross-entropy-gradient",
                           seed=1, lang="zh")
    assert "p（softmax 输出）" in verdict.message and "t（目标）" in verdict.message
    assert "Read as" not in verdict.message and "targets" not in verdict.message


_CODE_PIECES = ["np.", "return", "self.", "delta(", "one_hot(", "onehot(", "dot(", "//", "probs", "logits", ".T",
                "x[i]", ")[j]", "grad_out", "_probs", "\\probs", *"abnpdotTsrelfhyz_[]()./ \\\t\n=+-*1230"]


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_CODE_PIECES), max_size=12).map("".join))
def test_an_answer_looks_like_code_exactly_when_one_of_the_hints_matches_it(text):
    """The substring tests before each hint only skip patterns that cannot match: the same decision as
    one search of all the hints as an alternation."""
    import re

    from derive.check import spellings
    alternation = re.compile("|".join(pattern.pattern for _needle, pattern in spellings._CODE_HINTS))
    assert spellings._looks_like_code(text) == (alternation.search(text) is not None)
    assert all(needle in pattern.pattern.replace("\\", "") or not needle for needle, pattern in spellings._CODE_HINTS)


_SPELLING_PIECES = ["\\delta", "δ", "\\hat", "\\sum", "\\frac", "=", "\\mathbb", "\\mathop", "\\diag", "{", "}", "\\bbox",
                    "\\boxed", "/", "∂", "\\partial", "\\\\", "\\end", "\\text", "当", "若", "其他", "否则", "\\mathbf", "[", "]",
                    "\\otimes", "\\sigma", "(", ")", "_", "^", " ", ".", ",", ";", "i", "j", "y", "d", "L", "CE", "loss", "1",
                    "I", "if", "cases", "textrm", "diag", "时", "k", "\\hat{y}", "\\sum{i", "1_{i", "\\mathbb{1}", "\\mathbb 1",
                    "\\frac{\\delta", "\\frac{d", "dL", "/dz", "\\text{if", "[\\sigma(z)]", "s \\otimes s", "\\delta_{i=j}",
                    "δ_ij", "\\partial CE", ". \\\\", "当 i=j", "S_i(\\mathbf z)", "{}", "\\boxed{", "\\diag(", "1_{i=j}"]


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_SPELLING_PIECES), max_size=12).map("".join))
def test_a_spelling_is_skipped_only_where_its_pattern_cannot_match(text):
    """Each spelling's pattern is tried only where one of its texts stands: the same result as trying
    every pattern in turn."""
    from derive.check import spellings
    every, skipping = text, text
    for needles, pattern, replacement in spellings._SPELLINGS:
        every = pattern.sub(replacement, every)
        if any(needle in skipping for needle in needles):
            skipping = pattern.sub(replacement, skipping)
        assert every == skipping


_CONDITION_PIECES = ["a", "i", "j", "k", " ", ",", ";", "\\quad", "\\qquad", "=", "==", "!=", "\\ne", "\\neq", "≠", "1",
                     "..", "\\ldots", "K", "for", "if", "\\text{if}", "\\text{ otherwise }", "otherwise", "else", "其他",
                     "否则", "当", "时", "(", ")", "（", "）", ".", "\\\\", "σ_i", "y_i", " - ", "\\,", "。", "…", "\\cdots"]


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_CONDITION_PIECES), max_size=10).map("".join))
@example("a, i ≠ j")
@example("a \\quad i \\neq j")
@example("a (i != j)")
@example("a, i == j")
@example("a, 其他")
@example("a \\text{ else }")
@example("a, 否则")
@example("a, \\quad i = 1, \\ldots, K")
def test_a_case_condition_is_searched_for_only_where_the_text_it_needs_stands(text):
    """split_condition searches for a range, an `otherwise` and a case only in a text holding "=", one of
    the words or one of the operators: every match of each pattern holds them."""
    from derive.check import spellings
    for pattern, needles in ((spellings._INDEX_RANGE, ("=",)), (spellings._OTHERWISE, spellings._OTHERWISE_WORDS),
                             (spellings._CONDITION, spellings._CONDITION_OPS)):
        match = pattern.search(text)
        assert match is None or any(needle in match.group(0) for needle in needles), (pattern.pattern, text)


_LEFT_SIDE_PIECES = ["\\frac{\\partial ", "\\dfrac{", "\\partial ", "∂", "d", "/", "\\over", "{", "}", "L", "z_i", "a_j", "e^{",
                     "e^", "e ^", "\\exp(", "exp (", "\\exp", "\\mathbf{", "x", "_k", " ", "-", "(", ")", "=", ",", "^"]


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_LEFT_SIDE_PIECES), max_size=10).map("".join))
@example("\\frac{\\partial L}{\\partial z_i}")
@example("{\\partial L \\over \\partial z_i}")
@example("dL/dz_i")
@example("e^{a_i} + \\exp(a_j) - exp(\\mathbf{a}_k)")
def test_a_left_side_or_an_exponential_is_searched_for_only_where_the_text_it_needs_stands(text):
    """infer searches for each form of a left side, and for what is exponentiated, only in a text that
    holds its literal (frac, \\over, /; ^ or exp): every match holds it."""
    from derive.check import reading, spellings
    for needle, pattern in reading._LEFT_SIDES:
        assert all(needle in match.group(0) for match in pattern.finditer(text)), (needle, text)
    assert all(any(needle in match.group(0) for needle in spellings.EXPONENTIATED_NEEDS)
               for match in spellings.EXPONENTIATED.finditer(text)), text


@pytest.mark.parametrize("target, text", [  # red team, rounds 3 and 4: the forms `softmax-derive list` prints
    ("log-softmax-jacobian", r"I - \mathbf{1}\sigma^\top"),
    ("softmax-vjp", r"\sigma \odot (g - \sigma^\top g)"),  # the inner product taken from every entry
    ("softmax-vjp", r"\sigma \odot (g - g^\top \sigma)"),
])
def test_matrix_forms_with_the_vector_of_ones_and_an_inner_product_are_read(target, text):
    result = check_answer(text, target=target, seed=11)
    assert result.verdict == "correct", result.message


def test_a_bold_one_stays_an_indicator_where_a_condition_follows_and_a_number_is_no_vector():
    assert check_answer(r"\mathbb{1}_{i=j} - \sigma_j", target="log-softmax-jacobian", seed=11).verdict == "correct"
    assert check_answer(r"\sigma \odot (g - g^\top g)", target="softmax-vjp", seed=11).verdict == "incorrect"
    assert check_answer(r"\sigma + 1", target=CE, seed=11).verdict == "invalid"


PAGE = ("We have $L = -\\sum_k y_k \\log \\sigma_k$. Using $\\frac{\\partial \\log\\sigma_k}{\\partial z_i} = \\delta_{ki} - "
        "\\sigma_i$,\n$$\\frac{\\partial L}{\\partial z_i} = -\\sum_k y_k(\\delta_{ki} - \\sigma_i) = \\sigma_i - y_i$$\n"
        "since $\\sum_k y_k = 1$.")


@pytest.mark.parametrize("text, verdict, line", [  # red team, round 5: a page pasted whole was invalid
    (PAGE, "correct", None),
    (PAGE.replace("= \\sigma_i - y_i$$", "= \\sigma_i + y_i$$"), "incorrect", 2),  # the line on the page
    ("解：交叉熵损失为\n$$L = -\\sum_k y_k \\log \\sigma_k$$\n对 z_i 求偏导得\n"
     "$$\\frac{\\partial L}{\\partial z_i} = \\sigma_i - y_i$$", "correct", None),
])
def test_a_pasted_page_is_read_by_its_display_formulas(text, verdict, line):
    result = check_answer(text, target=CE, seed=11)
    assert result.verdict == verdict and result.first_wrong_line == line, result.message
    assert "Only the display formulas" in result.message


def test_the_display_search_is_bounded_by_the_answer_length():
    from derive.check.spellings import displayed_formulas
    assert displayed_formulas("\\[" * 50_000) == ("\\[" * 50_000, False)  # refused as too long when read
