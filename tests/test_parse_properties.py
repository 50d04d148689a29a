"""Properties of the parser: it reads back what we print, and on any text it returns an
expression or a ParseError, nothing else, within its time bound."""
from __future__ import annotations

import time
from importlib import resources

import lark
import sympy as sp
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.lark import from_lark

from derive.errors import ParseError
from derive.parse.parser import parse_line
from derive.render.printer import to_latex
from derive.symbols import K, i, j, k, sigma, y, z

TIME_BOUND = 2.0  # seconds for one parse, however hostile the text

atoms = st.sampled_from([sigma[i], sigma[j], z[i], z[j], y[i], sp.KroneckerDelta(i, j), sp.Integer(2),
                         sp.Integer(3), sp.Rational(1, 2)])


def _combine(children):
    return st.one_of(
        st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] - ab[1]),
        # exp of exp is allowed; a third exp is refused as too large, by design (e^{e^{e^3}})
        children.map(lambda a: sp.exp(a) if not a.is_Number and not a.has(sp.exp) else a),
    )


expressions = st.recursive(atoms, _combine, max_leaves=6)
summed = st.sampled_from([sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K)), sp.Sum(sp.exp(z[k]), (k, 1, K)),
                          sp.Sum(y[k], (k, 1, K))])


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_parse_reads_back_what_to_latex_prints(expr):
    (read,) = parse_line(to_latex(expr)).parts
    # The printer may factor out a number ((s + 1/2) s + 1/2 prints as 1/2 (s (2 s + 1) + 1)): what is
    # read back is then the same expression in the printed form.
    assert read == expr or sp.expand(read - expr) == 0, (to_latex(expr), read)


@settings(max_examples=60, deadline=None)
@given(expressions, summed)
def test_round_trip_with_sums(expr, total):
    combined = expr * total
    assert parse_line(to_latex(combined)).parts == (combined,)


@settings(max_examples=60, deadline=None)
@given(expressions, st.sampled_from([i, j]))
def test_a_sum_reusing_a_free_index_reads_as_its_own_variable(expr, letter):
    """Normal scoping: in expr * sum_i e^{z_i}, the sum's i is bound; where expr also holds a free i,
    the sum's is read renamed to k and the free i stays as it is."""
    combined = expr * sp.Sum(sp.exp(z[letter]), (letter, 1, K))
    line = parse_line(to_latex(combined))
    reused = expr.has(letter)
    assert line.parts == (expr * sp.Sum(sp.exp(z[k if reused else letter]), (k if reused else letter, 1, K)),)
    assert line.reused_sum_indices == ((str(letter),) if reused else ())


def _parse_within_bound(text: str) -> None:
    start = time.perf_counter()
    try:
        line = parse_line(text)
        assert all(p is None or isinstance(p, sp.Basic) for p in line.parts)
    except ParseError:
        pass
    assert time.perf_counter() - start < TIME_BOUND


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_gives_an_expression_or_a_parse_error(text):
    _parse_within_bound(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="\\_^{}()[]+-*/=,&σδ·×−ijkKLyzpSset0123456789 .sumfracexplogdeltaigm", max_size=120))
def test_latexish_text_gives_an_expression_or_a_parse_error(text):
    _parse_within_bound(text)


GRAMMAR = lark.Lark(resources.files("derive.parse").joinpath("grammar.lark").read_text(), parser="lalr",
                    maybe_placeholders=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.filter_too_much])
@given(from_lark(GRAMMAR, start="start"))
def test_grammar_generated_text_gives_an_expression_or_a_parse_error(text):
    _parse_within_bound(text)
