"""The data a derivation is made of: frozen records, so a derivation can be shared and never drifts."""
from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import sympy as sp


class Rule(enum.Enum):
    """Why one step follows from the previous one; the value is the stable id used in JSON."""

    DEFINITION = "definition"
    ABBREVIATE = "abbreviate"  # give a shared subexpression a name (S for the softmax denominator)
    QUOTIENT_RULE = "quotient-rule"
    DIFFERENTIATE = "differentiate"
    CHAIN_RULE = "chain-rule"
    DELTA_SUM = "delta-sum"
    SUBSTITUTE_SOFTMAX = "substitute-softmax"
    SUBSTITUTE_RESULT = "substitute-result"
    LOG_RULES = "log-rules"
    LINEARITY = "linearity"
    FACTOR = "factor"
    EXPAND = "expand"
    ASSUMPTION = "assumption"
    CASE_EQUAL = "case-equal"
    CASE_UNEQUAL = "case-unequal"
    MATRIX_FORM = "matrix-form"
    VECTOR_FORM = "vector-form"
    JACOBIAN = "jacobian"
    PROPERTY = "property"
    UPSTREAM_GRADIENT = "upstream-gradient"
    SUBSTITUTE_LOGITS = "substitute-logits"
    SYMMETRY = "symmetry"
    NULL_VECTOR = "null-vector"
    SEMIDEFINITE = "semidefinite"
    PROBS_SUM_TO_ONE = "probs-sum-to-one"
    SHIFT_INVARIANCE = "shift-invariance"
    STABLE_EVALUATION = "stable-evaluation"
    SIGMOID_LINK = "sigmoid-link"
    BATCH_MEAN = "batch-mean"
    # attention and the online softmax (issue 17)
    SUBSTITUTE_DEFINITION = "substitute-definition"
    SWAP_SUMS = "swap-sums"
    RECOGNISE = "recognise"
    ROWSUM_IDENTITY = "rowsum-identity"
    MASKED_LOGIT = "masked-logit"
    INDUCTION_HYPOTHESIS = "induction-hypothesis"
    RESCALE = "rescale"
    JOIN_SUMS = "join-sums"


@dataclass(frozen=True)
class Evidence:
    """How one displayed equality was checked.

    `symbolic` is True when SymPy proved lhs - rhs == 0, None when it could not decide
    (numeric evidence then carries the claim); False never survives verification.
    """

    symbolic: bool | None
    numeric_max_abs_error: float
    points: int


@dataclass(frozen=True)
class Step:
    """One displayed equality `lhs = rhs`, with the rule that produced `rhs`."""

    lhs: sp.Basic
    rhs: sp.Basic
    rule: Rule
    note: str = ""
    # The equality is claimed only where this holds (e.g. Ne(i, j) for the off-diagonal case).
    condition: sp.Basic = sp.true
    # Ids of the derivation's assumptions this step relies on (e.g. "targets-sum-to-one").
    uses: tuple[str, ...] = ()
    evidence: Evidence | None = None
    # The facts this step's justification names, as ids the message catalogues word ([facts] in
    # derive/render/messages/*.toml): the justification is this data, not a sentence per rule.
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SymbolRole:
    """A canonical symbol and the role it plays (logits, probs, targets, ...)."""

    role: str
    name: str
    description: str


@dataclass(frozen=True)
class Assumption:
    """A stated hypothesis, e.g. Sum_k y_k = 1, with a stable id steps can refer to."""

    id: str
    statement: sp.Basic


@dataclass(frozen=True)
class Semantics:
    """What a derivation's symbols mean to the verifier when that is more than sigma = softmax(z).

    Test points: `arrays(rng, logits, sizes)` adds arrays (g, W, x, b, ...) to each point, given that
    point's logits (so a derivation can keep the extreme logits, e.g. b = z - W x); `scalars(rng,
    arrays)` adds scalar symbols (T, epsilon, ...); `derived` maps array names to fn(env) computed
    from other arrays (sigma = softmax(z / T), z = W x + b), replacing the default entries;
    `sizes(K)` gives the other sizes (D, N) at a point; `index_ranges` says which size each free
    index other than i, j runs over (d over D); `derived_reads` names the free indices a derived
    array reads (masked softmax's mask reads the query position n): derived arrays are computed
    without the others, so a value that does not read them holds for all of their values.

    Proofs: `layers` is ((bases, substitute), ...), innermost first: derivatives with respect to
    entries of `bases` are evaluated, then `substitute(expr, n)` writes those bases in terms of the
    next level (sigma in z, then z in W, x, b); every remaining derivative is evaluated last.
    `refold(expr, n)`, applied after that, may name an inner level again (W x + b back to z): an
    identity proved with z free holds in particular at z = W x + b, and cancel stays small.
    """

    arrays: Callable[[random.Random, list, dict], dict] | None = None
    scalars: Callable[[random.Random, dict], dict] | None = None
    derived: dict[str, Callable[..., object]] = field(default_factory=dict)  # name -> fn(env) (numeric.state.Env)
    sizes: Callable[[int], dict[sp.Symbol, int]] | None = None
    index_ranges: dict[sp.Symbol, sp.Symbol] = field(default_factory=dict)  # index -> the size it runs to
    derived_reads: tuple[sp.Symbol, ...] = ()
    layers: tuple[tuple[tuple[str, ...], Callable[[sp.Expr, int | None], sp.Expr]], ...] | None = None
    refold: Callable[[sp.Expr, int | None], sp.Expr] | None = None
    # Numbers of classes to test at when K is not free (sigmoid-logistic: K = 2 only); None: the default set.
    Ks: tuple[int, ...] | None = None
    # False: do not attempt SymPy proofs (they cost minutes and end undecided); numbers carry every step.
    prove: bool = True


class Result(NamedTuple):
    """One named result of a derivation: `lhs = rhs` (e.g. dL/db_i = sigma_i - y_i)."""

    lhs: sp.Basic
    rhs: sp.Basic


class Results(Mapping):
    """name -> Result(lhs, rhs): a read-only mapping in the order the derivation gives them.

    Hashable and immutable like the Derivation that holds it, so a Derivation stays a value."""

    def __init__(self, items: Iterable[tuple[str, sp.Basic, sp.Basic]] = ()):
        self._items = tuple((name, Result(lhs, rhs)) for name, lhs, rhs in items)
        self._index = dict(self._items)
        if len(self._index) != len(self._items):
            raise ValueError(f"duplicate result names in {[name for name, _ in self._items]}")

    def __getitem__(self, name: str) -> Result:
        return self._index[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"Results({dict(self._index)!r})"


@dataclass(frozen=True)
class Derivation:
    """A named, ordered sequence of verified steps ending in `result`.

    `result_lhs = result` is the main result (a SymPy expression for symbolic K, an explicit
    ImmutableDenseMatrix for a concrete one); `results` maps the name of each further result to
    a Result(lhs, rhs), e.g. `derive("linear-softmax-cross-entropy").results["b"].rhs`; `steps`
    carry their Evidence once verified.
    """

    name: str
    title: str
    K: int | None  # None: symbolic number of classes
    symbols: tuple[SymbolRole, ...]
    assumptions: tuple["Assumption", ...]
    steps: tuple[Step, ...]
    result: sp.Basic
    result_lhs: sp.Basic
    # Symbols shown in steps and their meaning, e.g. (L, -Sum_k y_k log sigma_k): the verifier
    # substitutes them before checking, the documents show the symbol.
    definitions: tuple[tuple[sp.Symbol, sp.Basic], ...] = field(default=())
    # Extra named results (for derivations with several gradients): name -> Result(lhs, rhs). The
    # engine may pass (name, lhs, rhs) triples; they are stored as a Results mapping.
    results: Results = field(default_factory=Results)
    # How the verifier builds test points and proofs; None: sigma = softmax(z), arrays z and y.
    semantics: Semantics | None = None
    # The shape of each quantity, e.g. (("X", "N x D"), ...), for derivations with matrices.
    shapes: tuple[tuple[str, str], ...] = field(default=())
    # Size parameters besides K (e.g. {"D": 3}); None values: symbolic.
    sizes: tuple[tuple[str, int | None], ...] = field(default=())

    def __post_init__(self):
        if not isinstance(self.results, Results):
            object.__setattr__(self, "results", Results(self.results))  # frozen: the one conversion

    @property
    def is_symbolic(self) -> bool:
        return self.K is None

