"""`softmax-derive verify`: derive each (name, K), collect the evidence, print one table."""
from __future__ import annotations

import sys
from typing import Callable, Iterable

import click

from ..errors import DeriveError


@click.command()
@click.argument("names", nargs=-1)
@click.option("--max-K", "max_K", default=6, show_default=True, type=click.IntRange(2, 64),
              help="Also check every concrete K from 2 to this.")
def verify(names, max_K) -> None:
    """Re-derive and re-check every step for symbolic K and K = 2..max-K; exit 1 if anything fails."""
    from .. import engine

    chosen = tuple(names) or engine.names()
    for name in chosen:
        engine.lookup(name)
    ok = run_verification(chosen, Ks=(None, *range(2, max_K + 1)), echo=click.echo)
    sys.exit(0 if ok else 1)


def run_verification(names: Iterable[str], *, Ks: tuple, echo: Callable[[str], None]) -> bool:
    """True when every step of every derivation verified; one table row per (name, K) on stdout
    (through `echo`), progress on stderr (commands.progress)."""
    from .. import engine
    from .parallel import in_order
    from .progress import progress

    jobs = [(name, K) for name in names for K in Ks if engine.lookup(name).supports_K(K)]
    slow = [(name, K) for name, K in jobs if K is not None and not engine.lookup(name).is_fast({"K": K})]
    for name in dict.fromkeys(name for name, _ in slow):
        click.echo(f"skipped {name} at K > {dict(engine.lookup(name).fast_sizes)['K']}: not fast yet", err=True)
    jobs = [job for job in jobs if job not in slow]
    width = max([len("derivation"), *(len(name) for name, _ in jobs)])  # the longest name sets the column
    header = f"{'derivation':<{width}} {'K':>8} {'steps':>5} {'proved':>7} {'points':>7} {'max |lhs-rhs|':>14}  status"
    echo(header)
    echo("-" * len(header))
    all_ok = True
    with in_order(lambda index: _summary(*jobs[index]), len(jobs)) as summaries, \
            progress("verifying", total=len(jobs)) as bar:
        for (name, K), summary in zip(jobs, summaries):
            label = "symbolic" if K is None else str(K)
            if isinstance(summary, str):
                all_ok = False
                echo(f"{name:<{width}} {label:>8} {'':>5} {'':>7} {'':>7} {'':>14}  FAIL: {summary}")
            else:
                steps, proved, points, worst = summary
                echo(f"{name:<{width}} {label:>8} {steps:>5} {proved:>3}/{steps:<3} {points:>7} {worst:>14.2e}  ok")
            bar.advance(f"{name} K={label}")
    echo("all steps verified" if all_ok else "SOME STEPS FAILED")
    return all_ok


def _summary(name: str, K: int | None) -> tuple | str:
    """(steps, steps proved, points, worst |lhs - rhs|) of the verified derivation, or why it failed:
    small, so that it crosses from a worker process cheaply."""
    from ..verify import build_verified
    try:
        steps = build_verified(name, K).steps
    except DeriveError as error:
        return str(error)
    return (len(steps), sum(1 for s in steps if s.evidence.symbolic), sum(s.evidence.points for s in steps),
            max(s.evidence.numeric_max_abs_error for s in steps))
