"""A layer's meaning is unchanged by renaming its examples, classes or features: one proof per entry shape.

The claim. Write every integer index by its kind (the example n of X_nd, Y_nk, P_nk, Z_nk, S_n;
the class k of W_kd, b_k, Y_nk, P_nk, Z_nk; the feature d of X_nd, W_kd; for one example, the
class k of z_k, sigma_k, y_k and the feature d of x_d). Let Pi rename the values of each kind by a
permutation of that kind's values, all atoms at once. If Pi maps the meaning to itself (the set
of pairs (defined symbol, one term of its definition) for L, S or the S_n and the layer's logits,
and the rule P_nk = e^{Z_nk} / S_n or sigma_k = e^{z_k} / S, whose kinds match), then every
expression in the leaves, the defined symbols and their derivatives means, renamed by Pi, what it
meant with its leaves renamed: L(Pi v) = L(v), so (dL/dv_a)(Pi v) = (dL/dv_{Pi a})(v). An identity
dL/dv_a = R proved for all values of the leaves therefore gives dL/dv_{Pi a} = Pi R. The targets'
sums (the assumption a step may use) are permuted among themselves, so the domain is the same.

What is checked, not assumed:
* the meaning is Pi-invariant for every Pi: for each shape of pair and each pattern of equal
  indices within a kind, the number of pairs equals the number of ways to fill that pattern with
  distinct values of each kind (`_full_orbits`), so every renaming of a pair is again a pair;
* two entries share a key only when one is the other with each kind's values mapped one to one
  (the same tree, the same pattern of equal indices within each kind), every atom is an atom of
  the meaning (so the map extends to a permutation of each kind's values: an example 5 at N = 4 is
  no renaming of the batch), every symbol is one of the meaning's (which a renaming fixes:
  a symbol from elsewhere, sigma_1 say, would not be renamed with the entry), and the tree holds
  no index outside an Indexed (no Sum, delta or condition whose integers would not be renamed).
A key a proof has settled therefore settles every entry with that key.
"""
from __future__ import annotations

import collections
import math

import sympy as sp

# The kind of each index position, by the name of its base. The rule P_nk = e^{Z_nk} / S_n
# (RowsProver._shape_over_S) is equivariant exactly because P, Z and S_n share these kinds.
AXES = {"X": ("example", "feature"), "W": ("class", "feature"), "b": ("class",), "Y": ("example", "class"),
        "P": ("example", "class"), "Z": ("example", "class"), "S": ("example",),
        # one example (linear-softmax-cross-entropy): sigma_k = e^{z_k} / S, S one symbol
        "x": ("feature",), "z": ("class",), "y": ("class",), "sigma": ("class",)}
# Nodes an entry may hold for its key: integers elsewhere in these are constants, not indices.
_PLAIN = (sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log, sp.Derivative, sp.Tuple, sp.Symbol, sp.Number,
          sp.IndexedBase, sp.Indexed)


_INDEXED = sp.Symbol("indexed")  # an Indexed set aside, to see what stands outside them


class _Outside(Exception):
    """The tree holds something a renaming of the batch does not cover."""


class BatchSymmetry:
    """Keys for entries (lhs, rhs) under which one proof holds for all; None where it does not apply."""

    def __init__(self, atoms: frozenset, values: dict):
        self._atoms = atoms
        self._values = values  # kind -> the index values the meaning gives it

    @classmethod
    def of(cls, meaning: list) -> "BatchSymmetry | None":
        """meaning: the pairs (defined symbol or Indexed, one term of its definition). None unless
        every renaming of every kind maps the set of pairs to itself."""
        pairs, atoms = set(meaning), set()
        try:
            cut = [_cut(pair, None, atoms) for pair in pairs]
        except _Outside:
            return None
        values = _values(cut)
        if not _full_orbits(cut, values):
            return None
        return cls(frozenset(atoms), values)

    def key(self, *exprs):
        """Equal for two tuples of entries exactly when one is the other renamed kind by kind;
        None when the entries hold an atom or a node the renaming does not cover."""
        try:
            shape, slots = _cut(exprs, self._atoms)
        except _Outside:
            return None
        return shape, _pattern(slots)

    def renames(self, template, sizes: dict) -> bool:
        """Every instance of `template` (each placeholder p a whole index, p = 1..sizes[p]) is its
        instance at every p = 1 renamed kind by kind (p = 1 <-> p = v in p's kind): each
        placeholder stands at positions of one kind, its own, and nowhere else (not in a power or
        a coefficient); no index of that kind is written as a number; the kind has the values
        1..sizes[p]. The instance at 1 must still have a key."""
        kinds: dict = {}  # placeholder -> its kind
        written = set()  # the kinds of the indices written as numbers
        atoms = template.atoms(sp.Indexed)
        if template.xreplace({atom: _INDEXED for atom in atoms}).has(*sizes):
            return False
        for atom in atoms:
            axes = AXES.get(atom.base.name)
            if axes is None or len(axes) != len(atom.indices):
                return False
            for kind, ix in zip(axes, atom.indices):
                if ix in sizes:
                    if kinds.setdefault(ix, kind) != kind:
                        return False
                elif ix.is_Integer:
                    written.add(kind)
                else:
                    return False
        return set(kinds) == set(sizes) and len(set(kinds.values())) == len(kinds) and not written & set(kinds.values()) \
            and all(set(range(1, sizes[p] + 1)) <= self._values[kind] for p, kind in kinds.items())


def _cut(node, atoms, found: set | None = None) -> tuple:
    """(the tree with every index cut out, [(kind, value)] in walk order); the Indexed and symbols met go to `found`."""
    slots: list = []
    return _walk(node, slots, atoms, found), slots


def _walk(node, slots: list, atoms, found):
    if isinstance(node, tuple):  # the pairs and tuples of entries themselves
        return tuple(_walk(part, slots, atoms, found) for part in node)
    if isinstance(node, sp.Indexed):
        kinds = AXES.get(node.base.name)
        if kinds is None or len(kinds) != len(node.indices) or not all(ix.is_Integer for ix in node.indices) \
                or (atoms is not None and node not in atoms):
            raise _Outside(node)
        slots.extend(zip(kinds, (int(ix) for ix in node.indices)))
        if found is not None:
            found.add(node)
        return node.base
    if not isinstance(node, _PLAIN):
        raise _Outside(node)
    if isinstance(node, sp.Symbol):
        # A renaming fixes a symbol, which is right only for one the meaning holds (L, S, a constant):
        # a symbol from elsewhere (an abbreviation of an entry, sigma_1) could stand for anything.
        if found is not None:
            found.add(node)
        elif atoms is not None and node not in atoms:
            raise _Outside(node)
    if not node.args:
        return node
    return (node.func, *(_walk(arg, slots, atoms, found) for arg in node.args))


def _pattern(slots: list) -> tuple:
    """Each slot as (kind, the number of the first value of its kind equal to it): values are
    forgotten, only which indices of one kind are equal stays."""
    numbered: dict = {}
    return tuple((kind, numbered.setdefault((kind, value), len(numbered))) for kind, value in slots)


def _values(cut: list) -> dict:
    values = collections.defaultdict(set)
    for _shape, slots in cut:
        for kind, value in slots:
            values[kind].add(value)
    return values


def _full_orbits(cut: list, values: dict) -> bool:
    """Every renaming of each pair is a pair: for each (shape, pattern) the pairs number
    prod over kinds of m! / (m - j)!, m the kind's values and j the distinct ones the pattern has."""
    counts = collections.Counter((shape, _pattern(slots)) for shape, slots in cut)
    for (_shape, pattern), count in counts.items():
        distinct = collections.Counter(kind for kind, _number in set(pattern))
        if count != math.prod(math.perm(len(values[kind]), j) for kind, j in distinct.items()):
            return False
    return True
