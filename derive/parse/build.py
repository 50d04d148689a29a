"""Build SymPy objects from the parse tree: every name comes from a fixed table, never from eval.

Why a Transformer of our own: the roles of letters are the domain's (S_i is a softmax output,
not a function S_i; i is an index, not the imaginary unit), and every construction is bounded
(estimated magnitudes before SymPy evaluates a power, no zoo from a division by zero).
"""
from __future__ import annotations

import functools

import sympy as sp
from lark import Token, Transformer
from sympy.matrices.expressions import DiagMatrix

from .. import symbols
from ..errors import ParseError
from . import matrices
from .bounds import checked, combine, power
from .derivatives import DerivativeRules
from .markers import Cond, IndexRef, Name, value
from .sums import SumRules


SIGMA_NAMES = frozenset({r"\sigma", "sigma", "S", "s", "p", "hat-y", "softmax"})
Z_NAMES = frozenset({"z"})
Y_NAMES = frozenset({"y", "t"})
DELTA_NAMES = frozenset({r"\delta", "delta"})
# Backpropagation: upstream gradient g, linear layer W x + b, batches X, P, Y (rows n).
# Each base with the number of indices it takes and its shape as a whole vector or matrix.
_K, _D, _N = symbols.K, symbols.D, symbols.N
ARRAYS = {"sigma": (symbols.sigma, 1, (_K, 1)), "z": (symbols.z, 1, (_K, 1)), "y": (symbols.y, 1, (_K, 1)),
          "g": (symbols.g, 1, (_K, 1)), "b": (symbols.b, 1, (_K, 1)), "x": (symbols.x, 1, (_D, 1)),
          "W": (symbols.W, 2, (_K, _D)), "X": (symbols.X, 2, (_N, _D)), "P": (symbols.P, 2, (_N, _K)),
          "Y": (symbols.Y, 2, (_N, _K))}
# Scalars: sizes, the temperature (\tau is read as T), the smoothing weight, the binary logit u.
SCALARS = {"K": _K, "D": _D, "N": _N, "T": symbols.T, r"\tau": symbols.T, "tau": symbols.T,
           r"\epsilon": symbols.epsilon, r"\varepsilon": symbols.epsilon, "epsilon": symbols.epsilon,
           "eps": symbols.epsilon, "u": symbols.u, "L": symbols.L}
# Attention's matrices (queries N x D, keys K x D, ...): letters a course shares with softmax notation
# (S, P, K), so they take these roles only when the target is attention's (roles "matrix:Q", ...).
MATRICES = {name: (sp.IndexedBase(name), rows, cols) for name, rows, cols in (
    ("Q", _N, _D), ("Kmat", _K, _D), ("V", _K, _D), ("S", _N, _K), ("P", _N, _K), ("O", _N, _D),
    ("dO", _N, _D), ("dP", _N, _K), ("dS", _N, _K), ("dQ", _N, _D), ("dK", _K, _D), ("dV", _K, _D))}
MATRIX_ROLE = "matrix:"
RESERVED = SIGMA_NAMES | Z_NAMES | Y_NAMES | DELTA_NAMES | {"e"} | set(ARRAYS) | set(SCALARS)
CANONICAL_INDEX = {"i": symbols.i, "j": symbols.j, "k": symbols.k, "d": symbols.d, "n": symbols.n}
BASES = {name: base for name, (base, _count, _shape) in ARRAYS.items()}


def index_symbol(letter: str) -> sp.Symbol:
    """The canonical index symbol for a letter (a single ASCII letter from the grammar)."""
    return CANONICAL_INDEX.get(letter) or sp.Symbol(letter, integer=True, positive=True)


@functools.lru_cache(maxsize=1024)
def entry(base: sp.IndexedBase, indices: tuple) -> sp.Indexed:
    """base[indices], made once per process: SymPy does not cache an Indexed (it works out its
    assumptions each time), and a class's answers name the same few entries again and again."""
    return base[indices] if len(indices) > 1 else base[indices[0]]


def vector(name: str) -> sp.MatrixSymbol:
    """The whole array as a matrix symbol (sigma, y, g, b: K x 1; x: D x 1; W: K x D; X, P, Y: N x ...)."""
    rows, cols = ARRAYS[name][2] if name in ARRAYS else (symbols.K, 1)
    return sp.MatrixSymbol(name, rows, cols)


def role(key: str) -> str:
    if key in SIGMA_NAMES:
        return "sigma"
    if key in Z_NAMES:
        return "z"
    if key in Y_NAMES:
        return "y"
    if key in DELTA_NAMES:
        return "delta"
    return key


def _is_plain_scalar(item) -> bool:
    """A scalar expression with no free index: the argument of a logistic sigmoid."""
    if not isinstance(item, sp.Expr) or getattr(item, "is_Matrix", False):
        return False
    return not any(s.is_integer and s != symbols.K for s in item.free_symbols) and not any(
        s.is_integer for ix in item.atoms(sp.Indexed) for s in ix.free_symbols)


def _hadamard(left, right):
    """left \\circ right: the entrywise product of two matrices of one shape."""
    if not (getattr(left, "is_Matrix", False) and getattr(right, "is_Matrix", False)):
        return combine("*", left, right)  # a number times a matrix: the ordinary product
    if left.shape != right.shape:
        raise ParseError(f"shape error: the entrywise product of {left.shape[0]}x{left.shape[1]} and "
                         f"{right.shape[0]}x{right.shape[1]} matrices")
    return sp.HadamardProduct(left, right)


def _same_shapes(terms: list) -> None:
    """Matrices added must have one shape; SymPy cannot tell with a symbolic K, so it is checked here."""
    shapes = [t.shape for t in terms]
    if len(set(shapes)) < 2:
        return
    text = " and ".join(f"{r}x{c}" for r, c in dict.fromkeys(shapes))
    inner = any(isinstance(t, sp.MatMul) and t.shape == (1, 1) for t in terms)
    raise ParseError(f"shape error: terms of shapes {text} are added" + (
        "; s^T s is an inner product (a number), the K x K outer product is s s^T" if inner else ""))


def _matrix_named(matrix: str, indices: list, name: Name):
    """An attention matrix as a whole (dV = P^T dO) or one entry of it (P_{nj})."""
    base, rows, cols = MATRICES[matrix]
    if not indices:
        return sp.MatrixSymbol(matrix, rows, cols)
    if len(indices) != 2:
        raise ParseError(f"{name.key} takes two indices, not {len(indices)}", column=name.column)
    return base[tuple(indices)]


def _broadcast_rowsums(terms: list) -> list:
    """dP - rowsum(dP \\circ P): a row sum (an N x 1 column) subtracted from an N x K matrix is
    taken from every column, as NumPy broadcasts it and as attention's backward pass is written."""
    wide = [t.shape for t in terms if t.shape[1] != 1]
    if not wide or len(set(wide)) != 1:
        return terms
    rows, cols = wide[0]
    return [t * sp.OneMatrix(1, cols) if t.shape == (rows, 1) and t.has(sp.OneMatrix) else t for t in terms]


def _broadcast_inner_products(terms: list) -> list:
    """g - \\sigma^\\top g: an inner product (a 1 x 1 matrix) beside a column vector is taken from every
    entry, as NumPy broadcasts it and as sigma (g - sigma^T g) is written; a plain number is not (sigma + 1
    stays a shape error: nobody writes it for the vector of ones)."""
    columns = {t.shape for t in terms if t.shape[1] == 1 and t.shape[0] != 1}
    if len(columns) != 1 or not any(t.shape == (1, 1) for t in terms):
        return terms
    (rows, _one), = columns
    return [sp.OneMatrix(rows, 1) * t if t.shape == (1, 1) else t for t in terms]


def _has_index_zero(parts: tuple) -> bool:
    """An entry with index 0 outside the matrix that counts from 0 (a walk of every part: asked only when
    some index 0 was read at all)."""
    return any(0 in ix.indices for p in parts if p is not None for ix in p.atoms(sp.Indexed))



def _entry_derivative(factor) -> bool:
    """A scalar factor holding a derivative with respect to an entry (d sigma_i / d z_j)."""
    return not getattr(factor, "is_Matrix", False) and any(
        isinstance(variable, sp.Indexed) for d in factor.atoms(sp.Derivative) for variable in d.variables)

class Build(SumRules, DerivativeRules, Transformer):
    """Parse tree -> SymPy. Method names are the grammar's rule names and aliases."""

    def __init__(self, *, binary: bool = False, roles: dict | None = None):
        super().__init__(visit_tokens=False)  # no method is named after a token: lark then skips a lookup per token
        self.binary = binary
        # The answer's own letters (p -> sigma, o -> z, E -> L), read from its left side or declared.
        self.roles = roles or {}
        self.zero_index_columns: list = []
        self.class_count = None  # a number of classes a sum's upper limit fixes (\sum_{j=1}^{10})
        self.counts_from_zero = False  # a matrix read s_0 .. s_n (its indices moved up by one)
        self.used_ln = False
        self.used_log = False

    # --- structure -------------------------------------------------------------------------
    def start(self, children):
        parts = tuple(value(c) if c is not None else None for c in children if not isinstance(c, Token))
        if self.zero_index_columns and (not self.counts_from_zero or _has_index_zero(parts)):
            raise ParseError("index 0 is not a class number 1, 2, ...", column=self.zero_index_columns[0])
        return parts

    def sum(self, children):
        if len(children) == 1:  # a lone item may be a marker (delta(i, j) takes bare indices)
            return children[0]
        terms, op = [], "+"
        for child in children:
            if isinstance(child, Token):
                op = str(child)
                continue
            item = value(child)
            terms.append(-item if op == "-" else item)
            op = "+"
        if any(isinstance(t, matrices.GeneralMatrix) for t in terms):
            raise ParseError("a matrix with dots is read standing alone or times a number")
        if all(getattr(t, "is_Matrix", False) for t in terms):
            terms = _broadcast_inner_products(_broadcast_rowsums(terms))
        if any(getattr(t, "is_Matrix", False) for t in terms):
            _same_shapes([t for t in terms if getattr(t, "is_Matrix", False)])
            total = terms[0]
            for term in terms[1:]:
                total = combine("+", total, term)
            return total
        return checked(sp.Add(*terms))

    def item(self, children):
        sign = "-" if len(children) > 2 and children[2] is not None and str(children[2]) == "-" else ""
        return (children[0], str(children[1]) + sign)  # "\cdot-": the next factor is negated

    def term(self, children):
        if len(children) == 1 and not isinstance(children[0], tuple):
            return children[0]
        factors, op = [], "*"
        for child in children:
            item, next_op = child if isinstance(child, tuple) else (child, "*")
            item = value(item)
            if op.endswith("-") and len(op) > 1:
                item, op = combine("*", sp.Integer(-1), item), op[:-1]
            if op in (r"\circ", r"\odot"):
                factors[-1] = _hadamard(factors[-1], item)
                op = next_op
                continue
            if op == "/":
                if getattr(item, "is_Matrix", False):
                    raise ParseError("division by a vector or matrix")
                if item == 0:
                    raise ParseError("division by zero")
                item = power(item, sp.Integer(-1))
            factors.append(item)
            op = next_op
        if any(isinstance(f, matrices.GeneralMatrix) for f in factors):
            return matrices.scaled(factors)
        if any(getattr(f, "is_Matrix", False) for f in factors):
            if any(_entry_derivative(f) for f in factors):
                # SymPy would take d sigma_i / d z_j times a vector as 0 (sigma and z are different bases).
                raise ParseError("a derivative of one entry cannot multiply a vector or matrix: write the product entry by entry")
            product = factors[0]
            for factor in factors[1:]:
                product = combine("*", product, factor)
            return product
        # One Mul of all factors, as SymPy builds it: 2 (a + b) c stays a product, not 2a c + 2b c.
        return checked(sp.Mul(*factors))

    def group(self, children):
        return children[0]

    def tuple(self, children):
        cells = [c if isinstance(c, Token) and c.type == "DOTS" else value(c) for c in children
                 if not (isinstance(c, Token) and c.type != "DOTS")]
        return matrices.vector(cells)

    def number(self, children):
        text = str(children[0])
        if "." in text:
            whole, frac = text.split(".")
            return sp.Rational(int(whole + frac), 10 ** len(frac))
        return sp.Integer(int(text))

    # --- names -----------------------------------------------------------------------------
    def symbol(self, children):
        tokens = [c for c in children if isinstance(c, Token)]
        if isinstance(children[-1], Name):  # \mathbf{...}
            return children[-1]
        if tokens[0].type == "HAT":
            return Name(f"hat-{tokens[1]}", tokens[0].column)
        return Name(str(tokens[-1]), tokens[0].column)

    def sub(self, children):
        return [c for c in children if isinstance(c, Token)]

    def sym(self, children):
        name = children[0]
        sub = children[1] if len(children) > 1 else None
        return self._named(name, sub)

    def role(self, key: str) -> str:
        """The role the answer gives a letter (declared or read from its left side), else the default."""
        if key in self.roles:
            return self.roles[key]
        if key.startswith("hat-"):
            return "sigma"  # a hat marks the prediction in every course we read (y-hat, p-hat, Y-hat)
        return role(key)

    def _named(self, name: Name, sub):
        kind = self.role(name.key)
        # s_K: the last class, as a general-K matrix or a written-out sum ends (K is a size, never summed)
        indices = [symbols.K if t == "K" else self._index(t) for t in (sub or []) if t.type in ("NAME", "NUMBER")]
        if sub and any(t.type in ("EQ", "NEQ") for t in sub):
            raise ParseError(f"a condition in the subscript of {name.key} is not understood", column=name.column)
        if kind in BASES:
            if not indices and self.binary and kind in ("y", "sigma"):
                return BASES[kind][1]  # K = 2: the class-1 entry (sigma(u) - y)
            if not indices:
                return vector(kind)
            count = ARRAYS[kind][1]
            if len(indices) != count:
                raise ParseError(f"{name.key} takes {'one index' if count == 1 else 'two indices'}, "
                                 f"not {len(indices)}", column=name.column)
            return entry(BASES[kind], tuple(indices))
        if kind.startswith(MATRIX_ROLE):
            return _matrix_named(kind[len(MATRIX_ROLE):], indices, name)
        if kind == "delta":
            if len(indices) != 2:
                raise ParseError("the Kronecker delta needs two indices, as in \\delta_{ij}", column=name.column)
            return sp.KroneckerDelta(*indices)
        if sub:
            raise ParseError(f"unknown symbol {name.key}_{{...}}", column=name.column)
        if kind == "e":
            return sp.E
        if kind == "I":  # the K x K identity, as in p 1^T - I
            return sp.Identity(symbols.K)
        if kind in SCALARS:
            return SCALARS[kind]
        if len(kind) == 1 and kind.islower():
            return IndexRef(index_symbol(kind))
        raise ParseError(f"unknown symbol {name.key}", column=name.column)

    def _index(self, token: Token):
        if token.type == "NUMBER":
            if "." in token or int(token) < 0:
                raise ParseError(f"index {token} is not a class number 1, 2, ...", column=token.column)
            if int(token) == 0:  # read only inside a matrix that counts from 0 (s_0 .. s_n); see start
                self.zero_index_columns.append(token.column)
            return sp.Integer(int(token))
        if token in RESERVED or not str(token).islower():
            raise ParseError(f"{token} cannot be an index", column=token.column)
        return index_symbol(str(token))

    def call(self, children):
        name, args = children[0], children[1]
        sub = children[2] if len(children) > 2 else None
        kind = self.role(name.key)
        if kind == "sigma" and len(args) == 1 and not sub and isinstance(args[0], sp.Indexed) \
                and args[0].base == symbols.z:
            return symbols.sigma[args[0].indices[0]]  # \sigma(A_k): the softmax entry of logit k
        if kind == "delta" and len(args) == 2 and all(isinstance(a, IndexRef) for a in args) and not sub:
            return sp.KroneckerDelta(args[0].symbol, args[1].symbol)
        if kind == "sigma" and len(args) == 1 and args[0] == vector("z"):
            return self._named(Name("sigma", name.column), sub)
        if name.key in (r"\sigma", "sigma") and len(args) == 1 and not sub and _is_plain_scalar(args[0]):
            # sigma(u), sigma(z_1 - z_2): the logistic sigmoid (it has no free index, so it is no
            # softmax entry); sigma(z_i) stays refused below.
            return checked(1 / (1 + sp.exp(-args[0])))
        if name.key in ("softmax", r"\sigma", "sigma", "delta", r"\delta"):
            raise ParseError(f"{name.key}(...) is not understood; write {name.key}(z)_i or an indexed symbol",
                             column=name.column)
        if kind == "z" and len(args) == 1 and not sub and isinstance(args[0], IndexRef):
            return symbols.z[args[0].symbol]  # o(i), theta(k): a logit written as a function of its index
        if len(args) != 1 or sub:
            raise ParseError(f"{name.key} is not a function", column=name.column)
        return combine("*", value(self._named(name, None)), value(args[0]))

    def arglist(self, children):
        return list(children)

    # --- operators -------------------------------------------------------------------------
    def power(self, children):
        base, sup = children[0], children[2]
        if isinstance(sup, Token) and sup.type == "TOP":
            base = value(base)
            if base == 1:  # 1^T: the row of K ones (p 1^T - I)
                return sp.OneMatrix(1, symbols.K)
            if not getattr(base, "is_Matrix", False):
                raise ParseError("^T (transpose) needs a vector or matrix", column=sup.column)
            return sp.Transpose(base)
        base, sup = value(base), value(sup)
        if base == sp.E:
            return checked(self._exp(sup))
        if getattr(base, "is_Matrix", False) or getattr(sup, "is_Matrix", False):
            raise ParseError("powers of vectors are not understood (write \\sigma\\sigma^\\top for an outer product)")
        return power(base, sup)

    def sup(self, children):
        return children[-1]

    def _exp(self, argument):
        if argument.is_Number and argument > 690:
            raise ParseError("e^x with x above 690 is too large")
        return sp.exp(argument)

    def func(self, children):
        token, argument = children[0], value(children[1])
        name = str(token).strip("\\").split("{")[-1].strip(" }")
        if name == "rowsum":
            if not getattr(argument, "is_Matrix", False):
                raise ParseError("rowsum(...) takes a matrix such as dP \\circ P", column=token.column)
            return sp.MatMul(argument, sp.OneMatrix(argument.shape[1], 1))
        if name == "diag":
            column = getattr(argument, "is_Matrix", False) and argument.shape[1] == 1
            if not (isinstance(argument, sp.MatrixSymbol) or argument.has(sp.OneMatrix)) or not column:
                raise ParseError("diag(...) takes a vector such as \\sigma", column=token.column)
            return DiagMatrix(argument)
        if getattr(argument, "is_Matrix", False):
            raise ParseError(f"\\{name} of a vector is not understood; write it entry by entry", column=token.column)
        if name == "exp":
            return checked(self._exp(argument))
        if argument == 0:
            raise ParseError("log 0 is undefined", column=token.column)
        self.used_ln |= name == "ln"
        self.used_log |= name == "log"
        return checked(sp.log(argument))

    def func_pow(self, children):
        token, _pow, exponent, argument = children
        return power(self.func([token, argument]), value(exponent))

    def frac(self, children):
        return combine("/", value(children[1]), value(children[2]))

    def over(self, children):
        return combine("/", value(children[0]), value(children[2]))  # {a \over b}, plain TeX's fraction

    # --- explicit matrices --------------------------------------------------------------------
    def mrow(self, children):
        return [c if isinstance(c, Token) and c.type == "DOTS" else value(c) for c in children
                if not (isinstance(c, Token) and c.type == "AMP")]

    def matrix(self, children):
        rows = [c for c in children if isinstance(c, list)]
        self.counts_from_zero |= any(0 in ix.indices for row in rows for e in row if isinstance(e, sp.Basic)
                                     for ix in e.atoms(sp.Indexed))
        return matrices.matrix(rows)

    # --- cases and indicators -----------------------------------------------------------------
    def cond(self, children):
        left, op, right = children
        return Cond(self._index(left), op.type == "EQ", self._index(right))

    def ones(self, _children):
        """The bold 1: the column of K ones (1 sigma^T is K x K, 1^T y the sum of y)."""
        return sp.OneMatrix(symbols.K, 1)

    def indicator(self, children):
        cond = [c for c in children if isinstance(c, Cond)][0]
        delta = sp.KroneckerDelta(cond.left, cond.right)
        return delta if cond.equal else 1 - delta

    def case_cond(self, children):
        cond = children[-1]
        return cond if isinstance(cond, Cond) else None

    def case_row(self, children):
        return (value(children[0]), children[-1])

    def cases(self, children):
        rows = [c for c in children if isinstance(c, tuple)]
        pieces = []
        for expr, cond in rows:
            if cond is None:
                pieces.append((expr, sp.true))
            else:
                relation = sp.Eq if cond.equal else sp.Ne
                pieces.append((expr, relation(cond.left, cond.right)))
        # "i = j" then "i != j": the last branch is the complement, so it becomes "otherwise".
        if len(pieces) == 2 and pieces[1][1] == sp.Not(pieces[0][1]):
            pieces[1] = (pieces[1][0], sp.true)
        try:
            return sp.Piecewise(*pieces)
        except (TypeError, ValueError) as error:
            raise ParseError("the cases are not understood") from error
