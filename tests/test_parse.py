"""The parser: what each notation is read as, and how bad input is refused."""
from __future__ import annotations

import pytest
import sympy as sp

from derive.errors import ParseError
from derive.parse.parser import parse, parse_line
from derive import symbols as S
from derive.symbols import K, L, i, j, k, sigma, y, z

m = sp.Symbol("m", integer=True, positive=True)
SIGMA_V, Y_V, Z_V = (sp.MatrixSymbol(n, K, 1) for n in ("sigma", "y", "z"))
d = sp.KroneckerDelta(i, j)
JAC = sigma[i] * (d - sigma[j])

READINGS = [
    (r"\sigma_i(\delta_{ij}-\sigma_j)", JAC),
    (r"S_i(\delta_{ij}-S_j)", JAC),
    (r"s_i(\delta_{i j}-s_j)", JAC),
    (r"p_i(\delta_{i,j}-p_j)", JAC),
    (r"\hat{y}_i(\delta_{ji}-\hat{y}_j)", sigma[i] * (sp.KroneckerDelta(j, i) - sigma[j])),
    (r"\mathrm{softmax}(z)_i(\mathbb{1}[i=j]-\mathrm{softmax}(z)_j)", JAC),
    (r"softmax(z)_i*(delta(i,j) - softmax(z)_j)", JAC),
    (r"sigma_i*(delta(i,j) - sigma_j)", JAC),
    ("σ_i(δ_{ij} − σ_j)", JAC),
    ("σ_i·(δ_{ij} − σ_j)", JAC),
    (r"\sigma_i \cdot \left( \mathbb{1}_{i=j} - \sigma_j \right)", JAC),
    (r"\sigma_i \times ([i=j] - \sigma_j)", JAC),
    (r"\sigma_i\,(\delta_{ij}-\sigma_j)", JAC),
    (r"\frac{e^{z_i}}{\sum_k e^{z_k}}", sp.exp(z[i]) / sp.Sum(sp.exp(z[k]), (k, 1, K))),
    (r"\dfrac{\exp(z_i)}{\sum_{k=1}^{K} \exp(z_k)}", sp.exp(z[i]) / sp.Sum(sp.exp(z[k]), (k, 1, K))),
    (r"\frac{e^{z_i}}{\sum_{m} e^{z_m}}", sp.exp(z[i]) / sp.Sum(sp.exp(z[m]), (m, 1, K))),
    # Normal scoping: the sum's i is its own variable (renamed to a free letter), not the free i outside.
    (r"\frac{e^{z_i}}{\sum_i e^{z_i}}", sp.exp(z[i]) / sp.Sum(sp.exp(z[k]), (k, 1, K))),
    (r"\frac{e^{z_k}}{\sum_k e^{z_k}}", sp.exp(z[k]) / sp.Sum(sp.exp(z[m]), (m, 1, K))),
    (r"-\sum_k y_k \log \sigma_k", -sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K))),
    (r"-\sum_k t_k \ln(p_k)", -sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K))),
    (r"\sigma_i - y_i", sigma[i] - y[i]),
    (r"p - y", SIGMA_V - Y_V),
    (r"\operatorname{diag}(\sigma) - \sigma\sigma^\top",
     sp.matrices.expressions.DiagMatrix(SIGMA_V) - SIGMA_V * SIGMA_V.T),
    (r"\sigma_i^2 - 2^{3}", sigma[i] ** 2 - 8),
    (r"\frac{1}{2} \sigma_i", sigma[i] / 2),
    (r"0.5 \sigma_i", sp.Rational(1, 2) * sigma[i]),
    (r"{\sigma_i}/{2}", sigma[i] / 2),
    (r"\frac{\partial \sigma_i}{\partial z_j}", sp.Derivative(sigma[i], z[j], evaluate=False)),
    (r"\frac{\partial L}{\partial \sigma_k}\frac{\partial \sigma_k}{\partial z_i}",
     sp.Derivative(L, sigma[k], evaluate=False) * sp.Derivative(sigma[k], z[i], evaluate=False)),
    (r"\frac{\partial}{\partial z_j} \log S_i", sp.Derivative(sp.log(sigma[i]), z[j], evaluate=False)),
    (r"\begin{cases} \sigma_i(1-\sigma_i) & i = j \\ -\sigma_i\sigma_j & i \neq j \end{cases}",
     sp.Piecewise((sigma[i] * (1 - sigma[i]), sp.Eq(i, j)), (-sigma[i] * sigma[j], True))),
    (r"\begin{cases} \sigma_i(1-\sigma_i), & \text{if } i = j \\ -\sigma_i\sigma_j & \text{otherwise} \end{cases}",
     sp.Piecewise((sigma[i] * (1 - sigma[i]), sp.Eq(i, j)), (-sigma[i] * sigma[j], True))),
]


@pytest.mark.parametrize("text, expected", READINGS)
def test_reading(text, expected):
    assert parse(text) == expected


# Backpropagation names: arrays g, x, b, W, X, P, Y; scalars T (also \tau), epsilon, N, D, u.
BACKPROP_READINGS = [
    (r"g_i", S.g[i]),
    (r"x_d", S.x[S.d]),
    (r"W_{id}", S.W[i, S.d]),
    (r"W_{i,d}", S.W[i, S.d]),
    (r"b_i", S.b[i]),
    (r"X_{nd} P_{n,i} Y_{ni}", S.X[S.n, S.d] * S.P[S.n, i] * S.Y[S.n, i]),
    (r"\frac{1}{T}", 1 / S.T),
    (r"\frac{1}{\tau}", 1 / S.T),
    ("τ", S.T),
    (r"\frac{\epsilon}{K}", S.epsilon / K),
    (r"\varepsilon + ε + eps + epsilon", 4 * S.epsilon),
    (r"\sum_d W_{kd} x_d", sp.Sum(S.W[k, S.d] * S.x[S.d], (S.d, 1, S.D))),
    (r"\frac{1}{N}\sum_n P_{ni}", sp.Sum(S.P[S.n, i], (S.n, 1, S.N)) / S.N),
    (r"\sum_{m=1}^{N} P_{mi}", sp.Sum(S.P[m, i], (m, 1, S.N))),
    (r"\sigma(u)", 1 / (1 + sp.exp(-S.u))),
    (r"\sigma(z_1 - z_2)", 1 / (1 + sp.exp(-(z[1] - z[2])))),
    (r"\frac{\partial L}{\partial W_{id}}", sp.Derivative(L, S.W[i, S.d], evaluate=False)),
    (r"(\sigma - y) x^\top", (SIGMA_V - Y_V) * sp.MatrixSymbol("x", S.D, 1).T),
    (r"\sigma^T", SIGMA_V.T),  # ^T is still a transpose; T alone is the temperature
]


@pytest.mark.parametrize("text, expected", BACKPROP_READINGS)
def test_backprop_reading(text, expected):
    assert parse(text) == expected


# Constructs grown for real answers (issue 18): each read as it is meant, within the same bounds.
GROWN_READINGS = [
    (r"\sum_{k \neq i} y_k", sp.Sum(y[k], (k, 1, K)) - y[i]),  # exclusion sum
    (r"\sum_{k \ne j} y_k", sp.Sum(y[k], (k, 1, K)) - y[j]),
    (r"\sum^K_{k=1} y_k", sp.Sum(y[k], (k, 1, K))),
    (r"\sum_k^C y_k", sp.Sum(y[k], (k, 1, K))),  # C, V, n, q: the number of classes
    (r"\sum_{k}^{ } y_k", sp.Sum(y[k], (k, 1, K))),
    (r"\sum\limits_{k=1}^{K} y_k", sp.Sum(y[k], (k, 1, K))),
    (r"{1 \over \sigma_i}", 1 / sigma[i]),
    (r"[1 - \sigma_j]^2", (1 - sigma[j]) ** 2),  # square brackets group
    (r"\partial \sigma_i / \partial z_j", sp.Derivative(sigma[i], z[j])),
    ("∂L/∂z_i", sp.Derivative(L, z[i])),
    (r"{\partial \sigma_i \over \partial z_j}", sp.Derivative(sigma[i], z[j])),
    (r"\frac{\partial}{\partial z_j} e^{z_i} \sigma_i", sp.Derivative(sp.exp(z[i]) * sigma[i], z[j])),
    (r"\hat y_i", sigma[i]), (r"\hat{p}_i", sigma[i]),  # a hat marks the output
    (r"\boxed{\sigma_i}", sigma[i]), (r"\color{red}{y_i}", y[i]), (r"\sigma_i \tag{1.2}", sigma[i]),
    ("σ_i² — y_i", sigma[i] ** 2 - y[i]), ("σ_i（1 − σ_i）", sigma[i] * (1 - sigma[i])),
    (r"\sigma(z_i)", sigma[i]),
]


@pytest.mark.parametrize("text, expected", GROWN_READINGS)
def test_grown_reading(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text, message", [
    (r"\sum_{k \neq k} y_k", "excludes k itself"),
    (r"\sum_k^M y_k", "sums run from 1 to K"),
    (r"\theta_i", "unknown symbol"),  # a Greek letter needs a role from the answer or a declaration
    (r"\partial \sigma_i / \partial T", "derivatives are taken"),
])
def test_grown_refusals(text, message):
    with pytest.raises(ParseError, match=message):
        parse(text)


def test_declared_roles_reach_the_builder():
    assert parse_line(r"\theta_i - a_i", roles={r"\theta": "z", "a": "sigma"}).parts == (z[i] - sigma[i],)


def test_sigma_of_an_indexed_logit_is_the_softmax_entry():
    # Courses write the softmax entry as \sigma(A_k) (purepisces in tests/data): the entry, not a sigmoid.
    assert parse(r"\sigma(z_i)") == sp.Indexed(sp.IndexedBase("sigma"), sp.Symbol("i", integer=True, positive=True))


def test_left_hand_side_and_chain():
    line = parse_line(r"\frac{\partial L}{\partial z_i} = \sigma_i - y_i")
    assert line.parts == (sp.Derivative(L, z[i], evaluate=False), sigma[i] - y[i])
    assert parse_line(r"= \sigma_i - y_i").parts == (None, sigma[i] - y[i])


def test_a_reused_sum_index_is_bound_to_its_sum_and_reported():
    line = parse_line(r"\frac{e^{z_j}}{\sum_j e^{z_j}} = \sigma_j - \sum_k \sum_j \sigma_j y_k")
    assert line.parts == (sp.exp(z[j]) / sp.Sum(sp.exp(z[k]), (k, 1, K)),
                          sigma[j] - sp.Sum(sigma[m] * y[k], (m, 1, K), (k, 1, K)))
    assert line.reused_sum_indices == ("j",)
    assert parse_line(r"\frac{e^{z_j}}{\sum_k e^{z_k}}").reused_sum_indices == ()


def test_ln_is_reported_as_natural():
    assert parse_line(r"\ln \sigma_i").used_ln


REFUSALS = [
    (r"\input{/etc/passwd}", r"unknown command \\input"),
    (r"\write18{rm -rf /}", r"unknown command \\write"),
    (r"\def\x{1}", r"unknown command \\def"),
    ("<script>alert(1)</script>", "unexpected"),
    ("__import__('os').system('x')", "unexpected"),
    ("().__class__", "unexpected"),
    ("sigma.__class__", "unexpected"),
    ("1e999999", "exponent notation"),
    ("1234567", "more than 6 digits"),
    ("9^{9^{9^9}}", "too large"),
    ("((9^9)^{9999})^{9999}", "too large"),
    ("(10^6)!", "unexpected character '!'"),
    ("(" * 3000 + "1" + ")" * 3000, "too long|nested too deeply"),
    ("(" * 45 + "1" + ")" * 45, "nested too deeply"),
    ("x" * 100_000, "too long"),
    ("σ_i\x00", "U\\+0000"),
    ("a\u202eb", "U\\+202E RIGHT-TO-LEFT OVERRIDE"),
    ("р_i - y_i", "CYRILLIC SMALL LETTER ER looks like the Latin letter 'p'"),
    ("1/0", "division by zero"),
    (r"\frac{1}{\sigma_i - \sigma_i}", "division by zero"),
    ("", "empty"),
    ("   ", "empty"),
    (r"\sigma_i(1 - \sigma_j", "not closed|ends too early"),
    (r"\sum y_k", "which index is summed"),
    (r"\sigma_i + \sigma", "cannot combine"),
    (r"\delta_i", "two indices"),
    (r"q_i", "unknown symbol"),
    (r"i + 1", "stands alone"),
    (r"\sum_{k=0}^{K} y_k", "from 1 to K"),
]


@pytest.mark.parametrize("text, message", REFUSALS)
def test_refusal(text, message):
    with pytest.raises(ParseError, match=message):
        parse(text)


def test_refusals_name_the_column():
    with pytest.raises(ParseError) as info:
        parse("σ_i - \u202e")
    assert info.value.column == 7


def test_columns_count_in_the_students_own_text_after_unicode():
    with pytest.raises(ParseError) as info:
        parse("σ_i − σ_j )")
    assert info.value.column == 11


def test_friendly_messages_parse_each_example_once_per_process():
    """An unreadable answer is matched against lark's errors on the example slips; those errors never
    change, so the examples are parsed once, and the second answer gets the same message."""
    from derive.parse.parser import _EXAMPLES, _example_failure
    messages = []
    for _ in range(2):
        with pytest.raises(ParseError) as caught:
            parse(r"\sigma_i(1 - \sigma_j")
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "not closed" in messages[0]
    assert _example_failure.cache_info().currsize <= sum(len(texts) for texts in _EXAMPLES.values())
    with pytest.raises(ParseError, match="closes without opening"):
        parse(r"\sigma_i)")


def test_no_builder_method_is_named_after_a_token():
    """The builder skips lark's per-token callbacks (visit_tokens=False): right only while no method
    of it is named after one of the grammar's tokens, which lark would otherwise call."""
    from derive.parse.build import Build
    from derive.parse.parser import grammar
    assert [t.name for t in grammar().terminals if hasattr(Build, t.name)] == []


def test_sums_and_entries_are_made_once_per_process_and_are_sympys_own():
    """A class's answers repeat the same sums and entries: each is built once, and is what SymPy builds."""
    first, again = parse(r"\sum_k e^{z_k}"), parse(r"\sum_{k=1}^{K} e^{z_k}")
    assert first is again
    assert first == sp.Sum(sp.exp(z[k]), (k, 1, K))
    assert parse("y_j") is parse("y_{j}") and parse("y_j") == y[j]
    assert parse("W_{id}") == S.W[i, S.d]


def test_the_magnitude_of_an_exact_number_is_bounded_at_ten_to_the_300_exactly():
    """log10_bound compares a rational with 10^300 in integers: the same answer as SymPy's comparison,
    right at the edge too."""
    import math

    from derive.parse.bounds import log10_bound
    assert log10_bound(sp.Integer(10**300 - 1)) == 300.0 and log10_bound(sp.Integer(-10**300)) == math.inf
    assert log10_bound(sp.Rational(10**301 - 1, 10)) == 300.0 and log10_bound(sp.Rational(10**301 + 1, 10)) == math.inf
    assert log10_bound(sp.Rational(1, 3)) == 0.0 and log10_bound(sp.Rational(-2000, 2)) == 3.0


def test_the_screen_keeps_each_characters_column_in_the_students_own_line():
    """Columns count from the start of each line, and a mapped character (σ -> \\sigma) keeps its own
    column for every character it became; the same whether the text needs mapping or not."""
    from derive.parse.text import UNICODE_TO_LATEX, screen_with_origin, where
    for text in ("a + b", "a\n  + b", "σ_i\n  − y_i", "x\r\ny \\cdot z", "\n\n\\sigma_j"):
        _screened, origin = screen_with_origin(text)
        assert origin == tuple(where(text, index)[1] for index, ch in enumerate(text)
                               for _ in UNICODE_TO_LATEX.get(ch, ch))


_LINE_PIECES = ["a", " ", "\\", "\\\\", "\n", "&", "\\&", "=", "x_1", "{", "}", "$", "$$", "\\[", "\\]", "\\\\[2em]",
                "\\begin{cases}", "\\end{cases}", "\\begin{pmatrix}", "\\end {matrix}", "\\begin{align}", "\\begin",
                "\\end", "\\sum_k", "σ", "\t", "\r"]


def test_a_text_without_a_break_is_split_as_the_walk_splits_it():
    """split walks the text character by character only where it holds a line break, \\\\, &, \\begin or
    \\end: any other text gives the segments (and errors) the walk gives it."""
    import random
    import re
    from unittest import mock

    from derive.parse import lines

    def segments(text):
        try:
            return [(segment.line, segment.text) for segment in lines.split(text)]
        except ParseError as error:
            return str(error)
    rng = random.Random(7)
    texts = ["".join(rng.choice(_LINE_PIECES) for _ in range(rng.randint(0, 10))) for _ in range(5000)]
    fast = [segments(text) for text in texts]
    with mock.patch.object(lines, "_BREAKS", re.compile("")):  # every text walked
        walked = [segments(text) for text in texts]
    assert fast == walked
    assert sum(lines._BREAKS.search(text) is None for text in texts) > 500  # the fast path was taken


def test_the_nodes_of_an_expression_are_those_sympys_atoms_finds_and_are_walked_once():
    """atoms_of gives what expr.atoms gives, for every kind and for a mutable matrix too; the walk is
    remembered per expression (reading an answer asks it of its sums, then of the letters it uses)."""
    from derive.algebra import nodes
    texts = [r"\sigma_i \sum_k y_k - y_i + 537(\sum_k y_k - 1)", r"\frac{e^{z_i}}{\sum_{k=1}^{K} e^{z_k}} - y_i",
             r"\frac{\partial L}{\partial z_i}", r"\sum_j \sum_k \delta_{jk} \sigma_j \log \sigma_k",
             r"\begin{cases} 1 & i = j \\ 0 & i \neq j \end{cases}", r"\sigma \odot g - \sigma \sigma^T g",
             r"\sigma \sigma^T", "2.5 x_3^{2} / 7"]
    kinds = [(sp.Sum,), (sp.Indexed, sp.MatrixSymbol), (sp.Symbol,), (sp.Number,), (sp.Basic,), (sp.Derivative, sp.exp)]
    for text in texts:
        expr = parse(text)
        for kind in kinds:
            assert nodes.atoms_of(expr, *kind) == expr.atoms(*kind), (text, kind)
    matrix = sp.Matrix([[sigma[i], sp.Sum(y[k], (k, 1, K))], [sp.Integer(2), z[j]]])
    assert nodes.atoms_of(matrix, sp.Indexed, sp.Sum) == matrix.atoms(sp.Indexed, sp.Sum)
    nodes._nodes_by_kind.cache_clear()
    expr = parse(texts[0])
    nodes.atoms_of(expr, sp.Sum), nodes.atoms_of(expr, sp.Indexed)
    assert nodes._nodes_by_kind.cache_info().misses == 1
