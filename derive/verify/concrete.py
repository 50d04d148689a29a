"""The concrete verifier, for a concrete-K derivation written over S: every entry proved exactly, numerics sampled.

Why a second verifier: the generic one replaces sigma by the written-out softmax (K terms) in each
of the K^2 entries and differentiates numerically at every entry: K^3 and worse. Here
* matrices carry a diagonal + rank-one certificate (engine.concrete.Structured), and equality is
  proved for every entry with O(K) identities (`structured_equal`); the left side d sigma / d z
  gets its certificate from SymPy's own derivatives through S, computed here, not taken from the
  builder;
* vectors and scalars are proved entry by entry over S (sigma_m = e^{z_m} / S), O(1) per entry;
* numbers: both sides at 50 digits at every entry for K <= 8, and at a fixed sample of entries
  (every corner, the first diagonal entries, seeded random ones) above that, at random and
  extreme (|z| ~ 1000) logits, with derivatives by mpmath.diff.
"""
from __future__ import annotations

import dataclasses
import functools
import random

import mpmath
import sympy as sp

from ..algebra import index_templates
from ..algebra.zero_test import is_zero, vanishes
from ..engine import concrete
from ..engine.common import matrix_entries_to_indexed
from ..model import Derivation, Step
from ..numeric.state import Env
from ..numeric.softmax import log_softmax_derived
from ..numeric.evaluate import compile_expr
from ..numeric.points import logit_sets, semantic_inputs, semantic_sizes
from ..settings import PRECISION_DIGITS, TARGETS_SUM_TO_ONE, VERIFY_SEED
from ..symbols import K as _K, Y, Z, sigma, y, z
from .outcome import checked_step, explicit_targets_sum_to_one, relative_error, row
from .reporting import reported
from .symmetry import BatchSymmetry

ALL_ENTRIES_UP_TO = 8
SAMPLED_ENTRIES = 12
SHARED_SHAPE_INDICES = 4  # an entry of a Jacobian or gradient has one to three distinct indices


def applies(derivation: Derivation) -> bool:
    """This strategy is for a concrete K whose steps name the softmax denominator S (or, for a
    batch, each example's S_n)."""
    return derivation.K is not None and any(symbol == concrete.S or _is_row_denominator(symbol)
                                            for symbol, _ in derivation.definitions)


def _is_row_denominator(symbol) -> bool:
    return isinstance(symbol, sp.Indexed) and symbol.base == concrete.ROW_DENOMINATOR


def verify_derivation(derivation: Derivation) -> Derivation:
    rows = any(_is_row_denominator(symbol) for symbol, _ in derivation.definitions)
    prover = RowsProver(derivation) if rows else Prover(derivation)
    values: dict = {}  # (entry, targets on simplex, point) -> value: steps share their left side
    derived = _derived_values(prover.definitions, derivation.semantics)
    steps = tuple(reported((_verify_step(step, derivation.K, prover, derived, values, derivation.semantics)
                            for step in derivation.steps), len(derivation.steps)))
    return dataclasses.replace(derivation, steps=steps)


def _derived_values(definitions: dict, semantics) -> dict:
    """What a point computes from z: sigma, log sigma, S, and each defined scalar (L). A defined
    scalar is compiled once per derivation and recomputed whenever z is perturbed, so dL/dz_c
    needs no copy of the K-term loss per entry. A derivation with its own sigma (softmax(z / T))
    brings it, and S is then its definition (log sigma, which assumes softmax(z), is dropped)."""
    if semantics is not None and semantics.derived:
        standard = {name: f for name, f in log_softmax_derived().items() if name not in ("log_sigma", "S")}
        return {**standard, **semantics.derived, **{s.name: compile_expr(d) for s, d in definitions.items()}}
    return {**log_softmax_derived(), **{s.name: compile_expr(d) for s, d in definitions.items() if s != concrete.S}}


def _verify_step(step: Step, n: int, prover: "Prover", derived: dict, values: dict, semantics) -> Step:
    symbolic = prover.prove(step)
    error, points = _numeric_max_error(step, n, derived, values, semantics)
    return checked_step(step, symbolic, error, points)


# --- symbolic ---------------------------------------------------------------------------------

class Prover:
    """Exact proofs over S; caches the derivatives it computes (one TotalDerivative per function)."""

    def __init__(self, derivation: Derivation):
        self.n = derivation.K
        self.definitions = dict(derivation.definitions)
        self.total = self.definitions[concrete.S]
        self.scale = _logit_scale(self.total)  # sigma_m = e^{scale z_m} / S: 1, or 1/T at temperature T
        self.targets_total = sp.Add(*[y[r] for r in range(1, self.n + 1)])
        self._gradients: dict = {}
        self._normal: dict = {}  # the same factors recur across steps and proofs
        self._certificates: dict = {}
        self._identities: dict = {}  # (template pair, scales, uses_sum) -> proved: one proof per shape
        self._prepared: dict = {}
        self._folded: dict = {}
        self._walked: dict = {}  # per walk: long node -> its answer (the shared sums recur in every entry)
        self._sums: dict = {}  # a sum over every class -> c S^p A (folded)
        self._atoms: dict = {}  # its numerator over S -> the symbol A
        # Names a derivation gives a meaning (H: d/dz (dL/dz)): its proof layers that rewrite no base first.
        layers = derivation.semantics.layers if derivation.semantics is not None else None
        self._meanings = tuple(meaning for bases, meaning in layers or () if not bases)
        self.layer = LogitLayer.of(derivation.semantics, self.n)  # z = W x + b, or None: z is the input
        self._symmetry = BatchSymmetry.of(self._meaning_pairs()) if self.layer is not None and not self._meanings else None
        self._by_shape: dict = {}  # the symmetry's key of (a, b), uses_sum -> proved
        self._held: dict = {}  # f -> the Indexed atoms of f over S
        self._logit_entries: dict = {}  # (f, atom, k) -> df/dz_k over S

    def _meaning_pairs(self) -> list:
        return _meaning_of(self.definitions, {z[kk]: self.layer.definition(kk) for kk in range(1, self.n + 1)})

    def prove(self, step: Step) -> bool | None:
        """True when every entry is proved equal; None when SymPy cannot show it (numbers decide)."""
        return self._prove(step) or None

    def _prove(self, step: Step) -> bool:
        lhs, rhs = step.lhs, step.rhs
        if isinstance(lhs, sp.Symbol) and self.definitions.get(lhs) == rhs:
            return True  # the step states a definition (S = e^{z_1} + ... + e^{z_K}, L = ...)
        uses_sum = TARGETS_SUM_TO_ONE in step.uses
        if _written_out(lhs, rhs) is None and (_is_square(lhs, self.n) or _is_square(rhs, self.n)):
            a, b = self.certificate(lhs, uses_sum), self.certificate(rhs, uses_sum)
            return structured_equal(a, b, normal=lambda e: self.normal(e, uses_sum),
                                            equal=lambda x, y, *scales: self.entry_equal(x, y, uses_sum, *scales))
        pairs = zip(self._column_entries(lhs, uses_sum), self._column_entries(rhs, uses_sum))
        if _is_scalar(lhs) and _is_scalar(rhs) and self._named_sums(lhs, rhs):
            # One scalar identity with a named sum (a variance with its mean): opening the sum would
            # square K terms, so when the refolded identity fails the numbers decide.
            return self.refolded_equal(lhs, rhs, uses_sum)
        return all(self.entry_equal(a, b, uses_sum) for a, b in pairs)

    def _column_entries(self, side, uses_sum: bool) -> list:
        """A side's entries; M 1 for a square M from its certificate's row sums, O(K) in all (SymPy's
        entry of M 1 is a K-term sum in each of the K entries)."""
        if isinstance(side, sp.MatMul) and len(side.args) == 2 and isinstance(side.args[1], sp.OneMatrix) \
                and _is_square(side.args[0], self.n):
            return self.certificate(side.args[0], uses_sum).row_sums()
        return _entries(side, self.n)

    def certificate(self, side, uses_sum: bool = False) -> concrete.Structured:
        if isinstance(side, concrete.StructuredMatrix):
            return concrete.Structured(*side.args)
        if (side, uses_sum) not in self._certificates:  # every step of a Jacobian shares its left side
            self._certificates[(side, uses_sum)] = self._certificate(side, uses_sum)
        return self._certificates[(side, uses_sum)]

    def _certificate(self, side, uses_sum: bool) -> concrete.Structured:
        meant = self._meaning(side)
        if meant is not side:
            return self.certificate(meant, uses_sum)
        if isinstance(side, sp.Transpose):  # (diag(d) + u v^T)^T = diag(d) + v u^T
            inner = self.certificate(side.arg, uses_sum)
            return concrete.Structured(inner.diagonal, inner.right, inner.left)
        if isinstance(side, sp.Derivative):  # d f(sigma) / d z: SymPy's derivatives through S
            (variable, order), = side.variable_count
            if order == 2:  # a Hessian d^2 L / dz dz^T: its rows are dL/dz_r, taken through S as well
                functions = [self.normal(sp.Derivative(side.expr, row(variable, r)), uses_sum)
                             for r in range(1, self.n + 1)]
            else:
                functions = [self.over_S(_row_of(side.expr, r)) for r in range(1, self.n + 1)]
            return concrete.Structured.from_total_derivative(concrete.TotalDerivative(functions, self.n, scale=self.scale),
                                                             evaluate=False)
        return concrete.Structured.from_matrix_form(side, self.n)

    def _meaning(self, side):
        for meaning in self._meanings if isinstance(side, sp.MatrixSymbol) else ():
            side = meaning(side, self.n)
        return side

    def over_S(self, expr):
        expr = expr.xreplace({s: d for s, d in self.definitions.items() if s != concrete.S})
        return in_logits(expr, self.scale)

    def normal(self, expr, uses_sum: bool):
        key = (expr, uses_sum)
        if key not in self._normal:
            self._normal[key] = self._normal_form(expr, uses_sum)
        return self._normal[key]

    def _normal_form(self, expr, uses_sum: bool):
        # The targets' sum becomes one atom (or 1) first: every later walk then stops at it, and
        # expanding it through K entries would cost K^2 terms.
        atom = sp.Integer(1) if uses_sum else _TARGETS_TOTAL
        expr = self.total_as(expr, atom)
        # Derivatives next: their body (the loss, K terms) is rewritten once, not once per entry.
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda d: self._total_derivative(d, atom))
        return self.total_as(self.over_S(expr), atom)

    def total_as(self, expr, atom):
        """expr with the targets' sum y_1 + ... + y_K replaced by atom.

        xreplace would do, but it recognises the sum by SymPy equality, K comparisons of Indexed
        objects each time it meets one (most gradient entries hold it): here its indices are read
        as integers instead."""
        return _replace_sum(expr, y, self.n, atom, self._walked.setdefault(("total", atom), {}))[0]

    def _total_derivative(self, derivative: sp.Derivative, atom):
        (variable, _order), = derivative.variable_count
        f = derivative.expr
        if self.layer is not None and getattr(variable, "base", z) != z:
            return self._through_layer(derivative, atom)
        return self._logit_gradient(f, atom).entry(0, int(variable.indices[0]) - 1)

    def _logit_gradient(self, f, atom) -> concrete.TotalDerivative:
        """The factors of df/dz_c over S, computed once per function and atom."""
        if f not in self._gradients:
            self._gradients[f] = concrete.TotalDerivative([self.over_S(f)], self.n, scale=self.scale)
        if (f, atom) not in self._gradients:
            # gcd_terms, collect_targets: dL/dS = (y_1 + ... + y_K) / S with the targets' sum as one
            # term, which then becomes its atom once, here, instead of in every entry. (gcd_terms, not
            # factor_terms: the same here, without factoring each of the K terms inside, 0.5 s at K = 512.)
            td = self._gradients[f]
            outer = [self._outer_factor(o, atom) for o in td.outer]
            self._gradients[(f, atom)] = concrete.TotalDerivative(td.functions, self.n, dS=td.dS, outer=outer,
                                                                  direct=td.direct)
        return self._gradients[(f, atom)]

    def _through_layer(self, derivative: sp.Derivative, atom):
        """d f / d v for v below the logits (W_rc, b_r, x_c): dz_k/dv by SymPy for a logit f = z_k;
        for a function of the logits (the loss), the chain rule sum_k df/dz_k dz_k/dv over the
        logits whose definition holds v (one for W_rc, K for x_c). Left as it is (so unproved) when
        the order is not one or f itself holds v: the chain rule through z would miss that part."""
        (variable, order), = derivative.variable_count
        f = derivative.expr
        if order != 1:
            return derivative
        if isinstance(f, sp.Indexed) and f.base == z:
            return self.layer.derivative(int(f.indices[0]), variable)
        if f not in self._held:  # the atoms of f over S, read once: f is the K-term loss
            self._held[f] = self.over_S(f).atoms(sp.Indexed)
        if variable in self._held[f]:
            return derivative
        return sp.Add(*[self._logit_entry(f, atom, kk) * self.layer.derivative(kk, variable)
                        for kk in self.layer.holding(variable)])

    def _logit_entry(self, f, atom, kk: int):
        """df/dz_k over S, kept: the D entries W_k1 .. W_kD of a row all go through z_k."""
        key = (f, atom, kk)
        if key not in self._logit_entries:
            self._logit_entries[key] = self._logit_gradient(f, atom).entry(0, kk - 1)
        return self._logit_entries[key]

    def _outer_factor(self, outer, atom):
        """df/dS with the targets' sum as its atom, or else a sum over the classes as one symbol
        (d(sum_r g_r e^{z_r} / S)/dS = -A / S^2): either way every entry shares one shape."""
        if not outer.has(y) and isinstance(outer, sp.Add) and self.shared_sum(outer) is not None:
            return self.shared_sum(outer)
        return self.total_as(collect_targets(sp.gcd_terms(outer), self.n), atom)

    def entry_equal(self, a, b, uses_sum: bool, scale_a=sp.Integer(1), scale_b=sp.Integer(1)) -> bool:
        """a scale_a = b scale_b. Through a layer z = W x + b, an entry that renames a proved one
        (classes and features each permuted, verify.symmetry) is proved with it, before its
        normal form is built (the chain rule through L is most of a proof's work)."""
        key = None
        if self._symmetry is not None and scale_a == 1 and scale_b == 1:
            key = self._symmetry.key(a, b)
            if key is not None and (key, uses_sum) in self._by_shape:
                return self._by_shape[(key, uses_sum)]
        proved = self._entry_equal(a, b, uses_sum, scale_a, scale_b)
        if key is not None:
            self._by_shape[(key, uses_sum)] = proved
        return proved

    def _entry_equal(self, a, b, uses_sum: bool, scale_a, scale_b) -> bool:
        """a scale_a = b scale_b, proved once per shape of (a, b) (engine.index_templates).

        The scales are fixed factors shared by many entries (a rank-one column's v_c0), so only a
        and b are templated. A pair is templated as it stands when its meaning lies in its atoms
        (no derivative, no defined symbol but S, which the proofs treat as an independent
        variable); otherwise after the normal form has evaluated the derivatives and opened the
        definitions. A template's identity is the stronger claim (its placeholders are free), so
        when it is not provable the instance itself is tried. Sums over every class come first
        as one symbol each (`folded`), a stronger claim again, so they are opened when that fails."""
        a, b = self.prepared(a, uses_sum), self.prepared(b, uses_sum)
        folded_a, folded_b = self.folded(a), self.folded(b)
        if self._equal(folded_a, folded_b, uses_sum, scale_a, scale_b):
            return True
        return (folded_a, folded_b) != (a, b) and self._equal(a, b, uses_sum, scale_a, scale_b)

    def _equal(self, a, b, uses_sum: bool, scale_a, scale_b) -> bool:
        shape, values = index_templates.signature(a, b)
        if len(values) > SHARED_SHAPE_INDICES:  # a whole loss: no other entry shares its shape
            return self._identity(a * scale_a, b * scale_b, uses_sum)
        key = (shape, scale_a, scale_b, uses_sum)
        if key not in self._identities:
            (ta, tb), _back = index_templates.template(a, b)
            self._identities[key] = self._identity(ta * scale_a, tb * scale_b, uses_sum)
        return self._identities[key] or self._identity(a * scale_a, b * scale_b, uses_sum)

    def folded(self, expr):
        """expr with each sum over every class inside a product (g_1 sigma_1 + ... + g_K sigma_K in
        sigma_c (g_c - ...)) written c S^p A, A one symbol per distinct sum over S.

        Why it is sound: the sum equals c S^p N over S (sigma_r = e^{z_r} / S, then factor_terms),
        and A stands for N, the same symbol wherever N is the same expression; an identity proved
        with A free holds for every value of A, so for N. Why: K entries then share one shape
        (proved once) where each held the K-term sum (K^2 work)."""
        if expr not in self._folded:
            self._folded[expr] = self._fold(expr, inside_product=False)
        return self._folded[expr]

    def _fold(self, node, inside_product: bool):
        if len(node.args) > SHARED_SHAPE_INDICES:
            memo = self._walked.setdefault("fold", {})
            if (node, inside_product) not in memo:
                memo[(node, inside_product)] = self._fold_node(node, inside_product)
            return memo[(node, inside_product)]
        return self._fold_node(node, inside_product)

    def _fold_node(self, node, inside_product: bool):
        if isinstance(node, sp.Sum) and all(limit.is_Integer for _x, *limits in node.limits for limit in limits):
            if node not in self._sums:  # the inner product of a vector form: one Sum in every entry
                self._sums[node] = self._fold(node.doit(), inside_product=True)
            return self._sums[node]
        if not node.args or isinstance(node, (sp.Indexed, sp.Symbol)):
            return node
        inner = isinstance(node, (sp.Mul, sp.Pow))
        args = [self._fold(arg, inside_product=inner) for arg in node.args]
        if any(x is not y for x, y in zip(args, node.args)):
            return node.func(*args)  # g_c - (g_1 sigma_1 + ...): the sum inside was the one
        if isinstance(node, sp.Add) and inside_product:
            return self.shared_sum(node) or node
        return node

    def shared_sum(self, add: sp.Add):
        """m S for m e^{z_1} + ... + m e^{z_K} (`_multiple_of_S`); else c S^p A for a sum over more
        classes than one entry's shape has, when its terms over S all carry S^p (sum_r g_r sigma_r =
        (sum_r g_r e^{z_r}) / S); else None."""
        if add not in self._sums:
            self._sums[add] = self._multiple_of_S(add)
            if self._sums[add] is None and \
                    len({ix for atom in add.atoms(sp.Indexed) for ix in atom.indices}) > SHARED_SHAPE_INDICES:
                self._sums[add] = self._over_S_power(add)
        return self._sums[add]

    def _multiple_of_S(self, add: sp.Add):
        """m S when every term of the sum is m e^{z_r}, one term per class (the shifted denominator
        e^{z_1 + c} + ... + e^{z_K + c} = e^c S), else None. Exact, not a free symbol: the shift
        then cancels in a proof of O(1) size instead of one over the K-term sums."""
        if len(add.args) != self.n:
            return None
        ratios, classes = set(), set()
        for term in add.args:
            logits = term.atoms(sp.Indexed)
            if len(logits) != 1 or next(iter(logits)).base != z:
                return None
            logit = logits.pop()
            classes.add(logit.indices[0])
            ratios.add(_ratio_to_exp(term, sp.exp(self.scale * logit)))
            if len(ratios) > 1 or next(iter(ratios)).has(sp.Indexed):
                return None
        return ratios.pop() * concrete.S if classes == set(range(1, self.n + 1)) else None

    def _over_S_power(self, add: sp.Add):
        parts = [t.as_coeff_exponent(concrete.S) for t in sp.Add.make_args(self.over_S(add))]
        powers = {power for _rest, power in parts}
        if len(powers) != 1 or any(rest.has(concrete.S) for rest, _power in parts):
            return None
        numerator = sp.Add(*[rest for rest, _power in parts])
        if numerator == self.total:  # e^{z_1} + ... + e^{z_K} is S itself (sigma_1 + ... + sigma_K = 1)
            return concrete.S ** (powers.pop() + 1)
        sign = -1 if numerator.could_extract_minus_sign() else 1  # -N and N: one symbol
        numerator = sp.Add(*[-rest for rest, _power in parts]) if sign == -1 else numerator
        symbol = self._atoms.setdefault(numerator, sp.Dummy("shared_sum"))
        return sign * concrete.S ** powers.pop() * symbol

    def refolded_equal(self, a, b, uses_sum: bool) -> bool:
        """a = b for scalars holding sums over every class inside products (a variance): with each
        such sum one symbol A, expanded (O(K) terms), then every sum over the classes that the
        expansion leaves (sum_r c sigma_r v_r) folded again into its symbol (or S), before the zero test.

        Sound: expanding and collecting are exact, and A stands for exactly the sum it replaces."""
        named = self._named_sums(a, b)
        # The named sum as its symbol wherever it stands, by name (mu) or written out (in (sigma^T v)^2).
        symbols = {**named, **{self.definitions[symbol]: folded for symbol, folded in named.items()}}
        terms = [*sp.Add.make_args(self._over_S_folded(a, symbols, uses_sum)),
                 *(-t for t in sp.Add.make_args(self._over_S_folded(b, symbols, uses_sum)))]
        difference = sp.Add(*[_expand_per_shape(t) for t in terms])  # K terms of a few shapes
        groups: dict = {}  # the factors free of indices -> the indexed parts they multiply
        for term in sp.Add.make_args(difference):
            factors = sp.Mul.make_args(term)
            free = sp.Mul(*[f for f in factors if not f.has(sp.Indexed)])
            groups.setdefault(free, []).append(sp.Mul(*[f for f in factors if f.has(sp.Indexed)]))
        return is_zero(sp.Add(*[free * self._folded_sum(sp.Add(*parts)) for free, parts in groups.items()]))

    def _named_sums(self, *sides) -> dict:
        """Each defined symbol of the sides (not S) whose definition is a sum over the classes -> its symbol."""
        named, memo = {}, self._walked.setdefault("named", {})
        for symbol in set().union(*(side.free_symbols for side in sides)):
            definition = self.definitions.get(symbol)
            if symbol != concrete.S and isinstance(definition, sp.Add):
                if definition not in memo:  # at any K: a named sum is one symbol even over 2 classes
                    memo[definition] = self._over_S_power(definition)
                if memo[definition] is not None:
                    named[symbol] = memo[definition]
        return named

    def _over_S_folded(self, expr, symbols: dict, uses_sum: bool):
        """expr over S with the named sums (`symbols`) and each sum inside a product as its symbol: O(K)."""
        expr = expr.xreplace(symbols)
        return self.normal(self.folded(self.prepared(expr, uses_sum)), uses_sum)

    def _folded_sum(self, total):
        """A sum over the classes (over S, numerator only) as its symbol, S, or itself."""
        if total == self.total:
            return concrete.S
        if total in self._atoms:
            return self._atoms[total]
        return -self._atoms[-total] if -total in self._atoms else total

    def prepared(self, expr, uses_sum: bool):
        """The targets' sum (K indices) as its atom, so that it does not hide the shape; the normal
        form where the meaning is not in the atoms. Kept: a Jacobian's left side recurs every step."""
        key = (expr, uses_sum)
        if key not in self._prepared:
            ready = self.total_as(expr, sp.Integer(1) if uses_sum else _TARGETS_TOTAL)
            self._prepared[key] = ready if self._self_contained(ready) else self.normal(ready, uses_sum)
        return self._prepared[key]

    def _self_contained(self, expr) -> bool:
        return not self._opaque(expr)

    def _opaque(self, node) -> bool:
        """It holds a derivative or a defined symbol other than S. A shared sum (K terms in every
        entry) is walked once, not once per entry."""
        if isinstance(node, sp.Derivative) or (node in self.definitions and node != concrete.S):
            return True
        if not node.args:
            return False
        memo = self._walked.setdefault("opaque", {})
        if len(node.args) <= SHARED_SHAPE_INDICES:
            return any(self._opaque(a) for a in node.args)
        if node not in memo:
            memo[node] = any(self._opaque(a) for a in node.args)
        return memo[node]

    def _identity(self, a, b, uses_sum: bool) -> bool:
        difference = self.normal(a, uses_sum) - self.normal(b, uses_sum)
        # Scalars with the sums written out (the loss) need the atoms opened again; when the
        # targets' sum stands beside single targets, opening it is the only way, so it goes first.
        # Opened only when needed: rewriting a K-term difference costs as much as testing it.
        opened = functools.lru_cache(maxsize=1)(lambda: self._opened(difference, uses_sum))
        mixed = difference.has(_TARGETS_TOTAL) and len(difference.atoms(sp.Indexed)) > SHARED_SHAPE_INDICES
        attempts = (opened, lambda: difference) if mixed else (lambda: difference, opened)
        return any(is_zero(e()) for e in attempts) or self._zero_with_S_written_out(opened())

    def _zero_with_S_written_out(self, expr) -> bool:
        """The last attempt, S = e^{z_1} + ... + e^{z_K} written out: by the ring test alone above
        ALL_ENTRIES_UP_TO classes. SymPy's expand and cancel of powers of a K-term sum, which the
        ring test leaves to it, grow like K^3 and more: a single false entry took 38 s at K = 24 and
        exhausted memory at K = 64, where the answer (not proved) is the same."""
        written_out = expr.xreplace({concrete.S: self.total})
        return is_zero(written_out) if self.n <= ALL_ENTRIES_UP_TO else vanishes(written_out)

    def _opened(self, difference, uses_sum: bool):
        opened = difference.xreplace({_TARGETS_TOTAL: self.targets_total})
        return explicit_targets_sum_to_one(opened, self.n) if uses_sum else opened


_TARGETS_TOTAL = sp.Symbol("Y_total")
_expand_per_shape = index_templates.PerTemplate(sp.expand)  # sigma_r (v_r - mu)^2 expanded once for every r
_ratio_to_exp = index_templates.PerTemplate(lambda term, power: sp.powsimp(term / power))  # once per shape


def collect_targets(expr, n: int):
    """c y_1 + ... + c y_n -> c (y_1 + ... + y_n) in every sum: the targets' sum then becomes its
    atom (label smoothing: dL/dS = (eps + (1 - eps) y_1 + ... + (1 - eps) y_K) / S)."""
    return expr.replace(lambda e: isinstance(e, sp.Add) and len(e.args) >= n, lambda e: _collected(e, n))


def _collected(add: sp.Add, n: int):
    by_coefficient: dict = {}
    for term in add.args:
        targets = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Indexed) and f.base == y]
        if len(targets) == 1 and targets[0].indices[0].is_Integer:
            coefficient = sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not targets[0]])
            by_coefficient.setdefault(coefficient, []).append((term, int(targets[0].indices[0])))
    full = {c: [t for t, _ in terms] for c, terms in by_coefficient.items()
            if sorted(r for _, r in terms) == list(range(1, n + 1)) and not c.has(y)}
    if not full:
        return add
    grouped = {t for terms in full.values() for t in terms}
    total = sp.Add(*[y[r] for r in range(1, n + 1)])
    return sp.Add(*[t for t in add.args if t not in grouped], *[c * total for c in full])


class RowsProver:
    """Exact proofs for a batch: row n of P is the softmax of row n of Z over its own denominator
    S_n (the derivation's definitions), and Z = X W^T + 1 b^T is read from the proof layers.

    Each entry of each side is brought to a normal form in Z, S_1..S_N and the other leaves:
    dL/dv is the chain rule through the logits Z_ec whose definition holds v, dL/dZ_ec is SymPy's
    derivative of L over the S_n (the terms of L that hold Z_ec directly, plus dL/dS_e dS_e/dZ_ec,
    each computed once), P_ec is e^{Z_ec} / S_e; a row of targets that sums to one becomes 1 where
    the step uses that. Then lhs - rhs must vanish (zero_test); treating the S_n as free makes the
    claim stronger, so a proof holds at S_n = sum_k e^{Z_nk}."""

    def __init__(self, derivation: Derivation):
        self.definitions = definitions = dict(derivation.definitions)
        self.denominators = {s: d for s, d in definitions.items() if _is_row_denominator(s)}
        self.defined = {s: d for s, d in definitions.items() if s not in self.denominators}  # L
        self.layer = _layer_of(derivation.semantics, "Z")
        self.classes = derivation.K
        self.probs = [name for bases, _ in derivation.semantics.layers for name in bases if name != "Z"]
        self._held: dict = {}  # a defined function -> its terms over S, by the atom they hold
        self._partials: dict = {}  # (f, atom) -> df/datom over S
        self._normal: dict = {}
        self._holding: dict = {}  # v -> the logits Z_ec that hold it
        self._proved: dict = {}  # signature of (lhs, rhs) in normal form -> proved
        self._term_over_S = index_templates.PerTemplate(self._shape_over_S)
        self._symmetry = BatchSymmetry.of(self._meaning_pairs()) if self.layer is not None else None
        self._by_shape: dict = {}  # the symmetry's key of (lhs, rhs, uses_sum) -> proved

    def _meaning_pairs(self) -> list:
        logits = [Z[e, c] for e in range(1, len(self.denominators) + 1) for c in range(1, self.classes + 1)]
        return _meaning_of(self.definitions, {logit: self.layer(logit) for logit in logits})

    def prove(self, step: Step) -> bool | None:
        uses_sum = TARGETS_SUM_TO_ONE in step.uses
        rows, cols = _written_out(step.lhs, step.rhs) or (None, None)
        if rows is None:
            return None
        shared = self._one_shape(step.lhs, step.rhs, rows, cols)
        if shared is not None:
            return self._entry_equal(*shared, uses_sum) or None
        pairs = [(_entry(step.lhs, r, c), _entry(step.rhs, r, c)) for r in range(rows) for c in range(cols)]
        return all(self._entry_equal(a, b, uses_sum) for a, b in pairs) or None

    def _one_shape(self, lhs, rhs, rows: int, cols: int):
        """Entry (1, 1) when every entry of the step is it renamed, else None: dL/dv_rc written out
        against a form's generic entry ((1/N)(P - Y)^T X at row p_0, column p_1) whose positions
        are whole indices of kinds of their own (verify.symmetry BatchSymmetry.renames). Then the
        one proof is every entry's, and the K D entries are neither made nor walked."""
        if self._symmetry is None or not isinstance(lhs, sp.MatrixBase) or not isinstance(rhs, sp.MatrixExpr) \
                or isinstance(rhs, (sp.MatrixBase, concrete.StructuredMatrix)):
            return None
        first = lhs[0, 0]
        if not isinstance(first, sp.Derivative) or len(first.variable_count) != 1 or first.variable_count[0][1] != 1 \
                or not isinstance(first.variables[0], sp.Indexed):
            return None
        f, base = first.expr, first.variables[0].base
        placeholders = (index_templates.placeholder(0), index_templates.placeholder(1))[:len(first.variables[0].indices)]
        for r in range(rows):
            for c in range(cols):
                entry = lhs[r, c]
                if not isinstance(entry, sp.Derivative) or entry.expr != f or entry.variable_count != \
                        ((base[(r + 1, c + 1)[:len(placeholders)]], 1),):
                    return None
        generic, _atoms, by_index = _form_entry_template(rhs, rows)
        template = (sp.Derivative(f, base[placeholders], evaluate=False), generic)
        if not by_index or not self._symmetry.renames(sp.Tuple(*template), dict(zip(placeholders, (rows, cols)))):
            return None
        shared = (first, _form_entry(rhs, 0, 0))
        return shared if self._symmetry.key(*shared) is not None else None

    def _entry_equal(self, a, b, uses_sum: bool) -> bool:
        """a = b, proved once per shape of the pair itself: an entry that renames a proved one
        (examples, classes and features each permuted, verify.symmetry) is proved with it, before
        its normal form is built (the chain rule through L is most of a proof's work)."""
        key = None if self._symmetry is None else self._symmetry.key(a, b)
        if key is not None and (key, uses_sum) in self._by_shape:
            return self._by_shape[(key, uses_sum)]
        proved = self._equal(self.normal(a, uses_sum), self.normal(b, uses_sum))
        if key is not None:
            self._by_shape[(key, uses_sum)] = proved
        return proved

    def _equal(self, a, b) -> bool:
        """a - b vanishes, proved once per shape (engine.index_templates): normal forms hold only
        leaves (the S_n are free variables), so two entries of one shape are renamings of each
        other, and one vanishes exactly when the other does."""
        key, _values = index_templates.signature(a, b)
        if key not in self._proved:
            self._proved[key] = is_zero(a - b)
        return self._proved[key]

    def normal(self, expr, uses_sum: bool):
        key = (expr, uses_sum)
        if key not in self._normal:
            if expr.has(sp.Sum):  # an entry of a form over the batch, when N = K shared SymPy's one size symbol
                expr = expr.replace(lambda e: isinstance(e, sp.Sum) and all(
                    limit.is_Integer for _dummy, *limits in e.limits for limit in limits), _sum_term_by_term)
            # A derivative the chain rule takes comes out over S already (in Z, the S_n, Y and the
            # layer's leaves): it stands aside as a mark while the rest of the entry is rewritten.
            taken = {derivative: self._derivative(derivative, uses_sum) for derivative in expr.atoms(sp.Derivative)}
            marks = {derivative: sp.Dummy() for derivative, value in taken.items() if value is not derivative}
            rest = self._over_S(expr.xreplace(marks).xreplace(self.defined), uses_sum)
            self._normal[key] = rest.xreplace({mark: taken[derivative] for derivative, mark in marks.items()})
        return self._normal[key]

    def _over_S(self, expr, uses_sum: bool):
        """Term by term, each term's shape once (index_templates): the loss alone has N K terms
        -Y_nk log P_nk / N of a few shapes, and log(e^{Z_nk} / S_n) costs SymPy's assumptions."""
        return sp.Add(*[self._term_over_S(term) for term in sp.Add.make_args(expr)])

    def _shape_over_S(self, expr):
        """P_ec -> e^{Z_ec} / S_e and the logs expanded: a rewrite of atoms, so it commutes with
        renaming the indices."""
        probs = {e: sp.exp(Z[e.indices]) / concrete.ROW_DENOMINATOR[e.indices[0]]
                 for e in expr.atoms(sp.Indexed) if e.base.name in self.probs}
        expr = expr.xreplace(probs) if probs else expr
        if expr.has(sp.log):
            expr = expr.xreplace({g: _expand_log(g) for g in expr.atoms(sp.log)})
        return expr

    def _derivative(self, derivative: sp.Derivative, uses_sum: bool):
        (variable, order), = derivative.variable_count
        f = derivative.expr
        if order != 1 or self.layer is None:
            return derivative
        if isinstance(f, sp.Indexed) and f.base == Z:
            return concrete.derivative_by_terms(self.layer(f), variable)
        if f not in self.defined:
            return derivative
        if self._terms(f).get(variable):
            return derivative  # f holds v itself: the chain rule through Z alone would miss that part
        return sp.Add(*[self._partial(f, logit, uses_sum) * concrete.derivative_by_terms(self.layer(logit), variable)
                        for logit in self._logits_holding(variable)])

    def _terms(self, f) -> dict:
        """{atom: the terms of f over the S_n that hold it}, read once: f is the N K-term loss or
        an S_n (K terms, of which one holds a given Z_nk)."""
        if f not in self._held:
            by_atom: dict = {}
            for term in sp.Add.make_args(self._over_S(self.definitions[f], False)):
                for atom in _indexed_atoms(term):
                    by_atom.setdefault(atom, []).append(term)
            self._held[f] = by_atom
        return self._held[f]

    def _partial(self, f, logit, uses_sum: bool):
        """df/dZ_ec = the terms holding Z_ec, differentiated, + df/dS_e dS_e/dZ_ec."""
        key = (f, logit, uses_sum)
        if key not in self._partials:
            terms = self._terms(f)
            denominator = concrete.ROW_DENOMINATOR[logit.indices[0]]
            direct = concrete.derivative_by_terms(sp.Add(*terms.get(logit, ())), logit)
            through = concrete.derivative_by_terms(sp.Add(*self._terms(denominator).get(logit, ())), logit)
            self._partials[key] = direct + self._outer(f, denominator, uses_sum) * through
        return self._partials[key]

    def _outer(self, f, denominator, uses_sum: bool):
        """df/dS_e, once per row, with the row's targets' sum one term (1 where the step uses it)."""
        key = (f, denominator, uses_sum)
        if key not in self._partials:
            outer = _gathered(concrete.derivative_by_terms(sp.Add(*self._terms(f).get(denominator, ())), denominator))
            if uses_sum:
                row = denominator.indices[0]
                outer = outer.xreplace({sp.Add(*[Y[row, c] for c in range(1, self.classes + 1)]): sp.Integer(1)})
            self._partials[key] = outer
        return self._partials[key]

    def _logits_holding(self, variable) -> list:
        if not self._holding:
            for logit in (Z[e, c] for e in range(1, len(self.denominators) + 1) for c in range(1, self.classes + 1)):
                for atom in _indexed_atoms(self.layer(logit)):
                    self._holding.setdefault(atom, []).append(logit)
        return self._holding.get(variable, [])


_expand_log = index_templates.PerTemplate(lambda g: sp.expand_log(g, force=True))  # force: logits are real


def _gathered(total):
    """c (Y_e1 + ... + Y_eK) for the K terms c Y_ek of df/dS_e, when every term is one target
    times the same c (distributivity: SymPy's Mul and Add, one pass); else gcd_terms, which gives
    the same form with a walk over the factors of every term (most of the work of a proof)."""
    common, targets = set(), []
    for term in sp.Add.make_args(total):
        factors = sp.Mul.make_args(term)
        held = [f for f in factors if isinstance(f, sp.Indexed) and f.base == Y]
        if len(held) != 1:
            return sp.gcd_terms(total)
        common.add(sp.Mul(*[f for f in factors if f is not held[0]]))
        targets.append(held[0])
    if len(common) != 1 or len(targets) < 2:
        return sp.gcd_terms(total)
    return common.pop() * sp.Add(*targets)


def _indexed_atoms(expr) -> set:
    """expr.atoms(sp.Indexed), without walking into each Indexed's base and indices (a third of
    the nodes of a logit's definition or a loss term)."""
    if isinstance(expr, sp.Indexed):
        return {expr}
    return set().union(*(_indexed_atoms(arg) for arg in expr.args))


def _meaning_of(definitions: dict, layer: dict) -> list:
    """(a defined symbol, one term of its definition), for the definitions (L, S or the S_n) and the
    logits' layer {logit: Z_ec = X_e1 W_c1 + ... + b_c}: what the entries mean, whose symmetry lets
    one proof stand for an entry shape (verify.symmetry)."""
    return [(symbol, term) for symbol, definition in (*definitions.items(), *layer.items())
            for term in sp.Add.make_args(definition)]


def _layer_of(semantics, base: str):
    """The definition of an entry of `base` one level down (Z_ec = X_e1 W_c1 + ... + b_c), from the
    semantics' proof layers; None when it has none."""
    for bases, substitute in (semantics.layers or ()) if semantics is not None else ():
        if tuple(bases) == (base,):
            return functools.lru_cache(maxsize=None)(lambda entry: substitute(entry, None))
    return None


class LogitLayer:
    """The logits' own definition when they are not the input (z_k = W_k1 x_1 + ... + b_k): read from
    the derivation's proof layers (Semantics.layers, the layer whose bases are z), so the proofs
    use the meaning the generic verifier uses."""

    def __init__(self, substitute, n: int):
        self._definitions = {kk: substitute(z[kk], n) for kk in range(1, n + 1)}
        self._holding: dict = {}  # variable -> the k whose z_k holds it, read once from the atoms
        for kk, definition in self._definitions.items():
            for atom in definition.atoms(sp.Indexed):
                self._holding.setdefault(atom, []).append(kk)

    @classmethod
    def of(cls, semantics, n: int):
        for bases, substitute in (semantics.layers or ()) if semantics is not None else ():
            if tuple(bases) == (z.name,):
                return cls(substitute, n)
        return None

    def definition(self, kk) -> sp.Expr:
        return self._definitions[int(kk)]

    def derivative(self, kk: int, variable) -> sp.Expr:
        """dz_k/dv by SymPy, term by term (linearity: the terms of z_k without v contribute 0),
        each term's derivative once per shape (W_kc x_c by x_c is W_kc for every k and c)."""
        return concrete.derivative_by_terms(self._definitions[kk], variable)

    def holding(self, variable) -> list:
        return self._holding.get(variable, [])


def _replace_sum(expr, base, n, atom, memo: dict) -> tuple:
    """(expr with base_1 + ... + base_n replaced by atom, whether it changed); memo keeps the
    answer for long nodes (a sum shared by every entry is walked once). Keyed by identity: an
    equal sum built elsewhere (the targets' sum of another step) would be compared term by term on
    every lookup, K comparisons of Indexed objects per entry."""
    if len(expr.args) > SHARED_SHAPE_INDICES:
        known = memo.get(id(expr))
        if known is None or known[0] is not expr:  # the node itself is kept, so its id is not reused
            known = memo[id(expr)] = (expr, _replace_in_sum(expr, base, n, atom, memo))
        return known[1]
    return _replace_in_sum(expr, base, n, atom, memo)


def _replace_in_sum(expr, base, n, atom, memo: dict) -> tuple:
    if isinstance(expr, sp.Add) and len(expr.args) == n and _is_full_sum(expr, base, n):
        return atom, True
    if not expr.args or isinstance(expr, (sp.Indexed, sp.Symbol)):
        return expr, False
    parts = [_replace_sum(a, base, n, atom, memo) for a in expr.args]
    if not any(changed for _, changed in parts):
        return expr, False
    return expr.func(*[a for a, _ in parts]), True


def _is_full_sum(add: sp.Add, base, n) -> bool:
    indices = set()
    for term in add.args:
        if not (isinstance(term, sp.Indexed) and term.base == base and term.indices[0].is_Integer):
            return False
        indices.add(int(term.indices[0]))
    return indices == set(range(1, n + 1))


def _is_scalar(side) -> bool:
    """Neither a matrix nor a gradient d L / d z (whose entries are a column)."""
    return not getattr(side, "is_Matrix", False) and not (
        isinstance(side, sp.Derivative) and any(getattr(v, "is_Matrix", False) for v in side.variables))


def _written_out(*sides):
    """The shape of a side written out entry by entry (a K x D gradient, D x 1), or None: such a
    step is proved and checked entry by entry, even when it is K x K (D = K)."""
    for side in sides:
        if isinstance(side, sp.MatrixBase):
            return tuple(int(size) for size in side.shape)
    return None


def _is_square(side, n) -> bool:
    shape = getattr(side, "shape", None)
    if isinstance(side, sp.Derivative) and side.expr.atoms(sp.MatrixSymbol):
        return True
    return shape is not None and tuple(shape) == (n, n) and n > 1


# --- the normal form and the structured proof (diagonal + rank one) -------------------------

def _logit_scale(total: sp.Expr) -> sp.Expr:
    """c in S = e^{c z_1} + ... + e^{c z_K} (1, or 1/T at temperature T)."""
    exponent = sp.Add.make_args(total)[0].args[0]
    logit, = (e for e in exponent.atoms(sp.Indexed) if e.base == z)
    return exponent / logit


def in_logits(expr: sp.Expr, scale: sp.Expr = sp.Integer(1)) -> sp.Expr:
    """The normal form proofs work in: sigma_m -> e^{scale z_m} / S, logs of quotients split (S stays a symbol)."""
    if expr.has(sp.log):
        # Each log rewritten on its own, once per shape: a loss holds K logs of one shape, and
        # building log(e^{z_r} / S) K times would cost SymPy's assumption queries K times.
        expr = expr.xreplace({g: _log_in_logits(g) if scale == 1 else
                              sp.expand_log(_probs_in_logits(g, scale), force=True) for g in expr.atoms(sp.log)})
    return _probs_in_logits(expr, scale)


def _probs_in_logits(expr: sp.Expr, scale: sp.Expr = sp.Integer(1)) -> sp.Expr:
    probs = {e: _prob_over_S(e.indices[0], scale) for e in expr.atoms(sp.Indexed) if e.base == sigma}
    return expr.xreplace(probs) if probs else expr  # xreplace: a third of replace's cost


@functools.lru_cache(maxsize=4096)
def _prob_over_S(index, scale) -> sp.Expr:
    """e^{scale z_index} / S, built once: a K-term sum meets each sigma_m in every step."""
    return sp.exp(scale * z[index]) / concrete.S


_log_in_logits = index_templates.PerTemplate(lambda g: sp.expand_log(_probs_in_logits(g), force=True))  # force: logits are real


def structured_equal(a: concrete.Structured, b: concrete.Structured, *, normal=in_logits, equal=None) -> bool:
    """Every entry of a equals the same entry of b, proved with O(K) small identities.

    Diagonal: entry by entry. Off-diagonal: both are rank one, u_r v_c and u'_r v'_c, so they agree
    everywhere once they agree on one column c0 and one row r0 and the corner is nonzero:
    u_r v_c = (u_r v_c0)(u_r0 v_c) / (u_r0 v_c0). `equal(x, y, sx, sy)` proves x sx = y sy (the
    scales are the fixed column or row); SymPy's assumptions prove the corner nonzero (e^z != 0,
    S > 0)."""
    equal = equal or (lambda x, y, sx=1, sy=1: is_zero(normal(x * sx) - normal(y * sy)))
    n = len(a.diagonal)
    if n != len(b.diagonal):
        return False
    if not all(equal(x, y) for x, y in zip(a.diagonal, b.diagonal)):
        return False
    if n == 1:
        return True
    r0, c0 = 0, 1
    if normal(a.left[r0] * a.right[c0]).is_zero is not False:
        return False
    column = all(equal(a.left[r], b.left[r], a.right[c0], b.right[c0]) for r in range(n))
    row = all(equal(a.right[c], b.right[c], a.left[r0], b.left[r0]) for c in range(n))
    return column and row


# --- entries ----------------------------------------------------------------------------------

def _gradient_entry(side: sp.Derivative, r: int):
    """Entry r (0-based) of d f / d v for a column v: made alone, not by listing all K."""
    (variable, _o), = side.variable_count
    return sp.Derivative(side.expr, sp.IndexedBase(variable.name)[r + 1], evaluate=False)


_ROW = sp.Symbol("row", integer=True, nonnegative=True)
_COL = sp.Symbol("col", integer=True, nonnegative=True)
_SIZE = sp.Symbol("size", integer=True, positive=True)


@functools.lru_cache(maxsize=16)
def _generic_entry(column: sp.MatrixExpr, n: int) -> sp.Expr:
    """Entry _ROW (0-based) of a column form, SymPy's own at a symbolic row and size: an inner
    product in it stays one Sum shared by every entry, not K terms in each."""
    return _sized_back(matrix_entries_to_indexed(_of_symbolic_size(column, n)[_ROW, 0]), n)


@functools.lru_cache(maxsize=16)
def _generic_matrix_entry(form: sp.MatrixExpr, rows: int) -> sp.Expr:
    """Entry (_ROW, _COL) (0-based) of a K x D form such as (sigma - y) x^T, SymPy's own at a symbolic
    position and number of rows: one lookup for all K D entries (each is then an xreplace)."""
    return _sized_back(matrix_entries_to_indexed(_of_symbolic_size(form, rows)[_ROW, _COL]), rows)


def _of_symbolic_size(form: sp.MatrixExpr, n: int) -> sp.MatrixExpr:
    """The same matrix expression with every dimension n a symbol (MatrixSymbol, OneMatrix, ...), and
    every other dimension above 1 a symbol of its own (the K rows of W in W^T (sigma - y), a column of D)."""
    return form.replace(lambda e: isinstance(e, (sp.MatrixSymbol, sp.OneMatrix, sp.ZeroMatrix)),
                        lambda e: e.func(*(_dimension(a, n) if isinstance(a, sp.Integer) else a for a in e.args)))


def _dimension(size: sp.Integer, n: int):
    if size == n:
        return _SIZE
    return _other_size(int(size)) if size > 1 else size


@functools.lru_cache(maxsize=None)
def _other_size(value: int) -> sp.Symbol:
    return sp.Symbol(f"size_{value}", integer=True, positive=True)


def _sized_back(entry: sp.Expr, n: int) -> sp.Expr:
    """The entry with its dimensions given their values again. A Sum over another dimension (the
    K terms of an entry of W^T (sigma - y) when n = D) is written out term by term: SymPy builds
    the concrete product's entry with its summation machinery, a second or more at K = 512."""
    others = {symbol: sp.Integer(symbol.name[len("size_"):]) for symbol in entry.free_symbols
              if symbol.name.startswith("size_")}
    if others:
        entry = entry.replace(lambda e: isinstance(e, sp.Sum) and bool(e.free_symbols & set(others)),
                              lambda e: _sum_term_by_term(e.xreplace(others)))
    return entry.xreplace({_SIZE: n, **others})


def _sum_term_by_term(total: sp.Sum) -> sp.Expr:
    (dummy, low, high), = total.limits
    return sp.Add(*[total.function.xreplace({dummy: sp.Integer(value)}) for value in range(int(low), int(high) + 1)])


def _row_of(column, index: int):
    """Entry `index` (1-based) of a column: `row` for sigma and elementwise forms, SymPy's own entry
    for a sum of columns (sigma - y), where replacing each symbol by its entry would mix kinds."""
    if isinstance(column, sp.MatAdd):
        return _generic_entry(column, int(column.shape[0])).xreplace({_ROW: index - 1})
    return row(column, index)


def _entries(side, n) -> list:
    """Scalar -> [side]; a column (explicit, MatrixExpr, or a gradient d L / d z) -> its n entries."""
    if isinstance(side, sp.Derivative) and any(getattr(v, "is_Matrix", False) for v in side.variables):
        return [_gradient_entry(side, r) for r in range(n)]
    if isinstance(side, sp.MatrixExpr) and not isinstance(side, (sp.MatrixBase, concrete.StructuredMatrix)) \
            and tuple(side.shape) == (n, 1):
        generic = _generic_entry(side, n)
        return [generic.xreplace({_ROW: r}) for r in range(n)]
    if getattr(side, "is_Matrix", False) or isinstance(side, sp.MatrixBase):
        rows, cols = (int(d) for d in side.shape)
        return [_entry(side, r, c) for r in range(rows) for c in range(cols)]
    if side.atoms(sp.MatrixSymbol):  # log(sigma) and other elementwise forms of a column
        return [row(side, r) for r in range(1, n + 1)]
    return [side]


def _entry(side, r: int, c: int):
    """Entry (r, c), 0-based, as a scalar expression in Indexed symbols (1-based)."""
    if isinstance(side, sp.MatrixBase):
        return side[r, c]
    if isinstance(side, concrete.StructuredMatrix):
        return side._entry(r, c)
    if isinstance(side, sp.Derivative):
        (variable, _o), = side.variable_count
        if side.expr.atoms(sp.MatrixSymbol):
            return sp.Derivative(_row_of(side.expr, r + 1), sp.IndexedBase(variable.name)[c + 1], evaluate=False)
        return sp.Derivative(side.expr, sp.IndexedBase(variable.name)[r + 1], evaluate=False)
    if side.atoms(sp.MatrixSymbol) and not isinstance(side, sp.MatrixExpr):
        return row(side, r + 1)  # log(sigma) and other elementwise forms
    if tuple(side.shape)[1] == 1 and not isinstance(side, concrete.StructuredMatrix):
        return _form_entry(side, r, 0)
    if isinstance(side, sp.MatrixExpr) and side.shape[0] != side.shape[1]:
        return _form_entry(side, r, c)
    return matrix_entries_to_indexed(side[r, c])


def _form_entry(form: sp.MatrixExpr, r: int, c: int) -> sp.Expr:
    """Entry (r, c) of a K x D form or a column: its generic entry instantiated (index_templates),
    which costs a fraction of an xreplace (a K x D form has K D entries, a column K, each proved
    and checked). Where the index map would merge two atoms (X_{1, p1} and X_{1, 2} at c = 1), or
    a position stands other than as a whole index (a Sum's X_{n, p0}, p0 - 1), the plain xreplace."""
    generic, atoms, by_index = _form_entry_template(form, int(form.shape[0]))
    back = {index_templates.placeholder(0): sp.Integer(r + 1), index_templates.placeholder(1): sp.Integer(c + 1)}
    if by_index and len({(atom.base, *(back.get(ix, ix) for ix in atom.indices)) for atom in atoms}) == len(atoms):
        return index_templates.instantiate(generic, back)
    return generic.xreplace(back)


@functools.lru_cache(maxsize=16)
def _form_entry_template(form: sp.MatrixExpr, rows: int) -> tuple:
    """(the generic entry with row + 1 and col + 1 as the placeholders p_0 and p_1, its Indexed
    atoms, whether every index of them is a number or a placeholder)."""
    entry = _generic_entry(form, rows) if tuple(form.shape)[1] == 1 else _generic_matrix_entry(form, rows)
    positions = (index_templates.placeholder(0), index_templates.placeholder(1))
    generic = entry.xreplace({_ROW: positions[0] - 1, _COL: positions[1] - 1})
    atoms = tuple(generic.atoms(sp.Indexed))
    return generic, atoms, all(ix.is_Integer or ix in positions for atom in atoms for ix in atom.indices)


# --- numeric ----------------------------------------------------------------------------------

def _positions(side_shape, n) -> list:
    rows, cols = side_shape
    if n <= ALL_ENTRIES_UP_TO:
        return [(r, c) for r in range(rows) for c in range(cols)]
    rng = random.Random(VERIFY_SEED + n)
    corners = {(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)}
    diagonal = {(d, d) for d in range(min(4, rows, cols))}
    picked = corners | diagonal | {(rng.randrange(rows), rng.randrange(cols)) for _ in range(SAMPLED_ENTRIES)}
    return sorted(picked)


def _shape(step: Step, n: int):
    written_out = _written_out(step.lhs, step.rhs)
    if written_out is not None:
        return written_out
    for side in (step.lhs, step.rhs):
        if _is_square(side, n):
            return (n, n)
    for side in (step.lhs, step.rhs):
        if isinstance(side, sp.MatMul) and tuple(side.shape) == (n, 1):
            return (n, 1)  # M 1: a column, known without making its K entries (a K-term sum each)
        if len(_entries(side, n)) == n and not (side.is_Symbol if hasattr(side, "is_Symbol") else False):
            return (n, 1)
    return (1, 1)


def _side_entry(side, r, c, shape, n):
    if shape == (1, 1):
        return side
    if shape == (n, 1) and isinstance(side, sp.Derivative) and not side.expr.atoms(sp.MatrixSymbol):
        is_gradient = any(getattr(v, "is_Matrix", False) for v in side.variables)
        return _gradient_entry(side, r) if is_gradient else _entries(side, n)[r]
    return _entry(side, r, c)


def _numeric_max_error(step: Step, n: int, derived: dict, values: dict, semantics=None) -> tuple:
    """The largest relative error over the test points; a derivation's semantics adds its own
    arrays and scalars to each point (the upstream gradient g, the temperature T)."""
    shape = _shape(step, n)
    positions = _positions(shape, n)
    on_simplex = TARGETS_SUM_TO_ONE in step.uses
    rng = random.Random(VERIFY_SEED)
    sizes, _uppers = semantic_sizes(semantics, n)  # the layer's other sizes (D, N)
    worst, count = mpmath.mpf(0), 0
    with mpmath.workdps(PRECISION_DIGITS):
        entries = [(_side_entry(step.lhs, r, c, shape, n), _side_entry(step.rhs, r, c, shape, n))
                   for r, c in positions]
        compiled = {e: compile_expr(e) for pair in entries for e in pair if (e, on_simplex, 0) not in values}
        for point, logits in enumerate(logit_sets(n, rng)):
            targets = [mpmath.mpf(rng.uniform(0.05, 1.0)) for _ in range(n)]
            if on_simplex:
                total = mpmath.fsum(targets)
                targets = [t / total for t in targets]
            arrays, scalars = semantic_inputs(semantics, rng, n, sizes, {"z": logits, "y": targets})
            env = Env(K=n, arrays=arrays, scalars={_K: n, **sizes, **scalars}, derived=derived)
            def value(expr):
                key = (expr, on_simplex, point)
                if key not in values:
                    values[key] = compiled[expr](env)
                return values[key]
            for lhs, rhs in entries:
                a, b = value(lhs), value(rhs)
                worst = max(worst, relative_error(a, b))
                count += 1
    return worst, count
