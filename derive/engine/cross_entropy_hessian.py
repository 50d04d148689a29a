"""The Hessian of softmax cross-entropy, diag(sigma) - sigma sigma^T: symmetric, PSD, with null vector 1."""
from __future__ import annotations

import mpmath
import sympy as sp
from sympy.matrices.expressions import DiagMatrix

from ..numeric.state import LazyMatrix
from ..numeric.softmax import stable_softmax
from ..model import Derivation, Rule, Semantics, Step, SymbolRole
from ..symbols import (K, L, explicit_softmax, i, j, k, logits_vector, sigma, v, y, z)
from ..algebra import rewrites
from . import cross_entropy, softmax_jacobian
from .common import (INDEX_RANGE, TARGETS_NONNEGATIVE, TARGETS_SUM_TO_ONE, Chain, entrywise, explicit_matches,
                     explicit_sizes_match, probs_definitions_layer, require)
from .roles import WITH_TARGETS

NAME = "cross-entropy-hessian"
TITLE = "The Hessian of the softmax cross-entropy loss"
DESCRIPTION = "d^2 L / dz dz^T = diag(sigma) - sigma sigma^T: symmetric, positive semi-definite, H 1 = 0"
# Derived and verified entry by entry (generic verifier): seconds up to these sizes, minutes above
# (bench/README.md); engine.build refuses larger ones (SizeLimitError).
FAST_SIZES = {"K": 8}

DIRECTION = SymbolRole("direction", "v", "any vector (for the quadratic form v^T H v)")
SYMBOLS = (*WITH_TARGETS, DIRECTION)
USES_SUM = (TARGETS_SUM_TO_ONE.id,)
_l = sp.Symbol("l", integer=True, positive=True)

H = sp.IndexedBase("H")  # the Hessian, H[i, j] = d^2 L / dz_i dz_j


def _numeric_hessian(env) -> LazyMatrix:
    """H[r, c] by nested mpmath.diff of the loss itself: independent of every symbolic step."""
    targets = env.array("y")

    def loss(logits):
        return -mpmath.fsum(t * mpmath.log(p) for t, p in zip(targets, stable_softmax(logits)))

    def entry(r, c):
        logits = list(env.array("z"))

        def along_c(t_c):
            moved = list(logits)
            moved[c] = t_c
            return mpmath.diff(lambda t_r: loss(moved[:r] + [t_r] + moved[r + 1:]), moved[r])
        return mpmath.diff(along_c, logits[c])
    return LazyMatrix(env.K, env.K, entry)


def _hessian_meaning(expr, n):
    """Proofs: H[a, b] -> d^2 L / dz_a dz_b with L written out; SymPy differentiates it."""
    if n is None:
        loss = cross_entropy.loss_definition()
    else:
        loss = -sp.Add(*[y[r] * sp.log(sigma[r]) for r in range(1, n + 1)])
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == H,
                        lambda e: sp.Derivative(loss, z[e.indices[0]], z[e.indices[1]]))


SEMANTICS = Semantics(
    arrays=lambda rng, logits, sizes: {"v": [mpmath.mpf(rng.uniform(-2, 2)) for _ in logits]},
    derived={"H": _numeric_hessian},
    layers=(((), _hessian_meaning), probs_definitions_layer()),
)


def matrix_form(size) -> sp.MatrixExpr:
    probs = sp.MatrixSymbol("sigma", size, 1)
    return DiagMatrix(probs) - probs * probs.T


def hessian_symbol(size) -> sp.MatrixSymbol:
    return sp.MatrixSymbol("H", size, size)


def _probs_sum_to_one(expr: sp.Basic) -> sp.Basic:
    """Sum_k sigma_k -> 1: softmax outputs always sum to one (a fact, not an assumption)."""
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.function.is_Indexed and e.function.base == sigma,
                        lambda e: sp.Integer(1))


def _variance(size=K) -> sp.Expr:
    """Sum_l sigma_l (v_l - Sum_k sigma_k v_k)^2: a variance under sigma, never negative."""
    mean = sp.Sum(sigma[k] * v[k], (k, 1, size))
    return sp.Sum(sigma[_l] * (v[_l] - mean) ** 2, (_l, 1, size))


def build_symbolic() -> Derivation:
    gradient = cross_entropy.build_symbolic()  # dL/dz_i = sigma_i - y_i, substituted, not retyped
    jacobian = softmax_jacobian.build_symbolic()
    lhs = H[i, j]
    chain = Chain(lhs, sp.Derivative(gradient.result, z[j], evaluate=False),
                  "H_ij = d/dz_j (dL/dz_i), with the cross-entropy gradient dL/dz_i = sigma_i - y_i", facts=("hessian-of-gradient", "ce-gradient-result"),
                  rule=Rule.SUBSTITUTE_RESULT)
    chain.steps[0] = Step(lhs=lhs, rhs=chain.current, rule=Rule.SUBSTITUTE_RESULT,
                          note=chain.steps[0].note, uses=USES_SUM, facts=chain.steps[0].facts)
    chain.then(rewrites.split_derivative, Rule.LINEARITY, "the targets do not depend on z", facts=("targets-constant",), uses=USES_SUM)
    chain.then(lambda e: rewrites.substitute_derivative(e, jacobian.result_lhs, jacobian.result,
                                                        pattern_indices=(i, j)),
               Rule.SUBSTITUTE_RESULT, "the softmax Jacobian: d sigma_i / d z_j = sigma_i (delta_ij - sigma_j)", facts=("softmax-jacobian-ij",),
               uses=USES_SUM)
    entry = chain.current
    require(explicit_sizes_match(matrix_form, entry, row=i, col=j), "entry (i, j) of diag(sigma) - sigma sigma^T")
    form = matrix_form(K)
    chain.add(Step(lhs=hessian_symbol(K), rhs=form, rule=Rule.MATRIX_FORM, uses=USES_SUM,
                   note="the Hessian is the softmax Jacobian: diag(sigma) - sigma sigma^T, whatever y is",
                   facts=("hessian-is-jacobian",)))

    symmetric = Step(lhs=sp.Transpose(form), rhs=sp.Transpose(form).doit(), rule=Rule.SYMMETRY,
                     note="transpose: diag(sigma)^T = diag(sigma), (sigma sigma^T)^T = sigma sigma^T",
                     facts=("transpose-diag-outer",))
    require(symmetric.rhs == form, "H^T = H")

    row_sum = sp.Sum(entry.xreplace({j: k}), (k, 1, K))
    null = Chain(row_sum, rewrites.expand_sums(row_sum), "entry i of H 1: the sum of row i; split the sum", facts=("row-sum-H-one", "sum-splits"),
                 rule=Rule.LINEARITY)
    null.then(lambda e: rewrites.collapse_delta_sums(e, indices=(i,)), Rule.DELTA_SUM,
              "the Kronecker delta collapses the sum", facts=("delta-keeps-k-equal-i",))
    null.then(_probs_sum_to_one, Rule.PROBS_SUM_TO_ONE, "the softmax outputs sum to one: H 1 = 0, H is singular",
              facts=("probs-sum-to-one",))
    require(null.current == 0, "H 1 = 0")

    quadratic = sp.Sum(v[_l] * sp.Sum(entry.xreplace({i: _l, j: k}) * v[k], (k, 1, K)), (_l, 1, K))
    psd = Chain(quadratic, rewrites.expand_sums(quadratic), "v^T H v = sum_l sum_k v_l H_lk v_k; split the sums", facts=("quadratic-form-sums", "sum-splits"),
                rule=Rule.LINEARITY)
    psd.then(lambda e: rewrites.collapse_delta_sums(e, indices=(_l,)), Rule.DELTA_SUM,
             "the Kronecker delta collapses the inner sum (1 <= l <= K)", facts=("delta-keeps-k-equal-l",))
    psd.then(rewrites.same_dummy, Rule.FACTOR, "the two sums are the same sum: sum_l sigma_l v_l^2 - (sum_k sigma_k v_k)^2", facts=("same-sum",))
    variance = _variance()
    expanded = _probs_sum_to_one(rewrites.same_dummy(rewrites.pull_constants_out_of_sums(sp.expand(variance))))
    require(sp.expand(expanded - psd.current) == 0, "the quadratic form is the variance of v under sigma")
    psd.add(Step(lhs=quadratic, rhs=variance, rule=Rule.SEMIDEFINITE,
                 note="a variance under the distribution sigma: sum_l sigma_l (v_l - mean)^2 >= 0 for every v, "
                      "so H is positive semi-definite", facts=("variance-nonnegative",)))
    steps = (*chain.steps, symmetric, *null.steps, *psd.steps)
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS,
                      assumptions=(INDEX_RANGE, TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=steps, result=entry, result_lhs=lhs,
                      definitions=((L, cross_entropy.loss_definition()),), semantics=SEMANTICS,
                      results=(("null-vector", row_sum, null.current), ("quadratic-form", quadratic, variance)))


def build_concrete(n: int) -> Derivation:
    targets = [y[r] for r in range(1, n + 1)]
    explicit_loss = -sp.Add(*[targets[r] * sp.log(explicit_softmax(n)[r]) for r in range(n)])
    expanded_loss = sp.expand_log(explicit_loss, force=True)  # force: logits are real
    lhs = sp.Matrix(n, n, lambda r, c: H[r + 1, c + 1])
    chain = Chain(lhs, sp.hessian(expanded_loss, list(logits_vector(n))),
                  "differentiate the loss twice (SymPy's hessian)", facts=("sympy-hessian",), rule=Rule.DIFFERENTIATE)
    chain.then(entrywise(lambda e: rewrites.explicit_denominators_to_softmax(e, n)), Rule.SUBSTITUTE_SOFTMAX,
               "substitute sigma_r = e^{z_r} / (e^{z_1} + ... + e^{z_K})", facts=("recognise-sigma-written-out",))
    chain.then(entrywise(sp.factor), Rule.FACTOR, "factor every entry: each carries y_1 + ... + y_K", facts=("factor-every-entry", "entries-carry-y-sum"))
    total = sp.Add(*targets)
    chain.then(entrywise(lambda e: rewrites.factor_entry(e.subs(total, 1))), Rule.ASSUMPTION,
               "the targets sum to one", uses=USES_SUM, facts=("targets-sum-to-one",))
    explicit = chain.current
    form = matrix_form(n)
    require(explicit_matches(form, explicit), "the matrix equals diag(sigma) - sigma sigma^T")
    chain.add(Step(lhs=lhs, rhs=form, rule=Rule.MATRIX_FORM, note="recognise diag(sigma) - sigma sigma^T", facts=("is-diag-minus-outer",),
                   uses=USES_SUM))
    symmetric = Step(lhs=sp.Transpose(form), rhs=sp.Transpose(form).doit(), rule=Rule.SYMMETRY,
                     note="transpose: diag(sigma)^T = diag(sigma), (sigma sigma^T)^T = sigma sigma^T",
                     facts=("transpose-diag-outer",))
    require(symmetric.rhs == form and explicit.T == explicit, "H^T = H")
    ones = sp.ones(n, 1)
    probs_total = sp.Add(*[sigma[r] for r in range(1, n + 1)])
    null = Chain(explicit * ones, entrywise(sp.factor)(explicit * ones), "H 1: multiply and factor each entry", facts=("multiply-H-one",),
                 rule=Rule.FACTOR)
    null.then(entrywise(lambda e: e.subs(probs_total, 1)), Rule.PROBS_SUM_TO_ONE,
              "the softmax outputs sum to one: H 1 = 0, H is singular",
              facts=("probs-sum-to-one",))
    require(null.current == sp.zeros(n, 1), "H 1 = 0")
    direction = sp.Matrix([v[r] for r in range(1, n + 1)])
    quadratic = (direction.T * explicit * direction)[0, 0]
    mean = sp.Add(*[sigma[r] * v[r] for r in range(1, n + 1)])
    variance = sp.Add(*[sigma[r] * (v[r] - mean) ** 2 for r in range(1, n + 1)])
    last = {sigma[n]: 1 - sp.Add(*[sigma[r] for r in range(1, n)])}
    require(sp.expand((variance - quadratic).xreplace(last)) == 0, "v^T H v is the variance of v under sigma")
    psd = Step(lhs=quadratic, rhs=variance, rule=Rule.SEMIDEFINITE,
               note="v^T H v = sum_r sigma_r (v_r - sum_s sigma_s v_s)^2 >= 0 (using sum_r sigma_r = 1): "
                    "H is positive semi-definite", facts=("variance-nonnegative-r",))
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS,
                      assumptions=(TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=(*chain.steps, symmetric, *null.steps, psd), result=explicit, result_lhs=lhs,
                      definitions=((L, explicit_loss),), semantics=SEMANTICS,
                      results=(("null-vector", explicit * ones, null.current), ("quadratic-form", quadratic, variance)))
