"""Concrete K: derive and fully verify the softmax Jacobian and the cross-entropy gradient.

Prints, per K, our time (both derivations, every entry proved exactly, numerics included, the
explicit result built), plain SymPy's time for the same work (bench/plain_sympy.py: differentiate
each entry of the written-out softmax, prove it equal to its closed form with cancel), the ratio,
and our peak memory; then the fitted exponent of our cost, t ~ K^p.

    python bench/concrete_k.py               # plain SymPy up to K = 64 (about a minute)
    python bench/concrete_k.py --plain-max 128   # also plain SymPy at K = 128 (about 6-7 minutes)
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("softmax-jacobian", "cross-entropy-gradient")
KS = (8, 16, 32, 64, 128, 256, 512)


def measure(which: str, name: str, n: int) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "_measure.py"), which, name, str(n)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def fit_exponent(points: list) -> float:
    """Least-squares slope of log t against log K."""
    xs, ys = [math.log(k) for k, _ in points], [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain-max", type=int, default=64, help="largest K for plain SymPy")
    parser.add_argument("--ks", type=int, nargs="*", default=KS)
    args = parser.parse_args()

    print(f"{'K':>5} {'ours (s)':>10} {'plain SymPy (s)':>16} {'ratio':>8} {'peak MiB':>9}  proved")
    ours_points = []
    for n in args.ks:
        runs = [measure("ours", name, n) for name in NAMES]
        ours_t = sum(r["seconds"] for r in runs)
        peak = max(r["peak_mib"] for r in runs)
        proved = all(r["proved"] for r in runs)
        ours_points.append((n, ours_t))
        if n <= args.plain_max:
            plain_runs = [measure("plain", name, n) for name in NAMES]
            plain_t = sum(r["seconds"] for r in plain_runs)
            plain_s, ratio = f"{plain_t:16.2f}", f"{plain_t / ours_t:7.1f}x"
        else:
            plain_s, ratio = f"{'(not run)':>16}", f"{'':>8}"
        print(f"{n:>5} {ours_t:10.2f} {plain_s} {ratio} {peak:9.0f}  {'every entry' if proved else 'NO'}",
              flush=True)
    large = [(k, t) for k, t in ours_points if k >= 32]
    if len(large) >= 2:
        print(f"our cost grows like K^{fit_exponent(large):.2f} (least squares over K >= 32; the output has K^2 entries)")


if __name__ == "__main__":
    main()
