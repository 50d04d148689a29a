"""The command line: parse arguments, make one library call, print. Heavy imports happen inside commands.

Exit codes: 0 success; 1 a verification or check found something wrong; 2 bad input or arguments;
3 undecided (check); 4 internal verification failure; 5 a needed tool is missing.
"""
from __future__ import annotations

import sys

import click

from .errors import DeriveError

def _fail(error: DeriveError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


class _Group(click.Group):
    """Turns DeriveError anywhere below into one line on stderr and its exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DeriveError as error:
            _fail(error)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="softmax-derive", message="%(prog)s %(version)s")
def main() -> None:
    """Derive softmax gradients step by step, verify every step, write LaTeX/Markdown/JSON, check answers."""


@main.command("list")
def list_command() -> None:
    """Names and one-line descriptions of the derivations."""
    from .catalog import descriptions  # not derive.engine: that imports SymPy (0.3 s)
    width = max(len(name) for name, _ in descriptions())
    for name, description in descriptions():
        click.echo(f"{name:<{width}}  {description}")


@main.command()
@click.argument("names", nargs=-1)
@click.option("--max-K", "max_K", default=6, show_default=True, type=click.IntRange(2, 64),
              help="Also check every concrete K from 2 to this.")
def verify(names, max_K) -> None:
    """Re-derive and re-check every step for symbolic K and K = 2..max-K; exit 1 if anything fails."""
    from .verify_report import run_verification
    from . import engine

    chosen = tuple(names) or engine.names()
    for name in chosen:
        engine.lookup(name)
    ok = run_verification(chosen, Ks=(None, *range(2, max_K + 1)), echo=click.echo)
    sys.exit(0 if ok else 1)


def _register_commands() -> None:
    """One module per command (derive/commands/), so each stays small and owned by one feature."""
    from .commands import generate
    main.add_command(generate.generate)
    from .commands import check, grade
    main.add_command(check.check)
    main.add_command(grade.grade)
    from .commands import check_code, grade_code
    main.add_command(check_code.check_code)
    main.add_command(grade_code.grade_code)


_register_commands()

if __name__ == "__main__":
    main()
