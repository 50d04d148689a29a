"""The command line, assembled: the group, the error edge, and the commands of derive/commands/.

Each command parses its arguments, makes one library call and prints; heavy imports happen inside commands.

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


def _register_commands() -> None:
    """One module per command (derive/commands/), so each stays small and owned by one feature."""
    from .commands import check, check_code, generate, grade, grade_code, verify
    from .commands.list import list_command
    for command in (list_command, generate.generate, verify.verify, check.check, grade.grade,
                    check_code.check_code, grade_code.grade_code):
        main.add_command(command)


_register_commands()

if __name__ == "__main__":
    main()
