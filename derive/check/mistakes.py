"""Name the mistake in a wrong answer: a catalogue built by mutating the target and by cases.

Why mutations: each entry is the target with one typical slip applied (sign flipped, delta
dropped, sigma not normalised, ...), so the catalogue grows with the registry; an answer that
equals a mutation numerically at every point gets that mutation's id. Ids are stable for graders.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import mpmath
import sympy as sp

from .. import symbols
from ..errors import DeriveError
from .equivalence import (DERIVATIVE_TOLERANCE, RELATIVE_TOLERANCE, close, compare, enumerated_indices, evaluator,
                          free_indices_once, safe)
from ..settings import PRECISION_DIGITS
from .points import environments, points, sample as sample_points
from .target import CheckTarget, derivation_names, questions
from .words import say
from ..render.messages import derivation_text

# Stable ids for graders; the explanations are in the catalogues ([check.mistakes] of en.toml, zh.toml).
EXPLANATIONS = ("sign", "term-sign", "missing-delta", "diagonal-only", "off-diagonal-only", "scale", "index-slip",
                "missing-factor", "unnormalized", "not-differentiated", "other-target", "outer-derivative-only",
                "chain-rule-one-term", "true-class-only", "spurious-term", "missing-term", "case-missing",
                "class-count")


@dataclass(frozen=True)
class Mistake:
    id: str
    explanation: str


def mistake(mistake_id: str, note: tuple = (), lang: str = "en") -> Mistake:
    """The mistake with its explanation in `lang`; `note` is (catalogue key, {fields}) for a detail."""
    fields = dict(note[1]) if note else {}
    if "name" in fields:  # another derivation: its title in the student's language
        fields["title"] = derivation_text(lang, fields["name"].partition(":")[0], "title")
    extra = say(lang, note[0], **fields) if note else ""
    return Mistake(mistake_id, (say(lang, mistake_id, "mistakes") + (" " + extra if extra else "")).strip())


def _deltas(expr):
    return [d for d in expr.atoms(sp.KroneckerDelta)]


def _add_nodes(expr):
    return [n for n in sp.preorder_traversal(expr) if isinstance(n, sp.Add)]


def _mul_nodes(expr):
    return [n for n in sp.preorder_traversal(expr) if isinstance(n, sp.Mul)]


def candidates(target: CheckTarget):
    """(id, candidate expression, note) in priority order, lazily: other targets are read only if
    no nearer mistake matched first."""
    yield from _near_mistakes(target)
    yield from _other_targets(target)
    yield from _term_mistakes(target)


@functools.lru_cache(maxsize=None)
def _other_targets(target: CheckTarget) -> tuple:
    """Every other derivation's result as a candidate, once per process (the registry does not change)."""
    results = questions()  # every registry result, read from the cache (see target.stored)
    return tuple(("other-target", results[other][1], ("note_other", {"name": other}))
                 for other in derivation_names() if other != target.name and results[other][1] != target.result)


def _collector(result):
    """A list of (id, candidate, note) and the function that appends to it, skipping the result itself."""
    out = []
    def add(mistake_id, candidate, note=()):
        if candidate is not None and candidate != result:
            out.append((mistake_id, candidate, note))
    return out, add


@functools.lru_cache(maxsize=None)
def _near_mistakes(target: CheckTarget) -> tuple:
    R = target.result
    out, add = _collector(R)
    deltas = _deltas(R)
    if deltas:
        add("off-diagonal-only", R.xreplace({d: 0 for d in deltas}))
        add("missing-delta", R.xreplace({d: 1 for d in deltas}))
        if len(target.free) == 2:
            a, b = target.free
            add("diagonal-only", R.xreplace({d: 1 for d in deltas}).xreplace({b: a}))
            add("diagonal-only", R.xreplace({b: a}))
    add("unnormalized", R.replace(lambda e: isinstance(e, sp.Indexed) and e.base == symbols.sigma,
                                  lambda e: sp.exp(symbols.z[e.indices[0]])))
    if R.has(symbols.y):
        add("true-class-only", R.replace(lambda e: isinstance(e, sp.Indexed) and e.base == symbols.y,
                                         lambda e: sp.Integer(1)))
    _chain_rule_mistakes(target, add)
    body = target.lhs.expr if isinstance(target.lhs, sp.Derivative) else None
    if body is not None:
        add("not-differentiated", target.substitute(body))
    for form in (R, sp.expand(R)):
        for node in _add_nodes(form):
            for arg in node.args:
                add("term-sign", form.xreplace({node: node - 2 * arg}))
    for form in (R, sp.expand(R)):
        for node in _mul_nodes(form):
            for arg in node.args:
                if not arg.is_Number:
                    add("missing-factor", form.xreplace({node: node / arg}))
    for atom in sorted(R.atoms(sp.Indexed), key=str):
        for index in atom.indices:
            for other in target.free:
                if other != index:
                    add("index-slip", R.xreplace({atom: atom.base[other]}))
    if len(target.free) == 2:
        a, b = target.free
        add("index-slip", R.xreplace({a: b, b: a}))
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _term_mistakes(target: CheckTarget) -> tuple:
    R = target.result
    out, add = _collector(R)
    terms = sp.Add.make_args(sp.expand(R))
    if len(terms) > 1:
        for term in sorted(terms, key=str):
            add("missing-term", R - term)
    for term in sorted(set(terms) | R.atoms(sp.Indexed) | {sp.Integer(1)}, key=str):
        add("spurious-term", R + term)
        add("spurious-term", R - term)
    return tuple(out)


def _chain_rule_mistakes(target: CheckTarget, add) -> None:
    """For a loss defined as a sum over classes: stopping at dL/dsigma, or keeping one term."""
    if not (isinstance(target.lhs, sp.Derivative) and target.definitions):
        return
    (variable, _order), = target.lhs.variable_count
    if not isinstance(variable, sp.Indexed):
        return
    index = variable.indices[0]
    for symbol, definition in target.definitions:
        if target.lhs.expr != symbol:
            continue
        add("outer-derivative-only", sp.diff(definition, symbols.sigma[index]).doit())
        sign, summation = (-1, -definition) if definition.could_extract_minus_sign() else (1, definition)
        if isinstance(summation, sp.Sum):
            (dummy, _lo, _hi), = summation.limits
            add("chain-rule-one-term",
                sp.Derivative(sign * summation.function.xreplace({dummy: index}), variable, evaluate=False))


def identify(answer: sp.Basic, target: CheckTarget, lang: str = "en") -> Mistake | None:
    """The named mistake, or None. Tries the sign/scale ratio first, then every catalogue entry, at
    the fixed points of CHECK_SEED: the same answer always gets the same id, whatever the check's seed."""
    if answer.has(sp.Derivative):
        return mistake("not-differentiated", lang=lang)
    stray = free_indices_once(answer) - set(target.free)
    if stray:
        names = ", ".join(sorted(map(str, stray)))
        return mistake("index-slip", ("note_index", {"names": names}), lang)
    answer_values = _AnswerValues(answer, target)  # evaluated once at the naming points, for every test below
    if _matches(answer, target, answer_values):
        # Equal at the naming points, wrong elsewhere (a term vanishing at some K): every candidate
        # that equals the target would match too, so name only what is certain.
        return mistake("spurious-term", lang=lang)
    pairs = _known_pairs(target, answer_values)
    ratio = _constant_ratio(answer, target, pairs)
    if ratio is not None:
        if abs(ratio + 1) <= RELATIVE_TOLERANCE:
            return mistake("sign", lang=lang)
        return mistake("scale", ("note_scale", {"factor": mpmath.nstr(ratio, 6)}), lang)
    for mistake_id, candidate, note in candidates(target):
        if _matches(answer, _probe(target, candidate), answer_values):
            return mistake(mistake_id, note, lang)
    if _constant_difference(answer, target, pairs):
        return mistake("spurious-term", ("note_constant", {}), lang)
    return None


class _AnswerValues:
    """One answer's values at the naming points within one identify, by index set, as _naming_values
    gives them. The answer is compiled once, and an entry that differs only in an index the answer
    does not hold (j, in an answer without j: the candidates with j enumerate i and j) is computed
    once: its environment differs only in a scalar the answer never reads."""

    def __init__(self, answer: sp.Basic, target: CheckTarget):
        self._answer, self._target = answer, target  # a probe differs from target only in its result
        self._run, self._letters = None, frozenset()
        self._by_set: dict = {}
        self._by_entry: dict = {}  # (point, ((index, value), ...) of the indices it reads) -> value

    def get(self, free: tuple) -> tuple | None:
        """The values already computed for `free`; None if not yet (or not computable)."""
        return self._by_set.get(free)

    def at(self, free: tuple) -> tuple | None:
        if free not in self._by_set:
            self._by_set[free] = self._values(free)
        return self._by_set[free]

    def _values(self, free: tuple) -> tuple | None:
        target = self._target
        try:
            with mpmath.workdps(PRECISION_DIGITS):
                if self._run is None:
                    self._run = evaluator(self._answer, target)
                    # Every letter the evaluator may read: the answer's and its substituted definitions'.
                    self._letters = frozenset(target.substitute(self._answer).atoms(sp.Symbol))
                read = tuple(ix for ix in free if ix in self._letters or ix in target.free)
                chosen = points(simplex=target.simplex, semantics=target.semantics)
                out = []
                for point in sample_points(chosen):
                    for assignment, env in environments(point, free, target.arrays, target.semantics):
                        key = (id(point), tuple((ix, assignment[ix]) for ix in read))
                        if key not in self._by_entry:
                            self._by_entry[key] = safe(self._run, env, assignment)
                        out.append(self._by_entry[key])
                return tuple(out)
        except (DeriveError, TypeError, ValueError, ArithmeticError):
            return None


def _matches(answer: sp.Basic, probe: CheckTarget, answer_values: _AnswerValues) -> bool:
    """compare(answer, probe, sample=2).agree, from values at the naming points: the candidate's are
    computed once per process (a class names many answers against the same catalogue), the answer's
    once per identify (`answer_values`). Where either cannot be computed in full (a point it cannot
    be evaluated at, a shape), compare itself decides, as it did alone."""
    free = enumerated_indices(answer, probe)
    got, expected = answer_values.at(free), _candidate_values(probe, free)
    if got is None or expected is None:
        return compare(answer, probe, sample=2).agree
    derivative = answer.has(sp.Derivative) or probe.result.has(sp.Derivative)
    tolerance = DERIVATIVE_TOLERANCE if derivative else RELATIVE_TOLERANCE
    with mpmath.workdps(PRECISION_DIGITS):
        return len(got) == len(expected) and all(close(e, g, tolerance) for e, g in zip(expected, got))


@functools.lru_cache(maxsize=4096)
def _probe(target: CheckTarget, candidate: sp.Basic) -> CheckTarget:
    """The target with a candidate as its result, made once per process: every wrong answer of a class
    is matched against the same catalogue, and the one object is then also _candidate_values' key."""
    return replace(target, result=candidate)


@functools.lru_cache(maxsize=4096)
def _candidate_values(probe: CheckTarget, free: tuple) -> tuple | None:
    return _naming_values(probe.result, probe, free)


def _naming_values(expr: sp.Basic, target: CheckTarget, free: tuple) -> tuple | None:
    """expr's values at compare's naming points (sample=2) for the index set `free`, in compare's
    order; None where compare would stop on an error rather than a value (see _matches)."""
    try:
        with mpmath.workdps(PRECISION_DIGITS):
            run = evaluator(expr, target)
            chosen = points(simplex=target.simplex, semantics=target.semantics)
            return tuple(safe(run, env, assignment) for point in sample_points(chosen)
                         for assignment, env in environments(point, free, target.arrays, target.semantics))
    except (DeriveError, TypeError, ValueError, ArithmeticError):
        return None


def _known_pairs(target: CheckTarget, answer_values: _AnswerValues) -> list | None:
    """_values(answer, target) from the values _matches already computed (the same points, indices
    and evaluation); None where they are missing, and _values computes them itself."""
    free = tuple(target.free)
    got, expected = answer_values.get(free), _candidate_values(target, free)
    if got is None or expected is None or len(got) != len(expected):
        return None
    return list(zip(expected, got))


def _values(answer, target, sample=2):
    got_fn, expected_fn = evaluator(answer, target), evaluator(target.result, target)
    pairs = []
    free = target.free
    chosen = points(simplex=target.simplex, semantics=target.semantics)
    for point in sample_points(chosen):
        for assignment, env in environments(point, free, target.arrays, target.semantics):
            pairs.append((safe(expected_fn, env, assignment), safe(got_fn, env, assignment)))
    return pairs


with mpmath.workdps(PRECISION_DIGITS):  # made at the precision it is compared at, as it was inside the loop
    _NEGLIGIBLE = mpmath.mpf("1e-20")  # a target value this small gives no ratio


def _constant_ratio(answer, target, known: list | None = None):
    from .equivalence import ShapeMismatch
    try:
        with mpmath.workdps(PRECISION_DIGITS):
            pairs = [(e, g) for e, g in (known if known is not None else _values(answer, target))
                     if abs(e) > _NEGLIGIBLE]
            if not pairs or any(not mpmath.isfinite(g) for _e, g in pairs):
                return None
            ratios = [g / e for e, g in pairs]
            first = ratios[0]
            if abs(first - 1) < RELATIVE_TOLERANCE or abs(first) < RELATIVE_TOLERANCE:
                return None
            if all(abs(r - first) <= RELATIVE_TOLERANCE * max(1, abs(first)) for r in ratios):
                return first
    except ShapeMismatch:
        return None
    return None


def _constant_difference(answer, target, known: list | None = None) -> bool:
    from .equivalence import ShapeMismatch
    try:
        with mpmath.workdps(PRECISION_DIGITS):
            diffs = [g - e for e, g in (known if known is not None else _values(answer, target))]
    except ShapeMismatch:
        return False
    if not diffs or any(not mpmath.isfinite(d) for d in diffs):
        return False
    return all(abs(d - diffs[0]) <= RELATIVE_TOLERANCE for d in diffs) and diffs[0] != 0
