"""The derivations' names and one-line descriptions without importing SymPy (`list` starts at once).

The engine modules are listed here once, in display order; `derive.engine` imports them from this
list. Their NAME, DESCRIPTION and FAST_SIZES constants are read from the source with `ast` (parsing our own
files, not importing them), so the words stay in one place: the module that derives. Only a module's
header (up to its first top-level def or class, where the constants stand) is parsed: the whole
modules cost 20 ms, paid by every process that imports the engine.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

MODULES = ("softmax_jacobian", "log_softmax_jacobian", "cross_entropy",
           "softmax_vjp", "temperature_softmax", "label_smoothing", "logsumexp", "cross_entropy_hessian",
           "linear_softmax", "sigmoid_logistic", "batched_linear_softmax", "attention_backward",
           "masked_softmax", "online_softmax")

_ENGINE = Path(__file__).resolve().parent / "engine"


_CONSTANTS = ("NAME", "DESCRIPTION", "FAST_SIZES")
_FIRST_DEFINITION = re.compile(r"^(?:def |async def |class |@)", re.MULTILINE)


def _constants(module: str) -> dict:
    text = (_ENGINE / f"{module}.py").read_text(encoding="utf-8")
    first = _FIRST_DEFINITION.search(text)
    if first is not None:
        try:
            found = _assigned(ast.parse(text[:first.start()]))
            if "NAME" in found and "DESCRIPTION" in found:
                return found
        except SyntaxError:  # the cut fell inside a string or bracket: read the whole module
            pass
    return _assigned(ast.parse(text))


def _assigned(tree: ast.Module) -> dict:
    """The values of NAME, DESCRIPTION and FAST_SIZES assigned at the top level of a parsed module."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in _CONSTANTS:
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


@functools.lru_cache(maxsize=1)
def descriptions() -> tuple[tuple[str, str], ...]:
    """(name, one-line description) for every derivation, in display order."""
    return tuple((c["NAME"], c["DESCRIPTION"]) for c in map(_constants, MODULES))


@functools.lru_cache(maxsize=1)
def size_limits() -> dict[str, dict[str, int]]:
    """name -> the largest concrete sizes a derivation does in seconds ({} when it takes every size)."""
    return {c["NAME"]: c.get("FAST_SIZES", {}) for c in map(_constants, MODULES)}
