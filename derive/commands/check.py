"""`softmax-derive check`: one answer or derivation against a target; exit code = verdict.

Exit codes: 0 correct, 1 incorrect, 2 unreadable input (one line on stderr), 3 undecided.
"""
from __future__ import annotations

import json
import sys

import click

from ..errors import UsageError


@click.command()
@click.option("--target", "target", required=True,
              help="A derivation name (see `softmax-derive list`), or NAME:PART for one result of a "
                   "derivation with several (linear-softmax-cross-entropy:b, :x; batched-...:b).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="Read the answer from a file (- for stdin).")
@click.argument("answer", required=False)
def check(target, fmt, path, answer) -> None:
    """Check ANSWER (or --file) against the derivation TARGET. Put `--` before an answer starting with '-'."""
    from ..check import check_answer
    from ..check.target import get as lookup

    lookup(target)
    text = _answer_text(answer, path)
    verdict = check_answer(text, target=target)
    if fmt == "json":
        click.echo(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        from ..check.report import print_verdict
        print_verdict(verdict)
    if verdict.verdict == "invalid":
        click.echo(f"error: {verdict.message}", err=True)
    sys.exit(verdict.exit_code)


def _answer_text(answer: str | None, path: str | None) -> str:
    from ..parse.text import MAX_CHARS
    if (answer is None) == (path is None):
        raise UsageError("give the answer as an argument or with --file, not both or neither")
    if path is None:
        return answer
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="strict")
        with stream:
            text = stream.read(MAX_CHARS * 4 + 1)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    return text
