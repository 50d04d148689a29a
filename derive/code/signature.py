"""Match a function's parameters to a target's inputs, by name (or an explicit --signature), and bind them.

Why by name: backward functions name their inputs (logits/z/x, probs/s/y_hat, grad_output/dout,
labels/y, W, b, X); a name says the role, and the role gives the symbolic array the reader starts
from (z[a], sigma[a], g[a], W[a, b], ...). Layouts (one example or a batch of rows, W as K x D or
D x K) are tried in order; the first the code reads under wins.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .. import symbols
from ..errors import UsageError
from . import arrays as A
from .arrays import Array

ROLES = ("logits", "probs", "upstream", "targets", "labels", "W", "b", "x", "T", "epsilon", "zero", "ignore")

NAMES = {
    "logits": {"z", "logits", "logit", "scores", "inputs", "input", "a", "zs", "pre_activation", "activations"},
    "probs": {"s", "p", "probs", "prob", "probabilities", "y_hat", "yhat", "softmax", "sm", "out", "output",
              "outputs", "sigma", "softmax_output", "softmax_out", "y_pred", "pred", "preds", "result"},
    "upstream": {"g", "grad", "grad_output", "grad_out", "grad_outputs", "dy", "dout", "upstream", "upstream_grad",
                 "d_out", "delta", "dl_ds", "dlds", "dvalues", "da", "dl_dy", "dldy", "gradient", "top_grad",
                 "dp", "ds", "dprobs", "grad_y", "grad_s", "dl_dout", "dloss", "output_grad", "grad_in",
                 "gradoutput", "grad_output_"},
    "targets": {"y", "t", "target", "targets", "y_true", "onehot", "one_hot", "truth", "y_onehot", "yt", "true"},
    "labels": {"labels", "label", "classes", "class_idx", "y_idx", "target_idx", "indices", "idx"},
    "W": {"w", "weights", "weight"},
    "b": {"b", "bias", "biases"},
    "x": {"x", "features", "a_prev", "h", "inputs", "input"},
    "T": {"temperature", "tau"},
    "epsilon": {"eps", "epsilon", "smoothing", "label_smoothing"},
    # a hyperparameter no target has (a regularisation strength): read as 0
    "zero": {"reg", "lam", "lambda_", "weight_decay", "l2", "l2_reg"},
    "ignore": {"self", "ctx", "axis", "dim"},
}


LINEAR_ROLES = ("W", "b", "x")


@dataclass(frozen=True)
class Layout:
    """How inputs are shaped: a batch of rows (N x K) or one example; W as K x D or transposed (D x K)."""

    batched: bool = False
    w_transposed: bool = False
    labels: bool = False
    also_single: bool = False  # read for one example too (code written for rows, checked on both)

    def describe(self) -> str:
        parts = [("one example and " if self.also_single else "") + "a batch of N rows" if self.batched
                 else "one example"]
        if self.w_transposed:
            parts.append("W as D x K (x @ W)")
        if self.labels:
            parts.append("integer labels")
        return ", ".join(parts)


LABEL_BASE = sp.IndexedBase("label")  # the 1-based class of each example; only ever inside a delta
UPSTREAM_SCALAR = sp.IndexedBase("c")  # dL/d(loss) for a loss's backward: c[1]


def parse_signature(text: str) -> dict:
    """'s=probs,dout=upstream' -> {'s': 'probs', 'dout': 'upstream'}; UsageError for unknown roles."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, role = item.partition("=")
        if not sep or not name.strip().isidentifier() or role.strip() not in ROLES:
            raise UsageError(f"--signature item {item!r}: write NAME=ROLE with ROLE one of {', '.join(ROLES)}")
        out[name.strip()] = role.strip()
    return out


def role_of(name: str, target, explicit: dict) -> str | None:
    if name in explicit:
        return explicit[name]
    lowered = name.lower()
    linear = "x" in target.arrays or "X" in target.arrays
    if linear:
        if name == "X" or (lowered in NAMES["x"]):
            return "x"
        if name == "Y":
            return "targets"
    if not {"y", "Y"} & set(target.arrays) and lowered in ("y", "y_hat", "yhat"):
        return "probs"  # y = softmax(x) where the target has no targets
    if lowered == "t" and "T" in _scalars(target):
        return "T"
    for role, names in NAMES.items():
        if role in LINEAR_ROLES and not linear:
            continue
        if lowered in names or name in names:
            return role
    if lowered == "x":
        return "logits"
    return None


def _scalars(target) -> set:
    return {str(s) for s in target.result.free_symbols} | {str(s) for _n, d in target.definitions for s in d.free_symbols}


def layouts(target, roles: dict) -> list:
    """The layouts to try, most common first."""
    linear = "W" in target.arrays
    batched_target = "X" in target.arrays
    wanted = set(roles.values())
    label_options = (True, False) if "labels" in wanted else ((False, True) if "targets" in wanted else (False,))
    out = []
    for batched in ((True,) if batched_target else (False, True)):
        for transposed in ((False, True) if linear else (False,)):
            for labels in label_options:
                out.append(Layout(batched, transposed, labels))
    return out


def bind(role: str, target, layout: Layout, *, upstream_shape: tuple | None = None) -> Array:
    """The symbolic array a parameter of this role starts as."""
    batched = layout.batched or "Y" in target.arrays
    rows = (symbols.N,) if batched else ()
    K, D = symbols.K, symbols.D
    def indexed(base, shape, tag="safe"):
        return A.build(shape, lambda axes: base[axes] if len(axes) > 1 else base[axes[0]], tag)
    if role == "logits":
        return indexed(symbols.z, rows + (K,), "raw")
    if role == "probs":
        return indexed(symbols.sigma, rows + (K,))
    if role in ("targets", "labels") and (role == "labels" or layout.labels):
        return A.build(rows, lambda axes: (LABEL_BASE[axes[0]] if axes else sp.Symbol("label", integer=True,
                                                                                         positive=True)) - 1, "labels")
    if role == "targets":
        return indexed(symbols.Y if "X" in target.arrays else symbols.y, rows + (K,))
    if role == "upstream":
        if upstream_shape is None:
            raise UsageError("an upstream-gradient parameter where the target takes none")
        if upstream_shape == ():
            return A.scalar(UPSTREAM_SCALAR[1])
        return indexed(symbols.g, upstream_shape)
    if role == "W":
        if layout.w_transposed:
            return A.build((D, K), lambda axes: symbols.W[axes[1], axes[0]], "raw")
        return indexed(symbols.W, (K, D), "raw")
    if role == "b":
        return indexed(symbols.b, (K,), "raw")
    if role == "x":
        return indexed(symbols.X, (symbols.N, D), "raw") if "X" in target.arrays else indexed(symbols.x, (D,), "raw")
    if role == "T":
        return A.scalar(symbols.T)
    if role == "epsilon":
        return A.scalar(symbols.epsilon)
    raise UsageError(f"no input of role {role!r} for this target")
