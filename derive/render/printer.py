"""SymPy -> LaTeX in the user's notation: a LatexPrinter subclass, notation as printer settings."""
from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .notation import NAME_TO_ROLE, Notation


class NotationPrinter(LatexPrinter):
    """Prints our trees the way a textbook writes them: sigma_i, partial fractions, delta_ij."""

    _default_settings = {**LatexPrinter._default_settings, "notation": None}

    def __init__(self, settings=None):
        super().__init__(settings)
        self.notation: Notation = self._settings["notation"] or Notation()

    # -- names -------------------------------------------------------------------------------
    def _name(self, name: str) -> str:
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
        (variable, order), = expr.variable_count
        var = self._print(variable)
        body = expr.expr
        if getattr(variable, "is_Matrix", False) or isinstance(body, (sp.Indexed, sp.Symbol, sp.MatrixSymbol)) \
                or (isinstance(body, sp.log) and isinstance(body.args[0], (sp.Indexed, sp.MatrixSymbol))):
            top = self._print(body)
            if order == 1:
                return rf"\frac{{\partial {top}}}{{\partial {var}}}"
            return rf"\frac{{\partial^{{{order}}} {top}}}{{\partial {var}^{{{order}}}}}"
        inner = self._print(body)
        if isinstance(body, (sp.Add, sp.Mul)) or body.could_extract_minus_sign():
            inner = rf"\left({inner}\right)"
        return rf"\frac{{\partial}}{{\partial {var}}} {inner}"

    def _print_StructuredMatrix(self, expr):
        """A concrete-K matrix kept as diagonal + rank-one factors prints as its explicit entries."""
        return self._print(expr.as_explicit())

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _print_Transpose(self, expr):
        inner = self._print(expr.args[0])
        if not isinstance(expr.args[0], sp.MatrixSymbol):
            inner = rf"\left({inner}\right)"
        return rf"{inner}^{{\top}}"

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
        return super()._print_And(expr)

    def _print_LessThan(self, expr):
        if expr.lhs.is_Symbol and expr.lhs.is_positive and expr.lhs.is_integer:
            return rf"1 \leq {self._print(expr.lhs)} \leq {self._print(expr.rhs)}"
        return super()._print_Relational(expr)

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        inner = self._print(arg)
        if not isinstance(arg, (sp.Indexed, sp.Symbol, sp.MatrixSymbol, sp.exp)):
            inner = rf"\left({inner}\right)"
        tex = rf"\log {inner}"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex


def to_latex(expr, notation: Notation | None = None) -> str:
    """LaTeX for an expression; products keep the order SymPy gives them."""
    return NotationPrinter({"notation": notation, "mat_delim": "", "mat_str": "pmatrix"}).doprint(expr)
