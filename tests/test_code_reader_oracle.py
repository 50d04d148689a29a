"""The static reader's array semantics against NumPy: random whitelisted programs, read and evaluated.

Each program is generated twice from the same random choices: as source text for the reader, and as
the NumPy computation itself (no text is executed). The reader's entry formulas, evaluated at the
same z and g with K = 3, must equal NumPy's arrays: broadcasting, keepdims, transposes, sums over
an axis, matmul, outer, diag and einsum all read the way NumPy computes them.
"""
from __future__ import annotations

import ast
import itertools
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import symbols
from derive.code import arrays as A
from derive.code.reader import Reader
from derive.code.values import Function, Module
from derive.numeric.evaluate import compile_expr
from derive.numeric.state import Env

K = 3
PROGRAMS = 40


def _vector(rng, depth):
    choices = [lambda: ("z", Z), lambda: ("g", G)]
    if depth > 0:
        choices += [
            lambda: _binary(rng, depth, "v"),
            # max z is a free symbol to the reader (the prover shows results do not depend on it): only in a ratio
            lambda: _apply(rng, depth, "v", "(np.exp({0} - np.max({0})) / np.sum(np.exp({0} - np.max({0}))))",
                           lambda a: np.exp(a - np.max(a)) / np.sum(np.exp(a - np.max(a)))),
            lambda: _apply(rng, depth, "v", "({0} / np.sum(np.exp({0})))", lambda a: a / np.sum(np.exp(a))),
            lambda: _matvec(rng, depth),
            lambda: _apply(rng, depth, "m", "np.diag({0})", np.diag),
            lambda: _apply(rng, depth, "m", "{0}.sum(axis=0)", lambda a: a.sum(axis=0)),
            lambda: _apply(rng, depth, "m", "np.sum({0}, axis=-1)", lambda a: np.sum(a, axis=-1)),
            lambda: _apply(rng, depth, "m", "np.einsum('ij->j', {0})", lambda a: np.einsum("ij->j", a)),
        ]
    return rng.choice(choices)()


def _matrix(rng, depth):
    choices = [
        lambda: _apply(rng, depth, "v", "np.outer({0}, z)", lambda a: np.outer(a, Z)),
        lambda: _apply(rng, depth, "v", "np.diag({0})", np.diag),
        lambda: _apply(rng, depth, "v", "({0}[:, None] * g[None, :])", lambda a: a[:, None] * G[None, :]),
        lambda: _apply(rng, depth, "m", "{0}.T", lambda a: a.T),
        lambda: _apply(rng, depth, "m", "({0} - {0}.sum(axis=1, keepdims=True))",
                       lambda a: a - a.sum(axis=1, keepdims=True)),
        lambda: _apply(rng, depth, "m", "({0} @ {0})", lambda a: a @ a),
        lambda: _binary(rng, depth, "m"),
    ]
    return rng.choice(choices)()


def _generate(rng, depth, kind):
    return (_vector if kind == "v" else _matrix)(rng, depth - 1)


def _apply(rng, depth, kind, template, fn):
    source, value = _generate(rng, depth, kind)
    return template.format(source), fn(value)


def _binary(rng, depth, kind):
    (a, x), (b, y) = _generate(rng, depth, kind), _generate(rng, depth, kind)
    op = rng.choice(["+", "-", "*"])
    return f"({a} {op} {b})", {"+": x + y, "-": x - y, "*": x * y}[op]


def _matvec(rng, depth):
    (m, x), (v, y) = _generate(rng, depth, "m"), _generate(rng, depth, "v")
    return (f"({m} @ {v})", x @ y) if rng.random() < 0.5 else (f"({v} @ {m})", y @ x)


Z = np.array([0.3, -1.2, 0.7])
G = np.array([0.5, 0.25, -0.8])


def _read(source: str):
    tree = ast.parse(f"import numpy as np\n\ndef f(z, g):\n    return {source}\n")
    module = Module(tree)
    vector = lambda base: A.build((symbols.K,), lambda axes: base[axes[0]], "safe")  # noqa: E731
    return Reader(module).call(Function(module.functions["f"]), [], {"z": vector(symbols.z), "g": vector(symbols.g)})


def _numbers(array) -> np.ndarray:
    """Every entry at z = Z, g = G, K = 3 (max z -> 0: it only appears in shift-invariant ratios)."""
    env = Env(K=K, arrays={"z": [mpmath.mpf(v) for v in Z], "g": [mpmath.mpf(v) for v in G]}, scalars={symbols.K: K})
    out = np.zeros(tuple(K for _ in array.shape))
    with mpmath.workdps(30):
        for position in itertools.product(*(range(K) for _ in array.shape)):
            entry = array.at([sp.Integer(p + 1) for p in position])
            entry = entry.xreplace({m: 0 for m in entry.free_symbols if m.name.startswith("_max")})
            out[position] = float(compile_expr(entry)(env))
    return out


@pytest.mark.parametrize("seed", range(PROGRAMS))
def test_reader_agrees_with_numpy(seed):
    rng = random.Random(seed)
    source, expected = _generate(rng, rng.randint(2, 3), rng.choice("vm"))
    array = _read(source)
    assert tuple(int(s.subs(symbols.K, K)) for s in array.shape) == expected.shape, source
    assert np.allclose(_numbers(array), expected, rtol=1e-10, atol=1e-12), source
