"""Run one measurement in this (fresh) process and print JSON: seconds and peak RSS.

Usage: python bench/_measure.py ours|plain NAME K. A fresh process per measurement keeps SymPy's
cache from one measurement out of the next and makes the peak memory figure mean something.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The other sizes a derivation that takes them is measured at (a layer of D = 3 inputs, batches of 4).
BENCH_SIZES = {"D": 3, "N": 4}
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def ours(name: str, n: int) -> dict:
    """Derive, prove every step (every entry exactly), check numerically, materialise the result."""
    from derive import engine
    from derive.errors import SizeLimitError
    from derive.verify import verify_derivation
    try:
        built = engine.build(name, n, **{label: BENCH_SIZES[label] for label in engine.lookup(name).sizes if label != "K"})
    except SizeLimitError as refusal:  # a size the derivation does not yet take: it says so at once
        return {"refused": str(refusal)}
    derivation = verify_derivation(built)
    derivation.result.as_explicit() if hasattr(derivation.result, "as_explicit") else derivation.result
    proved = sum(1 for step in derivation.steps if step.evidence.symbolic)
    return {"proved": proved == len(derivation.steps), "proved_steps": proved, "steps": len(derivation.steps)}


def plain(name: str, n: int) -> dict:
    import plain_sympy
    return {"proved": plain_sympy.BY_NAME[name](n)}


def main() -> None:
    which, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    import sympy  # noqa: F401  (import time is not part of the measurement)
    start = time.perf_counter()
    cpu = time.process_time()
    outcome = {"ours": ours, "plain": plain}[which](name, n)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mib": peak_mib, **outcome}))


if __name__ == "__main__":
    main()
