"""Shared by the backpropagation tests: verified derivations (cached) and their JSON results."""
from __future__ import annotations

import dataclasses
import functools
import json

import sympy as sp

from derive.engine import build
from derive.render.serialize import to_json
from derive.verify import verify_derivation


@functools.lru_cache(maxsize=None)
def verified(name, K=None, D=None, N=None):
    return verify_derivation(build(name, K, D, N))


def json_results(name, K=None, D=None, N=None) -> dict:
    """{"result": expr, <extra result name>: expr}, read back from the JSON a consumer sees.
    (Our own trusted srepr output; user text never goes through sympify.)"""
    data = json.loads(to_json(verified(name, K, D, N)))
    assert data["K"] == ("symbolic" if K is None else K)
    out = {"result": sp.sympify(data["result"]["sympy"])}
    for key, value in data.get("results", {}).items():
        out[key] = sp.sympify(value["sympy"])
    return out


def proved_count(derivation) -> int:
    return sum(1 for step in derivation.steps if step.evidence.symbolic)


def verify_one(derivation, step):
    """Verify a single (typically deliberately broken) step the way verify_derivation would."""
    from derive.verify import verify_step
    return verify_step(step, K_value=derivation.K, definitions=derivation.definitions,
                       semantics=derivation.semantics)


def with_entry(derivation, rule, position, entry):
    """The derivation's step of this rule with one entry of its column replaced (a wrong entry to
    show that a large-K proof does not carry it along)."""
    step = next(s for s in derivation.steps if s.rule == rule)
    entries = list(step.rhs)
    entries[position] = entry
    return dataclasses.replace(step, rhs=sp.ImmutableMatrix(entries), evidence=None)
