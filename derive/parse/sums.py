"""The builder's sum rules: \\sum_k, \\sum_{k=1}^{K}, \\sum_{k \\neq i}, sums from 0 and to a number of classes.

Why a module of its own: where a sum starts and ends is read as the course means it (any letter for the
number of classes, 0 to K-1, a fixed number of classes that the reading notes), and nesting is bounded
here. A mixin of build.Build, which supplies `_index`, `role` and `class_count`.
"""
from __future__ import annotations

import functools

import sympy as sp

from .. import symbols
from ..algebra.indices import free_indices, rename_sum_indices
from ..errors import ParseError
from .bounds import checked
from .markers import value
from ..algebra.nodes import atoms_of

MAX_NESTED_SUMS = 3  # evaluation costs K^depth per point
MAX_SUMS = 12
# A sum over d runs to D and one over n to N; every other letter runs over the classes, to K.
SUM_UPPER = {symbols.d: symbols.D, symbols.n: symbols.N}
# Letters courses use for the number of classes as a sum's upper limit (K, C, V, n, q): all read as K.
CLASS_COUNT_LETTERS = frozenset("KCVnq")
# Letters a sum's own index is renamed to when the author reused a free letter for it (never n or d,
# which run to N and D).
FRESH_SUM_LETTERS = "kmlrqabcfhuv"


def rebind_reused_sum_indices(expr: sp.Basic) -> tuple:
    """(expr, letters): a sum whose index is also a free index elsewhere (e^{z_j} / \\sum_j e^{z_j}) read
    with normal scoping, as real notes mean it: the sum's j is its own bound variable, renamed to a
    fresh letter so that no later renaming of the free j can reach it; `letters` are the reused ones."""
    sums = atoms_of(expr, sp.Sum) if isinstance(expr, sp.Basic) else ()  # the check asks more of this walk
    if not sums:
        return expr, ()
    free = free_indices(expr)
    reused = sorted({limit[0] for s in sums for limit in s.limits} & free, key=str)
    if not reused:
        return expr, ()
    taken = {symbol.name for symbol in expr.atoms(sp.Symbol)}
    fresh = iter(sp.Symbol(letter, integer=True, positive=True) for letter in FRESH_SUM_LETTERS if letter not in taken)
    def away(summation: sp.Sum) -> dict:
        mapping = {}
        for limit in summation.limits:
            if limit[0] in free:
                replacement = next(fresh, None)
                if replacement is None:
                    raise ParseError(f"the summation index {limit[0]} is also used outside its sum, and no "
                                     "letter is left to tell them apart")
                mapping[limit[0]] = replacement
        return mapping
    return rename_sum_indices(expr, away), tuple(str(letter) for letter in reused)


@functools.lru_cache(maxsize=1024)
def summation(body: sp.Basic, dummy: sp.Symbol, upper: sp.Basic) -> sp.Sum:
    """Sum_{dummy=1}^{upper} body, made once per process: SymPy does not cache a Sum (it checks its
    limits each time), and a class's answers write the same sums (\\sum_k e^{z_k}) again and again."""
    return sp.Sum(body, (dummy, 1, upper))


class SumRules:
    """Transformer methods for the grammar's sum rules (bigsum, sumlimits, sumdummy, sumexclude, sumupper)."""

    def bigsum(self, children):
        limits, body = children[1], value(children[-1])
        if len(children) == 4 and str(children[2]) == "-":
            body = -body
        if limits.get("dummy") is None:
            raise ParseError("say which index is summed, as in \\sum_k", column=children[0].column)
        if getattr(body, "is_Matrix", False):
            raise ParseError("a sum of vectors is not understood; sum entries such as y_k")
        dummy = limits["dummy"]
        inner = body.atoms(sp.Sum)
        if any(limit[0] == dummy for s in inner for limit in s.limits):
            raise ParseError(f"two nested sums both use the index {dummy}")
        if 1 + max((len(s.limits) for s in inner), default=0) > MAX_NESTED_SUMS or len(inner) > MAX_SUMS:
            raise ParseError(f"too many sums (at most {MAX_NESTED_SUMS} nested)", column=children[0].column)
        upper = self._upper(limits, dummy, children[0].column)
        total = summation(body, dummy, upper)
        if limits.get("exclude") is not None:
            total = total - body.xreplace({dummy: limits["exclude"]})
        return checked(total)

    def _upper(self, limits: dict, dummy, column) -> sp.Basic:
        """Where a sum ends, read as the course means it: all K classes from 1 to K, from 0 to K - 1,
        or to a number of classes the course fixes (10 for MNIST), which the reading notes."""
        from_zero, offset, number = limits.get("from_zero"), limits.get("offset"), limits.get("number")
        if offset is not None and not from_zero or from_zero and offset is None and number is None:
            raise ParseError("sums run from 1 to K or from 0 to K-1", column=column)
        if number is not None:
            count = number + 1 if from_zero else number
            if count < 2 or self.class_count not in (None, count):
                raise ParseError(f"a sum to {number} does not give the number of classes", column=column)
            self.class_count = count
            return symbols.K
        return limits.get("upper") or SUM_UPPER.get(dummy, symbols.K)

    def sumlimits(self, children):
        out = {"dummy": None}
        for child in children:
            out.update(child)
        return out

    def sumdummy(self, children):
        letter = children[0]
        dummy = self._index(letter)
        if len(children) > 1 and str(children[2]) not in ("0", "1"):
            raise ParseError("sums run from 1 to K", column=children[2].column)
        return {"dummy": dummy, "from_zero": len(children) > 1 and str(children[2]) == "0"}

    def sumexclude(self, children):
        r"""\sum_{k \neq i}: the sum over every k but i, read as the whole sum minus its term at i."""
        dummy, excluded = self._index(children[0]), self._index(children[2])
        if dummy == excluded:
            raise ParseError(f"the sum over {dummy} excludes {dummy} itself", column=children[0].column)
        return {"dummy": dummy, "exclude": excluded}

    def sumupper_offset(self, children):
        r"""\sum_{k=0}^{K-1}: the last class of a course that counts from 0."""
        letter, sign, number = (str(c) for c in children)
        if (sign, number) != ("-", "1"):
            raise ParseError("sums run from 1 to K or from 0 to K-1", column=children[0].column)
        return {**self.sumupper(children[:1]), "offset": -1}

    def sumupper(self, children):
        if not children or children[0] is None:
            return {}  # \sum_{k}^{ }: the upper limit left empty means all classes
        if children[0].type == "NUMBER":
            if "." in children[0]:
                raise ParseError("a sum ends at a whole number", column=children[0].column)
            return {"number": int(children[0])}
        letter = str(children[0])
        upper = {"D": symbols.D, "N": symbols.N}.get(letter)
        if upper is None and (self.role(letter) not in ("K", letter) or letter not in CLASS_COUNT_LETTERS):
            raise ParseError("sums run from 1 to K (or to D over d, to N over n)", column=children[0].column)
        # The number of classes is whatever letter the course uses for it (K, C, n, N, V, q).
        return {"upper": upper or symbols.K}
