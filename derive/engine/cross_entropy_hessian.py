"""The Hessian of softmax cross-entropy, diag(sigma) - sigma sigma^T: symmetric, PSD, with null vector 1."""
from __future__ import annotations

import mpmath
import sympy as sp
from sympy.matrices.expressions import DiagMatrix

from ..numeric.state import LazyMatrix
from ..model import Derivation, Rule, Semantics, Step, SymbolRole
from ..symbols import K, L, i, j, k, probs_vector, sigma, v, y, z
from ..algebra import rewrites
from . import concrete, cross_entropy, softmax_jacobian
from .common import (INDEX_RANGE, TARGETS_NONNEGATIVE, TARGETS_SUM_TO_ONE, Chain, explicit_sizes_match,
                     probs_definitions_layer, require)
from .roles import WITH_TARGETS

NAME = "cross-entropy-hessian"
TITLE = "The Hessian of the softmax cross-entropy loss"
DESCRIPTION = "d^2 L / dz dz^T = diag(sigma) - sigma sigma^T: symmetric, positive semi-definite, H 1 = 0"
DIRECTION = SymbolRole("direction", "v", "any vector (for the quadratic form v^T H v)")
SYMBOLS = (*WITH_TARGETS, DIRECTION)
USES_SUM = (TARGETS_SUM_TO_ONE.id,)
_l = sp.Symbol("l", integer=True, positive=True)

H = sp.IndexedBase("H")  # the Hessian, H[i, j] = d^2 L / dz_i dz_j


def _numeric_hessian(env) -> LazyMatrix:
    """H[r, c] by nested mpmath.diff of the loss itself, -sum_k y_k log(e^{z_k} / sum_j e^{z_j}), as a
    function of z_r and z_c: independent of every symbolic step. The K - 2 fixed logits enter through
    three sums taken once per entry, so each evaluation is O(1), not O(K) (K = 512)."""
    targets, logits = env.array("y"), env.array("z")

    def entry(r, c):
        fixed = [k for k in range(len(logits)) if k not in (r, c)]
        fixed_total = mpmath.fsum(mpmath.exp(logits[k]) for k in fixed)
        fixed_weight = mpmath.fsum(targets[k] for k in fixed)
        fixed_linear = mpmath.fsum(targets[k] * logits[k] for k in fixed)

        def loss(moved: dict):  # the fixed terms: -y_k (z_k - log total), summed over k
            total = fixed_total + mpmath.fsum(mpmath.exp(t) for t in moved.values())
            return fixed_weight * mpmath.log(total) - fixed_linear - mpmath.fsum(
                targets[k] * mpmath.log(mpmath.exp(t) / total) for k, t in moved.items())

        def along_c(t_c):
            at = {c: t_c}
            return mpmath.diff(lambda t_r: loss({**at, r: t_r}), at.get(r, logits[r]))
        return mpmath.diff(along_c, logits[c])
    return LazyMatrix(len(logits), len(logits), entry)


def _hessian_meaning(expr, n):
    """Proofs: H[a, b] -> d^2 L / dz_a dz_b with L written out, SymPy differentiates it (generic
    verifier); the K x K symbol H -> d^2 L / dz dz^T, L by its definition over S (verify.concrete)."""
    if isinstance(expr, sp.MatrixSymbol) and expr.name == H.name:
        return sp.Derivative(L, (sp.MatrixSymbol("z", n, 1), 2), evaluate=False)
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


MEAN = sp.Symbol("mu", real=True)  # sigma_1 v_1 + ... + sigma_K v_K, the mean of v under sigma (concrete K)


def _named_mean(n: int) -> Step:
    """mu = sigma_1 v_1 + ... + sigma_K v_K: named once, so the variance holds one symbol per term
    where it would hold the K-term sum in each (K^2 terms)."""
    return Step(lhs=MEAN, rhs=sp.Add(*[sigma[r] * v[r] for r in range(1, n + 1)]), rule=Rule.ABBREVIATE,
                note="write mu for the mean of v under sigma", facts=("mean-mu",))


def _variance_written_out(mean: sp.Expr, n: int) -> sp.Expr:
    """The variance with mu written out (a result must not need mu), the mean one shared subtree:
    SymPy would distribute the minus and copy its K terms into every square (K^2 terms)."""
    negated = sp.Mul(-1, mean, evaluate=False)
    # evaluate=False: SymPy's Pow would ask each K-term base about its sign.
    return sp.Add(*[sp.Mul(sigma[r], sp.Pow(sp.Add(v[r], negated, evaluate=False), 2, evaluate=False), evaluate=False)
                    for r in range(1, n + 1)])


def build_concrete(n: int) -> Derivation:
    """H = d/dz (dL/dz) through S = e^{z_1} + ... + e^{z_K} (engine.concrete), from the cross-entropy
    gradient sigma - y derived over S: the softmax Jacobian's construction, O(1) per entry, the
    K x K matrix kept diagonal + rank one; H 1 and v^T H v from those factors in O(K)."""
    gradient = cross_entropy.build_concrete(n)  # dL/dz = sigma - y, derived through S, not retyped
    require(gradient.steps[-1].rule is Rule.VECTOR_FORM, "the gradient ends in its vector form")
    probs_over_S = concrete.softmax_over_S(n)
    over_S = dict(zip(probs_vector(n), probs_over_S))
    td = concrete.TotalDerivative([entry.xreplace(over_S) for entry in gradient.result], n)
    exp_form = concrete.Structured.from_total_derivative(td)
    sigma_form = exp_form.rewritten(concrete.softmax_substitution(n)).rescaled(concrete.S)
    factored = sigma_form.with_diagonal(rewrites.factor_entry)
    form = matrix_form(n)
    lhs = hessian_symbol(n)
    chain = (
        concrete.denominator_step(n),
        Step(lhs=probs_vector(n), rhs=sp.ImmutableMatrix(probs_over_S), rule=Rule.DEFINITION,
             note="definition of the softmax", facts=("softmax-over-S",)),
        Step(lhs=lhs, rhs=sp.Derivative(gradient.steps[-1].rhs, sp.MatrixSymbol("z", n, 1), evaluate=False),
             rule=Rule.SUBSTITUTE_RESULT, uses=USES_SUM,
             note="H = d/dz (dL/dz), with the cross-entropy gradient dL/dz = sigma - y",
             facts=("hessian-of-gradient-vector", "ce-gradient-vector")),
        Step(lhs=lhs, rhs=exp_form.matrix, rule=Rule.JACOBIAN, uses=USES_SUM,
             note="differentiate every entry: chain rule through S, dS/dz_c = e^{z_c}; the targets do not depend on z",
             facts=("chain-through-S", "dS-dz", "targets-constant")),
        Step(lhs=lhs, rhs=sigma_form.matrix, rule=Rule.SUBSTITUTE_SOFTMAX, uses=USES_SUM,
             note="substitute sigma_r = e^{z_r} / S", facts=("exp-is-sigma-S",)),
        Step(lhs=lhs, rhs=factored.matrix, rule=Rule.FACTOR, uses=USES_SUM, note="factor the diagonal",
             facts=("factor-diagonal",)),
        Step(lhs=lhs, rhs=form, rule=Rule.MATRIX_FORM, uses=USES_SUM,
             note="the Hessian is the softmax Jacobian: diag(sigma) - sigma sigma^T, whatever y is",
             facts=("hessian-is-jacobian",)),
    )
    symmetric = Step(lhs=sp.Transpose(form), rhs=sp.Transpose(form).doit(), rule=Rule.SYMMETRY,
                     note="transpose: diag(sigma)^T = diag(sigma), (sigma sigma^T)^T = sigma sigma^T",
                     facts=("transpose-diag-outer",))
    require(symmetric.rhs == form, "H^T = H")

    ones = sp.MatMul(form, sp.OneMatrix(n, 1))
    row_sums = sp.ImmutableMatrix(factored.row_sums())
    require(sp.Add(*factored.right) == sp.Add(*probs_vector(n)), "the column factors are sigma_1, ..., sigma_K")
    null_vector = sp.ImmutableMatrix(factored.row_sums(total=sp.Integer(1)))  # sigma_1 + ... + sigma_K = 1
    require(null_vector.is_zero_matrix, "H 1 = 0")
    null = (Step(lhs=ones, rhs=row_sums, rule=Rule.LINEARITY,
                 note="H 1: entry r is the sum of row r, sigma_r - sigma_r (sigma_1 + ... + sigma_K)",
                 facts=("row-sums-diag-minus-outer",)),
            Step(lhs=ones, rhs=null_vector, rule=Rule.PROBS_SUM_TO_ONE,
                 note="the softmax outputs sum to one: H 1 = 0, H is singular", facts=("probs-sum-to-one",)))

    quadratic = factored.quadratic_form([v[r] for r in range(1, n + 1)])
    mean = _named_mean(n)
    variance = sp.Add(*[sigma[r] * (v[r] - MEAN) ** 2 for r in range(1, n + 1)])
    psd = Step(lhs=quadratic, rhs=variance, rule=Rule.SEMIDEFINITE,
               note="v^T H v = sum_r sigma_r (v_r - sum_s sigma_s v_s)^2 >= 0 (using sum_r sigma_r = 1): "
                    "H is positive semi-definite", facts=("variance-nonnegative-r",))
    return Derivation(name=NAME, title=TITLE, K=n, symbols=SYMBOLS,
                      assumptions=(TARGETS_SUM_TO_ONE, TARGETS_NONNEGATIVE),
                      steps=(*chain, symmetric, *null, mean, psd), result=factored.matrix.as_explicit(), result_lhs=lhs,
                      definitions=(*concrete.definitions(n), (L, gradient.definitions[-1][1]), (MEAN, mean.rhs)),
                      semantics=SEMANTICS,
                      results=(("null-vector", ones, null_vector),
                               ("quadratic-form", quadratic, _variance_written_out(mean.rhs, n))))
