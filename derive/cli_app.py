"""The command line, assembled: the group, the error edge, and the commands of derive/commands/.

Each command parses its arguments, makes one library call and prints; heavy imports happen inside commands.

Exit codes: 0 success; 1 a verification or check found something wrong; 2 bad input or arguments;
3 undecided (check); 4 internal verification failure; 5 a needed tool is missing;
6 a size the derivation does not yet do in seconds (SizeLimitError).
"""
from __future__ import annotations

import importlib
import sys

import click

from .errors import DeriveError

def _fail(error: DeriveError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


# One module per command (derive/commands/), so each stays small and owned by one feature:
# name -> (module, function), in the order `--help` lists them.
COMMANDS = {"list": ("list", "list_command"), "generate": ("generate", "generate"), "verify": ("verify", "verify"),
            "check": ("check", "check"), "grade": ("grade", "grade"), "check-code": ("check_code", "check_code"),
            "grade-code": ("grade_code", "grade_code")}


class _Group(click.Group):
    """Turns DeriveError anywhere below into one line on stderr and its exit code, never a traceback.
    A command's module is imported when that command runs (or --help lists it): `check` does not
    pay for importing generate's."""

    def main(self, *args, **kwargs):
        from .collector import no_collection_at_exit
        no_collection_at_exit()  # a command's process ends soon after: see collector.py
        return super().main(*args, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DeriveError as error:
            _fail(error)

    def list_commands(self, ctx) -> list:
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, function = COMMANDS[name]
        return getattr(importlib.import_module(f"{__package__}.commands.{module}"), function)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="softmax-derive", message="%(prog)s %(version)s")
def main() -> None:
    """Derive softmax gradients step by step, verify every step, write LaTeX/Markdown/JSON, check answers."""


if __name__ == "__main__":
    main()
