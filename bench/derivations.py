"""Every derivation at concrete K = 8, 64, 256, 512: derive + verify time, steps proved, against the Jacobian and plain SymPy.

One fresh process per measurement (bench/_measure.py). A measurement that uses more than --limit
CPU seconds is stopped and shown as "> LIMIT"; the larger K of that derivation are then not run (they
cost more); a size the derivation refuses (engine FAST_SIZES, exit code 6) is shown as refused. CPU seconds are the figure to compare on a shared machine (wall time includes waiting
for the other processes); "x jac" is CPU time over the softmax Jacobian's at the same K; "plain"
is plain SymPy (bench/plain_sympy.py: diff each written-out entry, cancel against the closed form)
where it is implemented and finishes, "ratio" plain / ours.

    python bench/derivations.py                   # K = 8, 64, 256, 512; plain SymPy at K = 8
    python bench/derivations.py --ks 8 64 --plain-max 64 --limit 120
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
KS = (8, 64, 256, 512)


def measure(which: str, name: str, n: int, limit: float) -> dict | None:
    """The measurement's JSON, or None when it used more than `limit` CPU seconds.

    The limit is on CPU time (RLIMIT_CPU in the child), not wall time: on a shared machine the
    wall clock also counts the other processes' turns."""
    def cap_cpu():
        resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(limit), math.ceil(limit) + 1))
    out = subprocess.run([sys.executable, str(HERE / "_measure.py"), which, name, str(n)],
                         capture_output=True, text=True, preexec_fn=cap_cpu)
    if out.returncode < 0 and -out.returncode in (signal.SIGXCPU, signal.SIGKILL):
        return None
    out.check_returncode()
    return json.loads(out.stdout)


def main() -> None:
    from derive import engine
    import plain_sympy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="*", default=KS)
    parser.add_argument("--limit", type=float, default=60.0, help="CPU seconds per measurement")
    parser.add_argument("--plain-max", type=int, default=8, help="largest K for plain SymPy")
    parser.add_argument("names", nargs="*", default=None)
    args = parser.parse_args()

    names = args.names or list(engine.names())
    print(f"{'derivation':<37} {'K':>4} {'wall (s)':>9} {'cpu (s)':>8} {'proved':>7} {'x jac':>6} "
          f"{'plain (s)':>10} {'ratio':>7}", flush=True)
    jacobian_cpu: dict = {}
    for name in names:
        entry = engine.lookup(name)
        for n in ((entry.fixed_K,) if entry.fixed_K else [k for k in args.ks if entry.supports_K(k)]):
            ours = measure("ours", name, n, args.limit)
            if ours is None:
                print(f"{name:<37} {n:>4} {'> ' + format(args.limit, 'g'):>9} {'':>8} {'':>7}  (larger K not run)",
                      flush=True)
                break
            if "refused" in ours:
                print(f"{name:<37} {n:>4} refused at once (exit 6): {ours['refused'].split('; ')[-1]}", flush=True)
                break
            if name == "softmax-jacobian":
                jacobian_cpu[n] = ours["cpu_seconds"]
            versus = f"{ours['cpu_seconds'] / jacobian_cpu[n]:6.1f}" if n in jacobian_cpu else f"{'':>6}"
            plain_s, ratio = f"{'':>10}", f"{'':>7}"
            if name in plain_sympy.BY_NAME and n <= args.plain_max:
                plain = measure("plain", name, n, args.limit)
                if plain is None:
                    plain_s = f"{'> ' + format(args.limit, 'g'):>10}"
                else:
                    plain_s = f"{plain['cpu_seconds']:10.2f}"
                    ratio = f"{plain['cpu_seconds'] / ours['cpu_seconds']:6.1f}x"
            proved = f"{ours['proved_steps']}/{ours['steps']}"
            print(f"{name:<37} {n:>4} {ours['seconds']:9.2f} {ours['cpu_seconds']:8.2f} {proved:>7} {versus} "
                  f"{plain_s} {ratio}", flush=True)


if __name__ == "__main__":
    main()
