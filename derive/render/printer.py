"""SymPy -> LaTeX in the user's notation: a LatexPrinter subclass, notation as printer settings."""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.simplify.radsimp import fraction

from .notation import NAME_TO_ROLE, Notation

# A matrix with more rows or columns than this prints as its corners with \cdots, \vdots, \ddots.
MAX_MATRIX_SIDE = 6
# Canonical names that print as another letter: the key matrix of attention is K, but the
# Symbol K is already the number of keys, so its SymPy name is Kmat.
FIXED_NAMES = {"Kmat": "K"}
# A sum with more terms than this prints its first and last terms around \cdots.
MAX_ADD_TERMS = 8


def _index_key(term: sp.Basic) -> tuple[int, ...]:
    """The integer indices of a term's indexed symbols, for sorting 1, 2, ..., 10 numerically."""
    return tuple(sorted(int(ix) for atom in term.atoms(sp.Indexed) for ix in atom.indices if ix.is_Integer))


# Data a gradient is multiplied by is written after the error: (sigma_i - y_i) x_d, (P - Y)^T X.
_TRAILING_DATA = ("x", "X")
# The queries come before the keys, as in Q K^T: Q_nr K_jr.
_LEADING_DATA = ("Q",)


def _factor_rank(factor: sp.Basic) -> int:
    """Textbook order inside a product: numbers and scalar brackets, upstream gradients (dO), plain symbols, deltas, e^x, sums, derivatives,
    brackets, log, then the input data (x_d, X_nd)."""
    base = factor.base if isinstance(factor, sp.Pow) else factor
    if factor.is_Number or (isinstance(factor, sp.Add) and not factor.atoms(sp.Indexed)):
        return 0  # numbers and scalar coefficients first: (1 - epsilon) y_i
    if isinstance(base, sp.Indexed) and base.base.name in _TRAILING_DATA:
        return 8
    if isinstance(base, sp.Indexed) and re.fullmatch(r"d[A-Z]", base.base.name):
        return 0.5  # an upstream gradient leads, as in dO V^T: dO_nr O_nr, dP_nk P_nk
    if isinstance(base, sp.Indexed) and base.base.name in _LEADING_DATA:
        return 0.8
    if isinstance(base, (sp.Indexed, sp.Symbol, sp.MatrixSymbol)):
        return 1
    if isinstance(base, sp.KroneckerDelta):
        return 2
    if isinstance(base, sp.exp):
        return 3
    if isinstance(base, sp.log):
        return 7.5  # after brackets too: (y_1 + y_2 + y_3) log S
    if isinstance(base, sp.Sum):
        return 5
    if isinstance(base, sp.Derivative):
        return 6
    return 7


def _merged_sums(expr: sp.Basic) -> sp.Sum | None:
    """Sum_n P X - Sum_n Y X as one Sum_n (P - Y) X, as textbooks write it; None unless every term is
    a (signed, numbered) sum over the same limits. Display only: the value is the same."""
    if not isinstance(expr, sp.Add):
        return None
    parts = [term.as_coeff_Mul() for term in expr.args]
    if not all(isinstance(rest, sp.Sum) for _, rest in parts) or len({rest.limits for _, rest in parts}) != 1:
        return None
    summand = sp.factor_terms(sp.Add(*(coefficient * rest.function for coefficient, rest in parts)))
    return sp.Sum(summand, *parts[0][1].limits)


def _transposed_once(expr: sp.Basic) -> sp.Transpose | None:
    """P^T - Y^T as Transpose(P - Y) (display only); None unless every term is a (negated) transpose."""
    if not isinstance(expr, sp.MatAdd):
        return None
    untransposed = []
    for term in expr.args:
        negated = isinstance(term, sp.MatMul) and len(term.args) == 2 and term.args[0] == -1
        inner = term.args[1] if negated else term
        if not isinstance(inner, sp.Transpose):
            return None
        untransposed.append(-inner.arg if negated else inner.arg)
    return sp.Transpose(sp.MatAdd(*untransposed))


def _common_fraction(expr: sp.Add) -> tuple[sp.Rational, sp.Add] | None:
    """(1/n, the sum times n) when every term carries exactly the factor 1/n (and no surd, which reads better as is)."""
    if isinstance(expr, sp.MatAdd) or any(power.is_number for power in expr.atoms(sp.Pow)):
        return None
    content, primitive = expr.as_content_primitive()
    if content == 1 or not (content.is_Rational and content.p == 1) or not isinstance(primitive, sp.Add):
        return None
    if any(term.as_content_primitive()[0] != content for term in expr.args):
        return None
    return content, primitive


def _pull_sign_out_of_sum(term: sp.Basic) -> sp.Basic:
    """Sum(-f) -> -Sum(f), so a sum of negative terms is subtracted: `- \\sum y_k W_kd`, not `+ \\sum -y_k W_kd`."""
    if isinstance(term, sp.Sum) and term.function.could_extract_minus_sign():
        return sp.Mul(-1, sp.Sum(-term.function, *term.limits), evaluate=False)
    return term


class PrintsEachSubexpressionOnce:
    """A printer mixin: each subexpression's text made once per printer and reused. A concrete result
    repeats one shared subexpression (the 512-term g^T sigma in every entry of softmax-vjp), which
    SymPy's printers would re-sort each time. The key is the expression (SymPy's structural equality
    keeps 2 and 2.0, or x and a positive x, apart) plus `_print_context()`, whatever else the text
    depends on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._printed_once: dict[tuple, str] = {}

    def _print_context(self) -> object:
        return None

    def _print(self, expr, **kwargs) -> str:
        if kwargs or not isinstance(expr, sp.Basic):
            return super()._print(expr, **kwargs)
        key = (expr, self._print_context())
        printed = self._printed_once.get(key)
        if printed is None:
            printed = self._printed_once[key] = super()._print(expr)
        return printed


class NotationPrinter(PrintsEachSubexpressionOnce, LatexPrinter):
    """Prints our trees the way a textbook writes them: sigma_i, partial fractions, delta_ij."""

    _default_settings = {**LatexPrinter._default_settings, "notation": None,
                         "max_matrix_side": MAX_MATRIX_SIDE, "max_add_terms": MAX_ADD_TERMS}

    def __init__(self, settings=None):
        super().__init__(settings)
        self.notation: Notation = self._settings["notation"] or Notation()
        # Inside an explicit matrix fractions and derivatives print display-size (\dfrac): script-size entries are unreadable.
        self._frac = r"\frac"

    def _print_context(self) -> str:
        return self._frac  # the same expression prints \frac outside a matrix, \dfrac inside

    # -- names -------------------------------------------------------------------------------
    def _name(self, name: str) -> str:
        if name in FIXED_NAMES:
            return FIXED_NAMES[name]
        role = NAME_TO_ROLE.get(name)
        if role is not None and role in self.notation.symbols:
            return self.notation.symbol(role)
        return LatexPrinter._print_Symbol(self, sp.Symbol(name))

    def _vector(self, name: str) -> str:
        base = self._name(name)
        style = self.notation.vector_style
        if style == "bold":
            return rf"\boldsymbol{{{base}}}"
        if style == "arrow":
            return rf"\vec{{{base}}}"
        return base

    def _print_Symbol(self, expr, style="plain"):
        if expr.name in NAME_TO_ROLE:
            return self._name(expr.name)
        return super()._print_Symbol(expr, style=style)

    def _print_IndexedBase(self, expr):
        return self._name(expr.name)

    def _print_Indexed(self, expr):
        base = self._name(expr.base.name)
        indices = "".join(self._print(ix) for ix in expr.indices)
        # Wrap compound bases (\hat{y}) so the subscript attaches to the whole symbol.
        return f"{{{base}}}_{{{indices}}}" if "{" in base or " " in base else f"{base}_{{{indices}}}"

    def _print_MatrixSymbol(self, expr):
        return self._vector(expr.name)

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = (self._print(x) for x in expr.args[:2])
        if self.notation.delta == "indicator":
            tex = rf"\mathbb{{1}}[{a} = {b}]"
        else:
            tex = rf"\delta_{{{a}{b}}}"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_Derivative(self, expr):
        counts = expr.variable_count
        if len(counts) > 1:  # mixed partials: d^2 L / (d z_i d z_j), denominator in differentiation order
            top = self._print(expr.expr)
            total = sum(order for _v, order in counts)
            parts = " ".join(rf"\partial {self._print(v)}" + (f"^{{{order}}}" if order > 1 else "")
                             for v, order in reversed(counts))
            return rf"{self._frac}{{\partial^{{{total}}} {top}}}{{{parts}}}"
        (variable, order), = counts
        var = self._print(variable)
        body = expr.expr
        if getattr(variable, "is_Matrix", False) or isinstance(body, (sp.Indexed, sp.Symbol, sp.MatrixSymbol)) \
                or (isinstance(body, sp.log) and isinstance(body.args[0], (sp.Indexed, sp.MatrixSymbol))):
            top = self._print(body)
            if isinstance(body, (sp.Add, sp.MatAdd)):  # d(sigma - y)/dz, not d sigma - y / dz
                top = rf"\left({top}\right)"
            if order == 1:
                return rf"{self._frac}{{\partial {top}}}{{\partial {var}}}"
            return rf"{self._frac}{{\partial^{{{order}}} {top}}}{{\partial {var}^{{{order}}}}}"
        inner = self._print(body)
        if isinstance(body, (sp.Add, sp.Mul)) or body.could_extract_minus_sign():
            inner = rf"\left({inner}\right)"
        return rf"{self._frac}{{\partial}}{{\partial {var}}} {inner}"

    def _print_StructuredMatrix(self, expr):
        """A concrete-K matrix kept as diagonal + rank-one factors prints as its explicit entries; a big one
        as its corners, built entry by entry (the same entries as_explicit makes, without the other K^2)."""
        if max(expr.shape) > self._settings["max_matrix_side"]:
            return self._print_MatrixBase(expr)
        return self._print(expr.as_explicit())

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _print_Transpose(self, expr):
        inner = self._print(expr.args[0])
        if not isinstance(expr.args[0], sp.MatrixSymbol):
            inner = rf"\left({inner}\right)"
        return rf"{inner}^{{\top}}"

    def _print_MatAdd(self, expr):
        """P^T - Y^T as (P - Y)^T: the error matrix transposed once, as textbooks write it."""
        once = _transposed_once(expr)
        return self._print(once) if once is not None else self._print_Add(expr)

    def _print_MatMul(self, expr):
        factors = [_transposed_once(f) or f for f in expr.args]
        if all(a is b for a, b in zip(factors, expr.args)):
            return super()._print_MatMul(expr)
        return super()._print_MatMul(sp.MatMul(*factors, evaluate=False))

    def _print_HadamardProduct(self, expr):
        """The entrywise product as textbooks write it: \\odot."""
        return r" \odot ".join(self._bracket_if_sum(arg) if not isinstance(arg, sp.MatAdd) else
                                rf"\left({self._print(arg)}\right)" for arg in expr.args)

    def _print_OneMatrix(self, expr):
        return r"\mathbf{1}"

    def _print_Identity(self, expr):
        return r"I"

    def _print_And(self, expr):
        """`1 <= i, j <= K` rather than `i <= K and j <= K` (1 <= i holds for positive indices)."""
        bounds = [a for a in expr.args if isinstance(a, sp.LessThan) and a.lhs.is_Symbol]
        uppers = {a.rhs for a in bounds}
        if len(bounds) == len(expr.args) and len(uppers) == 1:
            names = ", ".join(self._print(a.lhs) for a in bounds)
            return rf"1 \leq {names} \leq {self._print(uppers.pop())}"
        if len(bounds) == len(expr.args):  # index ranges with different sizes: 1 <= d <= D, 1 <= i <= K
            return r",\quad ".join(self._print(a) for a in sorted(bounds, key=lambda a: str(a.rhs), reverse=True))
        chained = _chained(expr)
        if chained is not None:  # 0 <= y_1 <= 1, not 0 <= y_1 and y_1 <= 1
            return r" \leq ".join(self._print(part) for part in chained)
        # Conditions listed as textbooks list them, B_T = K, B_{t-1} + 1 <= B_t (not joined by a logical and)
        return r",\quad ".join(self._print(a) for a in expr.args)

    def _print_LessThan(self, expr):
        if expr.lhs.is_Symbol and expr.lhs.is_positive and expr.lhs.is_integer:
            return rf"1 \leq {self._print(expr.lhs)} \leq {self._print(expr.rhs)}"
        return super()._print_Relational(expr)

    # -- textbook order: the math is untouched, only the order factors and terms are written in --
    def _print_Mul(self, expr):
        """`\\sigma_i (\\delta_{ij} - \\sigma_j)` and `y_k \\log \\sigma_k`, not SymPy's canonical order."""
        if expr.could_extract_minus_sign():
            return "- " + self._bracket_if_sum(-expr)
        numer, denom = fraction(expr, exact=True)
        scale = denom.is_Symbol or (isinstance(denom, sp.Pow) and denom.base.is_Symbol and denom.exp == sp.S.Half)
        if denom != 1 and (scale or (denom.is_Integer and isinstance(numer, sp.Add))) and (
                isinstance(numer, (sp.Add, sp.Sum)) or any(isinstance(f, sp.Add) for f in sp.Mul.make_args(numer))):
            # (a - b) / N as textbooks write a mean, \frac{1}{N} (a - b); sigma_i (delta_ij - sigma_j) / T as
            # \frac{1}{T} sigma_i (delta_ij - sigma_j); (Sum P X - Sum Y X) / N as \frac{1}{N} Sum (P - Y) X;
            # (Sum_k dS K) / sqrt(D) as \frac{1}{\sqrt{D}} Sum_k dS K.
            merged = _merged_sums(numer)
            brackets = [f for f in sp.Mul.make_args(numer) if isinstance(f, sp.Add)]
            rest = sp.Mul(*(f for f in sp.Mul.make_args(numer) if not isinstance(f, sp.Add)))
            if merged is None and rest.has(sp.exp):  # e^{z_1} (y_1 + y_2) / S as \frac{e^{z_1}}{S} (y_1 + y_2)
                return " ".join([rf"{self._frac}{{{self._print(rest)}}}{{{self._print(denom)}}}",
                                 *(rf"\left({self._print(b)}\right)" for b in brackets)])
            body = self._print(merged) if merged is not None else self._bracket_if_sum(numer)
            return rf"{self._frac}{{1}}{{{self._print(denom)}}} {body}"
        derivatives = [f for f in sp.Mul.make_args(numer) if isinstance(f, sp.Derivative)]
        if denom != 1 and derivatives:
            # y_k (d sigma_k / d z_i) / sigma_k as \frac{y_k}{sigma_k} \frac{d sigma_k}{d z_i}: no derivative inside a fraction
            rest = sp.Mul(*(f for f in sp.Mul.make_args(numer) if not isinstance(f, sp.Derivative)))
            return " ".join([rf"{self._frac}{{{self._print(rest)}}}{{{self._print(denom)}}}",
                             *(self._print(d) for d in derivatives)])
        if denom != 1:
            return rf"{self._frac}{{{self._print(numer)}}}{{{self._print(denom)}}}"
        factors = sorted(sp.Mul.make_args(expr), key=_factor_rank)
        parts = []
        for position, factor in enumerate(factors):
            tex = self._print(factor)
            if self._needs_mul_brackets(factor, first=position == 0, last=position == len(factors) - 1):
                tex = rf"\left({tex}\right)"
            parts.append(tex)
        return " ".join(parts)

    def _bracket_if_sum(self, expr) -> str:
        tex = self._print(expr)
        return rf"\left({tex}\right)" if isinstance(expr, sp.Add) else tex

    def _print_Add(self, expr, order=None):
        """Positive terms first (`z_i - \\log S`, not `- \\log S + z_i`); long sums elided in the middle."""
        mean = _common_fraction(expr)
        if mean is not None:
            # a mean at N = 2 reads (1/2) ((P_11 - Y_11) X_11 + ...), not (P_11/2 - Y_11/2) X_11 + ...
            content, primitive = mean
            if all(term.could_extract_minus_sign() for term in primitive.args):
                return "- " + self._print_Mul(sp.Mul(content, -primitive, evaluate=False))
            return self._print_Mul(sp.Mul(content, primitive, evaluate=False))
        subtracted = any(c == -1 and isinstance(rest, sp.Sum) for c, rest in (t.as_coeff_Mul() for t in expr.args))
        merged = _merged_sums(expr) if subtracted else None
        if merged is not None:
            # Sum_k a_k - Sum_k b_k is one Sum_k (a_k - b_k), as the step that factored it means; a sum
            # with the minus still inside (the step before) prints as two, so the two steps differ.
            return self._print(merged)
        ordered = [_pull_sign_out_of_sum(t) for t in self._as_ordered_terms(expr, order=order)]
        # The bias goes last, as in W x + b (stable sort: the other terms keep their order).
        ordered.sort(key=lambda t: isinstance(t, sp.Indexed) and t.base.name == "b")
        terms = [t for t in ordered if not t.could_extract_minus_sign()] + \
                [t for t in ordered if t.could_extract_minus_sign()]
        limit = self._settings["max_add_terms"]
        elided = len(terms) > limit
        if elided:
            # Natural order by index (z_2 before z_10), so the shown ends are really the first and last.
            terms = sorted(terms, key=lambda t: (t.could_extract_minus_sign(), _index_key(t)))
            terms = [*terms[:2], None, terms[-1]]
        tex = ""
        for position, term in enumerate(terms):
            if term is None:  # the elided terms take the sign of the terms around them
                tex += r" - \cdots" if terms[position - 1].could_extract_minus_sign() else r" + \cdots"
                continue
            if position > 0:
                if term.could_extract_minus_sign():
                    tex += " - "
                    term = -term
                else:
                    tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = rf"\left({term_tex}\right)"
            tex += term_tex
        return tex

    def _print_MatrixBase(self, expr):
        """Small matrices in full; big ones (K up to 512) as their corners, so documents stay readable."""
        limit = self._settings["max_matrix_side"]
        rows, cols = expr.shape
        outer, self._frac = self._frac, r"\dfrac"
        try:
            if rows <= limit and cols <= limit:
                tex = super()._print_MatrixBase(expr)
            else:
                tex = self._print_corners(expr, rows, cols)
        finally:
            self._frac = outer
        # Display-size fractions in consecutive rows touch: open the rows up (KaTeX and LaTeX both read \\[1ex]).
        return tex.replace("\\\\", "\\\\[1ex]") if r"\dfrac" in tex and "\\\\[" not in tex else tex

    def _print_corners(self, expr, rows: int, cols: int) -> str:
        row_ix = self._corner(rows)
        col_ix = self._corner(cols)
        lines = []
        for r in row_ix:
            cells = []
            for c in col_ix:
                if r is None and c is None:
                    cells.append(r"\ddots")
                elif r is None:
                    cells.append(r"\vdots")
                elif c is None:
                    cells.append(r"\cdots")
                else:
                    cells.append(self._print(expr[r, c]))
            lines.append(" & ".join(cells))
        body = " \\\\ ".join(lines)
        return rf"\begin{{pmatrix}}{body}\end{{pmatrix}}"

    @staticmethod
    def _corner(size: int) -> list:
        """Indices 0, 1, ..., None (the elision), last; all indices when the side is short."""
        if size <= MAX_MATRIX_SIDE:
            return list(range(size))
        return [0, 1, None, size - 1]

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        inner = self._print(arg)
        if not isinstance(arg, (sp.Indexed, sp.Symbol, sp.MatrixSymbol, sp.exp)):
            inner = rf"\left({inner}\right)"
        tex = rf"\log {inner}"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex


def to_latex(expr, notation: Notation | None = None) -> str:
    """LaTeX for an expression in textbook order (`\\sigma_i(\\delta_{ij} - \\sigma_j)`); the math is unchanged."""
    return NotationPrinter({"notation": notation, "mat_delim": "", "mat_str": "pmatrix"}).doprint(expr)


def _chained(expr: sp.And) -> tuple | None:
    """(a, b, c) when `expr` is a <= b and b <= c in either order, else None."""
    if len(expr.args) != 2 or not all(isinstance(a, sp.LessThan) for a in expr.args):
        return None
    for first, second in (expr.args, expr.args[::-1]):
        if first.rhs == second.lhs:
            return first.lhs, first.rhs, second.rhs
    return None
