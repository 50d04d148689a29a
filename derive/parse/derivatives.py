"""The builder's derivative rules: \\frac{\\partial f}{\\partial z_j}, \\partial f/\\partial z_j, \\partial_j f, second derivatives.

Why a module of its own: every written derivative is checked here against the variables a derivative may
be taken by (an entry of z, sigma, W, b, x, the logit u, or a whole array), whatever its notation. A mixin
of build.Build, which supplies `_index`.
"""
from __future__ import annotations

import sympy as sp
from lark import Token

from .. import symbols
from ..errors import ParseError
from .markers import value


class DerivativeRules:
    """Transformer methods for the grammar's derivative rules (deriv, deriv_slash, deriv2, dsub, dop, dop2)."""

    def deriv(self, children):
        top, variable = value(children[2]), value(children[4])
        return self._derivative(top, variable)

    def deriv_slash(self, children):
        r"""\partial s_i / \partial z_j and {\partial h_i \over \partial z_j}: the same derivative inline."""
        top, variable = value(children[1]), value(children[4])
        return self._derivative(top, variable)

    def dsub(self, children):
        variable, body = children[1], value(children[-1])
        if isinstance(variable, Token):  # \partial_j: the logit with that index
            variable = symbols.z[self._index(variable)]
        return self._derivative(body, value(variable))

    def deriv2(self, children):
        r"""\frac{\partial^2 L}{\partial z_i \partial z_j}: the derivative by z_i, then by z_j."""
        order, body, *variables = [c for c in children if not isinstance(c, Token) and c is not None]
        return self._second_derivative(value(body), value(order), [value(v) for v in variables])

    def deriv2_slash(self, children):
        r"""\partial^2 L / \partial z_i \partial z_j: the same second derivative inline."""
        order, body, *variables = [c for c in children if not isinstance(c, Token) and c is not None]
        return self._second_derivative(value(body), value(order), [value(v) for v in variables])

    def dop2(self, children):
        order, *variables, body = [c for c in children if not isinstance(c, Token) and c is not None]
        return self._second_derivative(value(body), value(order), [value(v) for v in variables])

    def _second_derivative(self, body, order, variables):
        if len(variables) == 1 and isinstance(variables[0], sp.Pow) and variables[0].exp == 2:
            variables = [variables[0].base] * 2  # \partial z_k^2: twice by z_k
        if order != 2 or len(variables) != 2:
            raise ParseError("a second derivative is read as \\frac{\\partial^2 f}{\\partial z_i \\partial z_j}")
        return self._derivative(self._derivative(body, variables[0]), variables[1])

    def dop(self, children):
        variable, body = value(children[3]), value(children[4])
        return self._derivative(body, variable)

    def _derivative(self, body, variable):
        differentiable = (symbols.z, symbols.sigma, symbols.W, symbols.b, symbols.x)
        # A whole array (\frac{\partial L}{\partial W}, \partial L / \partial b): the gradient as a matrix.
        whole = isinstance(variable, sp.MatrixSymbol) and variable.name in ("W", "b", "x", "X")
        ok = (isinstance(variable, sp.Indexed) and variable.base in differentiable) or variable in (
            sp.MatrixSymbol("z", symbols.K, 1), symbols.u) or whole
        if not ok:
            raise ParseError(f"derivatives are taken with respect to z_j, \\sigma_k, W_{{id}}, b_i, x_d, u or z, "
                             f"not {variable}")
        return sp.Derivative(body, variable, evaluate=False)
