"""`softmax-derive generate`: derive, verify, and write documents. Heavy imports happen inside."""
from __future__ import annotations

from pathlib import Path

import click

FORMATS = ("json",)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every derivation.")
@click.option("--K", "K", default="symbolic", show_default=True, help="'symbolic' or a number of classes >= 2.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("-o", "--output", default="output", show_default=True, help="Directory, or - for stdout.")
def generate(names, all_, K, fmt, output) -> None:
    """Derive NAME (or --all), verify every step, and write NAME.json."""
    from .. import engine
    from ..api import derive
    from ..files import write_atomic
    from ..serialize import to_json

    chosen = _chosen_names(names, all_, engine.names())
    K_value = engine.parse_K(K)
    rendered = [(name, to_json(derive(name, K_value))) for name in chosen]  # all before any write
    if output == "-":
        for _name, text in rendered:
            click.echo(text, nl=False)
        return
    for name, text in rendered:
        path = write_atomic(Path(output) / f"{name}.json", text)
        click.echo(str(path))


def _chosen_names(names, all_, known) -> tuple:
    from ..engine import lookup
    from ..errors import UsageError
    if all_ and names:
        raise UsageError("give derivation names or --all, not both")
    if all_:
        return tuple(known)
    if not names:
        raise UsageError(f"name a derivation ({', '.join(known)}) or use --all")
    for name in names:
        lookup(name)
    return tuple(names)
