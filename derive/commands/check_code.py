"""`softmax-derive check-code`: a NumPy/PyTorch backward against a target; exit code = verdict.

Exit codes: 0 correct, 1 incorrect (unstable included), 2 unreadable or not runnable, 3 undecided.
"""
from __future__ import annotations

import json
import sys

import click


@click.command("check-code")
@click.option("--target", "target", required=True,
              help="A derivation name (see `softmax-derive list`), or NAME:PART (linear-softmax-cross-entropy:b).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--run", "run", is_flag=True,
              help="When the code cannot be read statically, import and call it in a separate, limited process "
                   "(untrusted code needs your own sandbox too).")
@click.option("--signature", "signature", default=None,
              help="Roles of the parameters, e.g. 's=probs,dout=upstream' (logits, probs, upstream, targets, "
                   "labels, W, b, x, T, epsilon, ignore).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Seed of the cases --run draws (K, logit spreads, logits shifted, tied, 0 or integer, the "
                   "order of the second round of calls; default: a fresh one, printed with the verdict); replays "
                   "a verdict.")
@click.argument("location")
def check_code(target, fmt, run, signature, seed, location) -> None:
    """Check the function (or autograd.Function class) at FILE.py[:NAME] against TARGET."""
    from ..check.target import get as lookup
    from ..code.api import check_file, split_location
    from ..code.signature import parse_signature

    lookup(target)
    path, name = split_location(location)
    verdict = check_file(path, target=target, name=name, run=run,
                         signature=parse_signature(signature) if signature else {}, seed=seed)
    if fmt == "json":
        click.echo(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        click.echo(render_text(verdict))
    if verdict.verdict == "unreadable":
        click.echo(f"error: {verdict.message}", err=True)
    sys.exit(verdict.exit_code)


def render_text(verdict) -> str:
    how = "read statically" if verdict.static else "run"
    lines = [f"{verdict.verdict} ({how}{', unstable' if verdict.unstable and verdict.verdict != 'unstable' else ''})",
             verdict.message]
    if verdict.mistake is not None:
        lines.append(f"mistake: {verdict.mistake.id}: {verdict.mistake.explanation}")
    if verdict.counterexample is not None:
        lines.append("counterexample: " + _counterexample_text(verdict.counterexample))
    return "\n".join(lines)


def _counterexample_text(c: dict) -> str:
    """At K = 4, i = 1, z = [...], g = [...]: expected ..., got ...; or the line that overflows and its input."""
    if "line" in c:
        return f"line {c['line']}, column {c['column']} at {json.dumps(c['inputs'])}"
    inputs = {k: v for k, v in c.items() if k in ("z", "y") and v} | dict(c.get("inputs", {}))
    where = ", ".join([f"K = {c['K']}"] + [f"{k} = {c[k]}" for k in ("i", "j", "d", "dtype") if c.get(k) is not None]
                      + [f"{k} = {json.dumps(v)}" for k, v in inputs.items()])
    return f"at {where}: expected {json.dumps(c['expected'])}, got {json.dumps(c['got'])}"
