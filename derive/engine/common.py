"""Building blocks every derivation module uses: a step chain, assumptions, matrix-form checks."""
from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .. import settings
from ..model import Assumption, Rule, Step
from ..symbols import K, i, j, y, k

INDEX_RANGE = Assumption("index-range", sp.And(sp.Le(1, i), sp.Le(i, K), sp.Le(1, j), sp.Le(j, K)))
INDEX_RANGE_I = Assumption("index-range", sp.And(sp.Le(1, i), sp.Le(i, K)))
TARGETS_SUM_TO_ONE = Assumption(settings.TARGETS_SUM_TO_ONE, sp.Eq(sp.Sum(y[k], (k, 1, K)), 1))
TARGETS_NONNEGATIVE = Assumption("targets-nonnegative", sp.Ge(y[k], 0))


class Chain:
    """Accumulates `lhs = rhs_1 = rhs_2 = ...`, each rhs made by a rewrite of the one before."""

    def __init__(self, lhs: sp.Basic, first_rhs: sp.Basic, note: str, rule: Rule = Rule.DEFINITION, *,
                 facts: tuple[str, ...] = ()):
        self.lhs = lhs
        self.steps: list[Step] = [Step(lhs=lhs, rhs=first_rhs, rule=rule, note=note, facts=facts)]

    @property
    def current(self) -> sp.Basic:
        return self.steps[-1].rhs

    def then(self, rewrite: Callable[[sp.Basic], sp.Basic], rule: Rule, note: str, *,
             uses: tuple = (), condition: sp.Basic = sp.true, facts: tuple[str, ...] = ()) -> "Chain":
        new_rhs = rewrite(self.current)
        if new_rhs == self.current:
            raise AssertionError(f"rule {rule.value} changed nothing: the derivation is mis-built")
        self.steps.append(Step(lhs=self.lhs, rhs=new_rhs, rule=rule, note=note, uses=uses, condition=condition,
                                facts=facts))
        return self

    def add(self, step: Step) -> "Chain":
        self.steps.append(step)
        return self


def entrywise(fn: Callable[[sp.Expr], sp.Expr]) -> Callable[[sp.Basic], sp.Basic]:
    """Lift an entry rewrite to explicit matrices; leave scalars to `fn` directly."""
    def apply(value):
        if isinstance(value, sp.MatrixBase):
            return value.applyfunc(fn)
        return fn(value)
    return apply


def matrix_entries_to_indexed(expr: sp.Basic, *, shift: int = 1) -> sp.Basic:
    """Entries of MatrixSymbols as Indexed (trees are 1-based): entry (r, 0) of a K x 1 column `v`
    -> v[r + shift], entry (r, c) of a matrix `W` (of W^T, say) -> W[r + shift, c + shift]."""
    def indexed(element):
        base = sp.IndexedBase(element.parent.name)
        if element.parent.shape[1] == 1:
            return base[element.i + shift]
        return base[element.i + shift, element.j + shift]
    converted = expr.replace(lambda e: isinstance(e, MatrixElement) and isinstance(e.parent, sp.MatrixSymbol), indexed)
    # Identity(K)[i, j] is KroneckerDelta(i, j, (0, K - 1)); the range is implied by 1 <= i, j <= K.
    return converted.replace(lambda e: isinstance(e, sp.KroneckerDelta) and len(e.args) == 3,
                             lambda e: sp.KroneckerDelta(*e.args[:2]))


def matrix_form_matches(matrix_expr, entry: sp.Expr, *, row: sp.Expr = i, col: sp.Expr = j) -> bool:
    """SymPy's own (row, col) entry of a matrix expression equals the derived entry.

    With symbolic row and col the labels are arbitrary, so entry (i, j) is read without a shift."""
    derived = matrix_entries_to_indexed(matrix_expr[row, col], shift=0)
    return sp.expand(derived - entry) == 0


def explicit_matches(matrix_expr, explicit: sp.Matrix) -> bool:
    """A concrete-size matrix expression, made explicit by SymPy, equals the derived matrix."""
    made = matrix_entries_to_indexed(sp.Matrix(matrix_expr.as_explicit()))
    return all(sp.expand(a - b) == 0 for a, b in zip(made, explicit))


def require(condition: bool, what: str) -> None:
    """A recognition step (e.g. 'this is diag(s) - ss^T') must be confirmed by SymPy, or we stop."""
    if not condition:
        raise AssertionError(f"SymPy does not confirm: {what}")


def explicit_sizes_match(form: Callable[[int], sp.MatrixExpr], entry: sp.Expr, *, sizes=(2, 3, 4),
                         row: sp.Symbol = None, col: sp.Symbol = None, size_symbol: sp.Symbol = None) -> bool:
    """A vector/matrix form of symbolic size agrees with the derived entry: SymPy writes the form out
    at several concrete sizes and compares every entry with the entry formula there (sums done)."""
    from ..symbols import K as K_symbol
    size_symbol = size_symbol or K_symbol
    for n in sizes:
        made = matrix_entries_to_indexed(sp.Matrix(form(n).as_explicit()))
        for r in range(made.rows):
            for c in range(made.cols):
                mapping = {size_symbol: n}
                if row is not None:
                    mapping[row] = r + 1
                if col is not None:
                    mapping[col] = c + 1
                expected = entry.xreplace(mapping).doit()
                if sp.expand(made[r, c] - expected) != 0:
                    return False
    return True


def probs_definitions_layer(bases=("sigma",)):
    """The default proof layer: derivatives with respect to sigma first, then sigma = softmax(z)."""
    from ..symbols import softmax_definitions
    return (bases, lambda expr, n: softmax_definitions(expr, n=n))


def through_softmax_jacobian(chain: Chain, jacobian) -> Chain:
    """The steps every loss gradient through sigma shares, after its chain rule: substitute the
    derived Jacobian d sigma_k / d z_i (not retyped), split the sum, let the delta collapse it."""
    from ..algebra import rewrites  # rewrites imports nothing of ours; kept local to stay a leaf helper
    from ..symbols import i, j
    chain.then(lambda e: rewrites.substitute_derivative(e, jacobian.result_lhs, jacobian.result,
                                                        pattern_indices=(i, j)),
               Rule.SUBSTITUTE_RESULT, "the softmax Jacobian: d sigma_k / d z_i = sigma_k (delta_ki - sigma_i)",
               facts=("softmax-jacobian-ki",))
    chain.then(rewrites.expand_sums, Rule.LINEARITY, "split the sum; sigma_i does not depend on k",
               facts=("sum-splits", "sigma-i-constant-in-k"))
    chain.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i,)), Rule.DELTA_SUM,
               "the Kronecker delta collapses the sum (1 <= i <= K)", facts=("delta-keeps-k-equal-i",))
    return chain
