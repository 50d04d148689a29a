"""`softmax-derive list`: the names and one-line descriptions of the derivations."""
from __future__ import annotations

import click


@click.command("list")
def list_command() -> None:
    """Names and one-line descriptions of the derivations."""
    from ..catalog import descriptions  # not derive.engine: that imports SymPy (0.3 s)
    width = max(len(name) for name, _ in descriptions())
    for name, description in descriptions():
        click.echo(f"{name:<{width}}  {description}")
