"""Symbolic K: time to derive and verify each derivation, and how the verifier's cost grows.

    python bench/symbolic_k.py

Baseline, in the same run: what plain SymPy does with the same symbolic question
(diff of e^{z_i} / Sum_k e^{z_k} with respect to z_j, doit, then simplify(result - closed form)):
the time it takes and whether it reaches 0 (sympy#13993 leaves a Piecewise; sympy#14570 makes
simplify raise StopIteration on these sums).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def plain_sympy_attempt() -> tuple:
    import sympy as sp
    from derive.symbols import K, i, j, k, z
    start = time.perf_counter()
    try:
        entry = sp.exp(z[i]) / sp.Sum(sp.exp(z[k]), (k, 1, K))
        derivative = sp.diff(entry, z[j]).doit()
        closed = entry * (sp.KroneckerDelta(i, j) - sp.exp(z[j]) / sp.Sum(sp.exp(z[k]), (k, 1, K)))
        outcome = "proved" if sp.simplify(derivative - closed) == 0 else "not proved (Piecewise left)"
    except StopIteration:
        outcome = "simplify raised StopIteration"
    return time.perf_counter() - start, outcome


def main() -> None:
    import dataclasses
    from derive import engine
    from derive.numeric import points
    from derive.verify import verify_derivation

    seconds, outcome = plain_sympy_attempt()
    print(f"plain SymPy, softmax Jacobian for symbolic K: {seconds:.2f} s, {outcome}\n")
    print(f"{'derivation':<26} {'derive (s)':>10} {'verify (s)':>10} {'steps':>5} {'proved':>6} {'points':>7} {'us/point':>9}")
    for name in engine.names():
        start = time.perf_counter()
        built = engine.build.__wrapped__(name, None)
        derive_s = time.perf_counter() - start
        start = time.perf_counter()
        verified = verify_derivation(built)
        verify_s = time.perf_counter() - start
        n_points = sum(s.evidence.points for s in verified.steps)
        proved = sum(1 for s in verified.steps if s.evidence.symbolic)
        print(f"{name:<26} {derive_s:10.2f} {verify_s:10.2f} {len(verified.steps):>5} {proved:>6} {n_points:>7} "
              f"{1e6 * verify_s / n_points:9.0f}")

    print("\nverifier cost against the set of K it checks (softmax-jacobian, every (i, j) at each K):")
    print(f"{'Ks':<24} {'points':>7} {'verify (s)':>10} {'us/point':>9}")
    built = engine.build.__wrapped__("softmax-jacobian", None)
    for Ks in ((2, 3), (2, 3, 5), (2, 3, 5, 8), (2, 3, 5, 8, 12), (2, 3, 5, 8, 12, 16)):
        defaults = dict(points.environments.__kwdefaults__)
        points.environments.__kwdefaults__ = {**defaults, "Ks": Ks}  # the Ks the verifier checks
        try:
            start = time.perf_counter()
            verified = verify_derivation(dataclasses.replace(built))
            seconds = time.perf_counter() - start
        finally:
            points.environments.__kwdefaults__ = defaults
        n_points = sum(s.evidence.points for s in verified.steps)
        print(f"{str(Ks):<24} {n_points:>7} {seconds:10.2f} {1e6 * seconds / n_points:9.0f}")


if __name__ == "__main__":
    main()
