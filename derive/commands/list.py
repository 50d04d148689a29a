"""`softmax-derive list`: the names and one-line descriptions of the derivations."""
from __future__ import annotations

import click


@click.command("list")
def list_command() -> None:
    """Names and one-line descriptions of the derivations, with the concrete sizes each does in seconds
    where it does not take every size up to 512 (a larger one exits with code 6)."""
    from ..catalog import descriptions, size_limits  # not derive.engine: that imports SymPy (0.3 s)
    width = max(len(name) for name, _ in descriptions())
    for name, description in descriptions():
        limits = ", ".join(f"{label} <= {value}" for label, value in size_limits()[name].items())
        click.echo(f"{name:<{width}}  {description}" + (f" (concrete sizes: {limits})" if limits else ""))
