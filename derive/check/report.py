"""Print a Verdict for a person in a terminal; the verdict word coloured only on a colour terminal.

Why click and not rich: click is loaded already, and importing rich cost a check a fifth of its time.
"""
from __future__ import annotations

import os
import sys

import click

from .verdict import Verdict
from .words import say

COLOUR = {"correct": "green", "incorrect": "red", "invalid": "yellow", "undecided": "yellow"}


class _Plain:
    """The one method print_verdict needs: a line to stdout."""

    @staticmethod
    def print(text: str) -> None:
        click.echo(text)


def print_verdict(verdict: Verdict, console=None) -> None:
    if verdict.verdict == "invalid":
        return  # the CLI prints the one-line error on stderr
    console = console or _Plain()
    lang = verdict.lang
    word = say(lang, "verdict_" + verdict.verdict)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    console.print(click.style(word, fg=COLOUR[verdict.verdict], bold=True) if colour else word)
    if verdict.interpretation:  # empty when the check stopped before reading finished
        console.print(f"{say(lang, 'read_as')}  {verdict.interpretation}")
    console.print(verdict.message)
    if verdict.lines and len(verdict.lines) > 1:
        for lv in verdict.lines:
            console.print("  " + say(lang, "line_verdict", line=lv.line, verdict=say(lang, "word_" + lv.verdict)))
    c = verdict.counterexample
    if c is not None:
        console.print(say(lang, "counterexample"))
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
        console.print("  " + say(lang, "expected_got", expected=repr(c.expected), got=repr(c.got)))
    if verdict.step is not None and verdict.step.id is not None:
        console.print(f"{say(lang, 'step_label')} {verdict.step.id}")
    if verdict.mistake is not None:
        console.print(f"{say(lang, 'mistake')} {verdict.mistake.id}")
        console.print(f"  {verdict.mistake.explanation}")
