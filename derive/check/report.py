"""Print a Verdict for a person in a terminal (rich); plain and readable without colour."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from .verdict import Verdict

STYLE = {"correct": "bold green", "incorrect": "bold red", "invalid": "bold yellow", "undecided": "bold yellow"}


def print_verdict(verdict: Verdict, console: Console | None = None) -> None:
    if verdict.verdict == "invalid":
        return  # the CLI prints the one-line error on stderr
    console = console or Console(highlight=False, soft_wrap=True)
    console.print(f"[{STYLE[verdict.verdict]}]{verdict.verdict.upper()}[/]")
    if verdict.interpretation:  # empty when the check stopped before reading finished
        console.print(f"read as:  {escape(verdict.interpretation)}")
    console.print(escape(verdict.message))
    if verdict.lines and len(verdict.lines) > 1:
        for lv in verdict.lines:
            console.print(f"  line {lv.line}: {lv.verdict}")
    c = verdict.counterexample
    if c is not None:
        console.print("counterexample:")
        indices = ", ".join(f"{name} = {value}" for name, value in c.indices)
        console.print(f"  K = {c.K}" + (f", {indices}" if indices else ""))
        if c.sigma_text:
            console.print(f"  sigma = ({', '.join(c.sigma_text)})")
        if c.z:
            console.print(f"  z = {list(c.z)}")
        if c.y is not None:
            console.print(f"  y = {list(c.y)}")
        for name, value in c.inputs:  # g, W, x, b, X, Y, T, epsilon, u, D, N where the target has them
            console.print(f"  {name} = {value}")
        console.print(f"  expected {c.expected!r}, got {c.got!r}")
    if verdict.mistake is not None:
        console.print(f"mistake: {verdict.mistake.id}")
        console.print(f"  {escape(verdict.mistake.explanation)}")
