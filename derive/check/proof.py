"""Prove an answer equal to its target once the numbers agree: the evidence level behind "correct".

Three levels, tried in order; each proof is exact (a zero test on polynomials, see
derive/algebra/zero_test.py) and only ever misses a zero, never invents one:

* proved-symbolic-K: answer - target is zero for a symbolic K. With sigma_i, sigma_j, y_i,
  sums ... as independent leaves (an identity in free variables holds for every value they take,
  with delta_ij split into i = j and i != j, and Sum_{k=1}^{K} y_k = 1 where the target assumes it),
  or with the verifier's own rewriting (sigma by its definition, derivatives done, delta sums
  collapsed, sum_k y_k = 1 where the target assumes it). The leaves first, unless an exponential or
  a sum is left in the difference, which only the rewriting can match.
* proved-exact-K: zero at each K = 2..8 with the sums written out, as a rational function of
  e^{z_1}, ..., e^{z_K} and the other inputs. The free indices are set to i = j = 1 and to i = 1,
  j = 2: the classes are interchangeable, so these stand for every pair, provided the answer uses
  its indices only as subscripts and its sums run over all classes (else this level is skipped).
* numeric: agreement at every point (the points module adds K = 13, 29 and one K drawn per check).

An answer left at "numeric" may still differ by a term below the comparison's tolerance (+10^{-40}):
`tiny_difference` evaluates answer - target itself at 50 and at 100 digits; rounding changes with the
precision, a real difference keeps its value, and that answer is incorrect. Below what 100 digits can
tell, `exact_difference` looks for it exactly at K = 2..8 (a non-zero numerator in independent inputs).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp
from sympy.tensor.indexed import IndexException

import mpmath

from ..algebra.indices import free_indices
from ..algebra.zero_test import nonzero
from ..model import Rule, Step
from ..settings import PRECISION_DIGITS, TARGETS_SUM_TO_ONE
from .. import symbols
from ..symbols import K, i, j, y
from .equivalence import entry_order, enumerated_indices, evaluator, places, prepare, safe
from .points import environments, points
from .target import CheckTarget

SYMBOLIC, EXACT, NUMERIC = "proved-symbolic-K", "proved-exact-K", "numeric"
EXACT_KS = tuple(range(2, 9))
# What SymPy raises on an expression it cannot decide (sympy#14570: StopIteration from simplify on
# sums; an index out of a written-out range): the proof is then missed, never invented. Anything
# else (AttributeError, KeyError, ...) is a bug and surfaces: check_answer reports it as internal.
UNDECIDABLE = (ValueError, TypeError, NotImplementedError, StopIteration, RecursionError, IndexError,
               IndexException)


@dataclass(frozen=True)
class Evidence:
    """How "correct" was established: the level, the K it covers exactly, the points, the seed."""

    level: str
    Ks: tuple
    points: int
    seed: int

    def to_dict(self) -> dict:
        return {"level": self.level, "Ks": list(self.Ks), "points": self.points, "seed": self.seed}


def prove(answer: sp.Basic, target: CheckTarget) -> tuple:
    """(level, Ks): the strongest proof that answer = target, or (NUMERIC, ()) when none is found.
    Matrix forms (diag(sigma) - sigma sigma^T) are proved at K = 2..8 when made of vectors of the
    classes alone (see _matrix_form_proved)."""
    if answer.atoms(sp.MatrixSymbol) or target.result.atoms(sp.MatrixSymbol):
        return (EXACT, EXACT_KS) if _matrix_form_proved(target.substitute(answer), target) else (NUMERIC, ())
    answer = target.substitute(answer)
    result = target.result
    if answer - result == 0:  # the target itself, up to SymPy's canonical order: no rewriting needed
        return SYMBOLIC, ()
    written = written_sizes(answer)
    if written:  # explicit entries: the rest of the Piecewise is the target itself, so only these K are proved
        return (EXACT, written) if _entries_proved(answer, result) else (NUMERIC, ())
    difference = (_on_the_simplex(answer) if target.simplex else answer) - result
    step = Step(lhs=answer, rhs=result, rule=Rule.DEFINITION,
                uses=(TARGETS_SUM_TO_ONE,) if target.simplex else ())
    rewriting = not _nested_sums(answer)
    # Both proofs are tried, as before; only their order follows the difference. An exponential or a
    # sum left in it (e^{z_i} / sum_k e^{z_k}, sum_k sigma_k) is what the leaves cannot match to sigma:
    # the leaf proof would spend a millisecond failing before the rewriting proves it.
    rewriting_first = rewriting and difference.has(sp.exp, sp.Sum)
    if rewriting_first and _rewritten_equal(step, target):
        return SYMBOLIC, ()
    if _by_cases(difference):
        return SYMBOLIC, ()
    if rewriting and not rewriting_first and _rewritten_equal(step, target):
        return SYMBOLIC, ()
    Ks = tuple(target.semantics.Ks) if target.semantics is not None and target.semantics.Ks else EXACT_KS
    if _interchangeable(answer, target) and all(_exact(step, n, target) for n in Ks):
        return EXACT, Ks
    return NUMERIC, ()


def _matrix_form_proved(answer: sp.Basic, target: CheckTarget) -> bool:
    """A matrix form equal to the target's entry at K = 2..8, written out, at the entries (1, 1) and
    (1, 2) (a vector: entry 1). Those two stand for every entry because relabelling the classes by a
    permutation P maps each K-vector v to P v and every operation a form is built of (sums, products,
    transposes, diag, the Hadamard product, 1 and I) commutes with it: the form's entry (r, c) is
    its entry (1, 2) under a relabelling that takes r, c to 1, 2, as the target's is. So only forms of
    whole K-vectors of the classes (sigma, z, y: no entry named, no other size, no written-out matrix)
    and targets without semantics whose indices are plain subscripts."""
    classes = {"sigma", "z", *target.arrays}
    if target.semantics is not None or target.result.atoms(sp.MatrixSymbol) or not _interchangeable(sp.Integer(0), target):
        return False
    vectors = answer.atoms(sp.MatrixSymbol)
    if answer.free_symbols - {K} - vectors or answer.has(sp.Derivative, sp.Indexed, sp.KroneckerDelta) or any(
            isinstance(node, sp.MatrixBase) for node in sp.preorder_traversal(answer)):
        return False
    if any(vector.shape != (K, 1) or vector.name not in classes for vector in vectors):
        return False
    order = entry_order(target)
    generic = verifier()
    step = Step(lhs=answer, rhs=target.result, rule=Rule.DEFINITION,
                uses=(TARGETS_SUM_TO_ONE,) if target.simplex else ())
    try:
        for n in EXACT_KS:
            written = answer.xreplace({K: n}).xreplace({
                sp.MatrixSymbol(vector.name, n, 1): sp.Matrix([getattr(symbols, vector.name)[r] for r in range(1, n + 1)])
                for vector in vectors}).doit()
            if not isinstance(written, sp.MatrixBase) or written.shape != ((n, n) if len(order) == 2 else (n, 1)):
                return False
            for place in ((1, 1), (1, 2)) if len(order) == 2 else ((1,),):
                at = {K: n, **{index: sp.Integer(value) for index, value in zip(order, place)}}
                entry = written[place[0] - 1, place[-1] - 1 if len(order) == 2 else 0]
                expected = _written_out(target.result.xreplace(at))
                if _by_cases(entry - expected):  # sigma_1, sigma_2, ... as free variables: most forms end here
                    continue
                lhs = generic.normal_form(entry, step, n, None)
                rhs = generic.normal_form(expected, step, n, None)
                if not generic.is_zero(lhs - rhs):
                    return False
    except UNDECIDABLE:
        return False
    return True


def written_sizes(answer: sp.Basic) -> tuple:
    """The K of explicit matrices and vectors in the answer (their entries stand under K = n conditions)."""
    sizes = {eq.rhs for piece in answer.atoms(sp.Piecewise) for _expr, condition in piece.args
             for eq in condition.atoms(sp.Eq) if eq.lhs == K and eq.rhs.is_Integer}
    return tuple(sorted(int(n) for n in sizes))


def _entries_proved(answer: sp.Basic, result: sp.Expr) -> bool:
    """Every written entry (a Piecewise piece under K = n, i = r, ...) equals the target's entry there."""
    if not isinstance(answer, sp.Piecewise):
        return False
    for entry, condition in answer.args:
        if condition is sp.true:
            continue
        stated = places(condition)
        if not stated or not all(_by_cases(entry - result.xreplace(at).doit()) for at in stated):
            return False
    return True


def _on_the_simplex(expr: sp.Basic) -> sp.Basic:
    """Each sum of the targets over all classes, Sum_{k=1}^{K} y_k, as 1: the target's own assumption (the
    verifier's rewriting makes the same substitution, after much more work), so sigma_i - y_i +
    n (Sum_k y_k - 1) is proved with sigma and the sums as independent leaves."""
    return expr.replace(lambda e: isinstance(e, sp.Sum) and _sums_the_targets(e), lambda _e: sp.Integer(1))


def _sums_the_targets(summation: sp.Sum) -> bool:
    (index, low, high), = summation.limits if len(summation.limits) == 1 else ((None, None, None),)
    return (low, high) == (1, K) and summation.function == y[index]


def verifier():
    """The verifier's rewriting (derive.verify.generic), imported when an answer is first proved:
    importing it loads the engine registry too, which a wrong answer does not need."""
    from ..verify import generic
    return generic


def _by_cases(difference: sp.Expr) -> bool:
    generic = verifier()
    try:
        return generic.is_zero_by_cases(difference)
    except UNDECIDABLE:
        return False


def _rewritten_equal(step: Step, target: CheckTarget) -> bool:
    """The verifier's own rewriting for symbolic K (sigma by its definition, derivatives done, delta
    sums collapsed, sum_k y_k = 1 where assumed), then the zero test by cases. The same normal form as
    generic.prove_equal, called here so that only the undecidable is caught (see UNDECIDABLE)."""
    if target.semantics is not None and not target.semantics.prove:
        return False
    generic = verifier()
    try:
        lhs = generic.normal_form(step.lhs, step, None, target.semantics)
        if target.semantics is None:
            rhs = _plain_normal_form(step.rhs, step.uses)
        else:
            rhs = generic.normal_form(step.rhs, step, None, target.semantics)
        return generic.is_zero_by_cases(lhs - rhs)
    except UNDECIDABLE:
        return False


@functools.lru_cache(maxsize=64)
def _plain_normal_form(result: sp.Expr, uses: tuple) -> sp.Expr:
    """The target's side of _rewritten_equal, the same for every answer to it: rewritten once per
    process (a fifth of proving a correct answer). Only for targets without semantics (sigma =
    softmax(z)): a step with no condition, symbolic K, so the result and `uses` are all it depends on."""
    step = Step(lhs=result, rhs=result, rule=Rule.DEFINITION, uses=uses)
    return verifier().normal_form(result, step, None, None)


def _nested_sums(expr: sp.Basic) -> bool:
    """A sum inside a sum: the verifier renames every dummy to k, which is safe only for flat sums."""
    return any(inner is not outer and isinstance(inner, sp.Sum)
               for outer in expr.atoms(sp.Sum) for inner in sp.preorder_traversal(outer.function))


def _interchangeable(answer: sp.Basic, target: CheckTarget) -> bool:
    """Free indices i, j only (no d, n), each used only as a subscript or a delta's argument, and every
    sum over 1..K: then relabelling the classes maps the pair (1, 2) to any pair i != j."""
    if set(target.free) - {i, j} or free_indices(answer) - {i, j}:
        return False
    for expr in (answer, target.result):
        if expr.has(sp.Derivative):
            return False  # an unfinished step: its indices sit inside a derivative, not only as subscripts
        for summation in expr.atoms(sp.Sum):
            if any((lo, hi) != (1, K) for _v, lo, hi in summation.limits):
                return False
        bare = expr.replace(lambda e: isinstance(e, (sp.Indexed, sp.KroneckerDelta)), lambda e: sp.Integer(1))
        if bare.free_symbols & {i, j} or class_numbers(expr):
            return False  # a class named by its number (delta_{i,99}) is not interchangeable with the others
    return True


def class_numbers(expr: sp.Basic) -> set:
    """The classes an expression names by number (integer subscripts, Kronecker delta arguments), but
    for those a piece of a Piecewise is stated at (sigma_1 - y_1 for i = 1: an entry written out)."""
    if isinstance(expr, sp.Piecewise):
        return {n for entry, condition in expr.args for n in class_numbers(entry) - _pinned(condition)}
    numbers = {int(ix) for node in expr.atoms(sp.Indexed) for ix in node.indices if ix.is_Integer}
    return numbers | {int(arg) for delta in expr.atoms(sp.KroneckerDelta) for arg in delta.args if arg.is_Integer}


def _pinned(condition: sp.Basic) -> set:
    """The numbers a piece's condition sets an index or K to (i = 1, K = 4)."""
    if condition is sp.true:
        return set()
    return {int(side) for eq in condition.atoms(sp.Eq) for side in eq.args if side.is_Integer}


def _exact(step: Step, n: int, target: CheckTarget) -> bool:
    """answer - target is zero at K = n for i = j = 1 and for i = 1, j = 2 (sums written out)."""
    try:
        return all(verifier().is_zero(difference) for difference in _written_differences(step, n, target))
    except UNDECIDABLE:
        return False


def _written_differences(step: Step, n: int, target: CheckTarget):
    """answer - target at K = n in logits, sums written out, for i = j = 1 and for i = 1, j = 2 (one
    at a time: a caller may stop at the first); raises what SymPy raises on the undecidable."""
    pairs = ({i: 1, j: 1}, {i: 1, j: 2}) if j in target.free else ({i: 1},)
    generic = verifier()
    for values in pairs:
        at = {K: n, **{s: sp.Integer(v) for s, v in values.items()}}
        lhs = generic.normal_form(_written_out(step.lhs.subs(at)), step, n, target.semantics)
        rhs = generic.normal_form(_written_out(step.rhs.subs(at)), step, n, target.semantics)
        # subs leaves an index inside a derivative's variable (d log sigma_k / d z_i under a sum): the
        # derivative, taken, brings it out as delta(1, i), set here as everywhere else.
        yield (lhs - rhs).xreplace(at)


def exact_difference(answer: sp.Basic, target: CheckTarget) -> int | None:
    """The K in 2..8 at which answer - target is exactly not zero, or None (not shown either way).

    For an answer agreed at every point and not proved: a term far below the comparison's tolerance
    (sigma_i (delta_ij - sigma_j + 10^{-120})) that the 50- and 100-digit values cannot tell from
    rounding. At K = n with the indices set and the sums written out, the difference in logits is a
    rational function; when every generator is an independent input (e^{z_r} for a logit z_r, an entry
    of an input array such as y_r, whose last entry the simplex has eliminated) a non-zero numerator
    vanishes on no open set of inputs, so the answer is wrong there. Only for targets without
    semantics (sigma = softmax(z) and arrays drawn independently) and free indices among i, j (a line
    still holding a derivative is differentiated by the verifier's rewriting first)."""
    if target.semantics is not None or answer.atoms(sp.MatrixSymbol) or target.result.atoms(sp.MatrixSymbol):
        return None
    answer = prepare(answer, target)  # dL/dsigma_k taken symbolically: the rewriting cannot take it inside a sum
    uses = (TARGETS_SUM_TO_ONE,) if target.simplex else ()
    independent = _independent_inputs(target)
    if written_sizes(answer):
        return _written_entry_difference(answer, target, uses, independent)
    if set(target.free) - {i, j} or free_indices(answer) - {i, j}:
        return None  # a difference at i = 1, j = 2 is a difference: unlike a proof, no interchangeability needed
    step = Step(lhs=answer, rhs=target.result, rule=Rule.DEFINITION, uses=uses)
    for n in EXACT_KS:
        try:
            if any(nonzero(difference, independent) for difference in _written_differences(step, n, target)):
                return n
        except UNDECIDABLE:
            return None
    return None


def _independent_inputs(target: CheckTarget):
    """Whether generators of the zero test are algebraically independent: entries of the inputs, as
    leaves or as e^{z_r}. (Constants, such as e^{1/2} or log 2, the zero test reads as numbers.)"""
    inputs = {"z", *target.arrays}

    def independent(generators: tuple) -> bool:
        return all(isinstance(node, sp.Indexed) and node.base.name in inputs and all(ix.is_Integer for ix in node.indices)
                   for _kind, node in generators)
    return independent


def _written_entry_difference(answer: sp.Basic, target: CheckTarget, uses: tuple, independent) -> int | None:
    """The K of a written-out entry (a Piecewise piece under K = n, i = r, ...) exactly not equal to the
    target's entry there, in logits: the points reach a written K only at a few points (K = 2 and 4
    at the readable one alone), where a zero target entry hides an error."""
    if not isinstance(answer, sp.Piecewise):
        return None
    generic = verifier()
    for entry, condition in answer.args:
        for at in places(condition):
            if not isinstance(at.get(K), sp.Integer):
                continue
            n = int(at[K])
            step = Step(lhs=entry, rhs=target.result.xreplace(at).doit(), rule=Rule.DEFINITION, uses=uses)
            try:
                lhs = generic.normal_form(_written_out(step.lhs), step, n, None)
                rhs = generic.normal_form(_written_out(step.rhs), step, n, None)
                if nonzero(lhs - rhs, independent):
                    return n
            except UNDECIDABLE:
                continue
    return None


def size_degree(expr: sp.Basic, size: sp.Symbol) -> float:
    """An upper bound on the degree of the numerator of `expr` as a function of the size (K, D, N): a
    factor K - 2 adds one; a sum over 1..K adds one (K terms) and its terms' degree in the summation
    index (sum_k of a degree-64 polynomial in k is one of degree 65 in K); a function counts as its
    arguments, a size in an exponent or under a root is unbounded (inf: sqrt((K - 64)^2) + K - 64 is
    zero for every K up to 64). A denominator does not count: where it vanishes at a tested size, the
    points meet a division by zero. Indices naming class K (sigma_K) are positions, not factors."""
    if expr == size:
        return 1
    if not expr.has(size) or isinstance(expr, (sp.Indexed, sp.KroneckerDelta)):
        return 0
    if isinstance(expr, sp.MatrixBase):  # entries written out: the largest of theirs
        return max((size_degree(entry, size) for entry in expr), default=0)
    if isinstance(expr, sp.MatrixExpr):  # a shape (K x D) is structure, not a factor; a scalar in it is one
        if isinstance(expr, (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix)):
            return 0
        degrees = [size_degree(arg, size) for arg in expr.args if not arg.is_Integer and arg != size]
        return max(degrees, default=0) if isinstance(expr, sp.MatAdd) else sum(degrees)
    if isinstance(expr, sp.Sum):
        return size_degree(expr.function, size) + sum(
            size_degree(expr.function, limit[0]) + 1 for limit in expr.limits if sp.Tuple(*limit[1:]).has(size))
    if isinstance(expr, sp.Piecewise):
        return max(size_degree(piece, size) for piece, _condition in expr.args)
    if expr.is_Add:
        return max(size_degree(arg, size) for arg in expr.args)
    if expr.is_Mul:
        return sum(size_degree(arg, size) for arg in expr.args)
    if expr.is_Pow and expr.exp.is_Integer:
        return size_degree(expr.base, size) * max(expr.exp, 0)
    if expr.is_Pow and expr.exp.is_Rational and expr.exp < 0:
        return 0  # 1 / sqrt(D): a denominator
    if expr.is_Pow:  # a root of the size, 2^K, K^K: no polynomial bound
        return float("inf")
    if isinstance(expr, sp.Function) and not isinstance(expr, (sp.exp, sp.log)):
        return float("inf")  # |K - 64| (SymPy's sqrt((K - 64)^2)), max, floor: pieces, not one polynomial
    # A function of the size (log(1 + (K - 2)...(K - 64)) vanishes where its argument is 1) and any
    # other node (a derivative d L / d z of shape K): as its arguments.
    return max((size_degree(arg, size) for arg in expr.args), default=0)


def undetermined_size(answer: sp.Basic, target: CheckTarget) -> tuple | None:
    """(size, degree bound, values tested) when the answer's dependence on a size is of higher degree
    than the sizes the check tests can pin down, or None. (K - 2)(K - 3)...(K - 64) sigma_i vanishes
    at every K a check reaches; a rational function of K of degree below the 7 K of the exact proof
    that vanishes there vanishes for every K, one of higher degree need not. D and N take the values
    the target's semantics gives them (2 and 3)."""
    tested = _tested_sizes(target)
    for size, count in tested.items():
        degree = size_degree(answer, size)
        if degree >= count:
            return size, degree, count
    if target.semantics is not None and target.semantics.Ks and len(set(target.semantics.Ks)) > 1:
        # The few (K, N, D) a semantics tests go together (K = 2 with N = 3, else N = 2): a product such as
        # (K - 2)(K - 3)(N - 2) vanishes at every one of them, though its degree in each size is below
        # that size's count. A factor in two sizes at once is beyond what those points pin down.
        pure = _size_factors(answer)
        degrees = {size: size_degree(pure, size) for size in tested}
        involved = sorted((size for size, degree in degrees.items() if degree >= 1), key=str)
        if len(involved) > 1:
            return (" and ".join(map(str, involved)), sum(degrees[size] for size in involved),
                    min(tested[size] for size in involved))
    return None


def _size_factors(expr: sp.Basic) -> sp.Basic:
    """The answer with each sum of input entries (sum_n X_nd) read as its terms' expression: its count of
    terms is no factor in the size; what is left in the sizes (K - 2, sum_m 1 = K) is."""
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.function.has(sp.Indexed), lambda e: e.function)


# Functions that are not one analytic formula everywhere: agreement on the points' ranges (|z| <= 3,
# sigma <= 0.995, T in [0.25, 4]) says nothing where they switch formula.
PIECEWISE_FUNCTIONS = (sp.Abs, sp.sign, sp.Max, sp.Min, sp.floor, sp.ceiling, sp.Heaviside, sp.Mod)


def switching_term(answer: sp.Basic) -> sp.Basic | None:
    """A part of the answer that is not one analytic formula on the whole domain, or None: |x|, sign,
    max, floor, ..., a root of something that may vanish (sqrt((z_i - 10)^2) is |z_i - 10|, which
    equals z_i - 10 at every test point and 10 - z_i beyond z_i = 10), or a logarithm of something
    that may be negative (log(10 - z_i), undefined beyond). An analytic expression that agrees with
    the target on an open set of inputs agrees everywhere; these need not."""
    for node in sp.preorder_traversal(answer):
        if isinstance(node, PIECEWISE_FUNCTIONS):
            return node
        if node.is_Pow and not node.exp.is_Integer and not _positive(node.base):
            return node
        if isinstance(node, sp.log) and not _positive(node.args[0]):  # log(10 - z_i): undefined beyond 10
            return node
    return None


def _positive(expr: sp.Basic) -> bool:
    """Positive by its construction wherever it is defined: positive numbers and sizes, sigma_r, e^x,
    sums of exponentials, and sums and products of these (a square is only non-negative: it vanishes)."""
    if expr.is_Number:
        return bool(expr > 0)
    if isinstance(expr, sp.Indexed):
        return expr.base == symbols.sigma
    if isinstance(expr, sp.exp) or expr.is_Symbol and expr.is_positive:
        return True
    if isinstance(expr, sp.Sum):
        return _positive(expr.function)
    if expr.is_Add or expr.is_Mul:
        return all(_positive(arg) for arg in expr.args)
    if expr.is_Pow:
        return _positive(expr.base)
    return False


def _written_out(expr: sp.Basic) -> sp.Basic:
    """Every sum over a concrete range as its terms (innermost first), derivatives left as they are."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), lambda s: s.doit(deep=False))


# tiny_difference: the points and index assignments it evaluates at, and how closely the values at
# 50 and 100 digits must agree to be a difference rather than rounding (rounding changes by ~10^{-50}
# relative between the two; two coincidences at 10^{-6} are out of reach).
DIFFERENCE_POINTS, DIFFERENCE_ASSIGNMENTS, STABLE_TO, STABLE_PAIRS = 4, 4, mpmath.mpf("1e-6"), 2
@functools.lru_cache(maxsize=None)
def _tested_sizes(target: CheckTarget) -> dict:
    """How many values of each size the check tests exactly: the 7 K of the exact proof, or the few K a
    target with semantics is tested at (2, 3, 5 for the batched layer: its points reach no other), and
    the D and N the target's semantics gives those K. A target at one K (the sigmoid's 2) asks about
    that K alone, so its K is not counted."""
    tested = {K: len(EXACT_KS)}
    Ks = range(2, 65)
    if target.semantics is not None and target.semantics.Ks and len(set(target.semantics.Ks)) > 1:
        Ks = sorted(set(target.semantics.Ks))
        tested[K] = len(Ks)
    if target.semantics is not None and target.semantics.sizes:
        values: dict = {}
        for n in Ks:
            for symbol, value in target.semantics.sizes(n).items():
                values.setdefault(symbol, set()).add(value)
        tested.update({symbol: len(seen) for symbol, seen in values.items()})
    return tested


# Each precision against the one before: a term 10^{-120} times a value is lost at 50 and 100 digits
# (sqrt(1 + 10^{-120}) rounds to 1) and seen at 200 and 400; doubling up to 1600 digits.
DIFFERENCE_DIGITS = tuple(PRECISION_DIGITS * 2 ** n for n in range(6))


def tiny_difference(answer: sp.Basic, target: CheckTarget, seed: int) -> tuple | None:
    """(K, |answer - target|, the digits it was seen at) at a point where the difference is real though
    below the comparison's tolerance, or None. Only for answers agreed numerically and not proved;
    answers holding derivatives (taken numerically, so their noise is not rounding) are left alone.
    A matrix form ((diag(sigma) - sigma sigma^T) sqrt(1 + 10^{-120})) cannot be subtracted from the
    target's entry symbolically: its entry and the target's are evaluated apart and subtracted, where
    rounding is about 10^{-digits} and a real difference still keeps its value."""
    answer, result = target.substitute(answer), target.substitute(target.result)
    matrix_form = bool(answer.atoms(sp.MatrixSymbol) or result.atoms(sp.MatrixSymbol))
    difference = sp.Integer(0) if matrix_form else answer - result
    if answer.has(sp.Derivative) or result.has(sp.Derivative) or not matrix_form and difference == 0:
        return None
    free = enumerated_indices(answer if matrix_form else difference, target)
    coarse = None
    for digits in DIFFERENCE_DIGITS:
        with mpmath.workdps(digits):
            if matrix_form:
                run_answer, run_result = evaluator(answer, target), evaluator(result, target)
                def run(env, assignment):
                    return safe(run_answer, env, assignment) - safe(run_result, env, assignment)
            else:
                run = evaluator(difference, target)
            chosen = points(simplex=target.simplex, semantics=target.semantics, seed=seed)[:DIFFERENCE_POINTS]
            fine = [(point.K, safe(run, env, assignment)) for point in chosen for assignment, env in
                    environments(point, free, target.arrays, target.semantics, seed=seed)[:DIFFERENCE_ASSIGNMENTS]]
            if coarse is not None:
                stable = [(K, abs(b), digits) for (K, a), (_K, b) in zip(coarse, fine)
                          if mpmath.isfinite(b) and mpmath.isfinite(a) and b != 0 and abs(a - b) <= STABLE_TO * abs(b)]
                if len(stable) >= STABLE_PAIRS:
                    return stable[0]
        coarse = fine
    return None
