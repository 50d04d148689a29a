"""`softmax-derive check`: one answer or derivation against a target; exit code = verdict.

Exit codes: 0 correct, 1 incorrect, 2 unreadable input (one line on stderr), 3 undecided.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import UsageError


def reading_options(command):
    """--notation, --symbol, --macro: the course's notation, stated once for check and grade."""
    command = click.option("--macro", "macros", multiple=True, metavar="\\NAME=TEX",
                           help="Read a course's own command as known notation, e.g. '\\probs=\\sigma' "
                                "(plain substitution; repeatable).")(command)
    command = click.option("--symbol", "symbols", multiple=True, metavar="ROLE=TEX",
                           help="The letter a role is written with: probs=a, logits=o, targets=t, loss=E "
                                "(repeatable; as for generate).")(command)
    return click.option("--notation", "notation_file", type=click.Path(dir_okay=False, path_type=Path),
                        help="TOML notation file ([symbols] probs = 'a'), as for generate.")(command)


# --case, the same for check and grade: the case a question asks for when the answer's text does not say it.
case_option = click.option("--case", "case", default=None, metavar="CASE",
                           help="The case the question asks for, in the answer's letters: i=j, i!=j, or y_i=1 "
                                "(i is the true class); each line is judged in that case only.")
# --classes, the same for check and grade: the question's number of classes, when it has one.
classes_option = click.option("--classes", "classes", type=click.IntRange(2, 100_000), default=None, metavar="N",
                              help="The question's number of classes (10 for MNIST): a sum written to another "
                                   "number (\\sum_{k=1}^{9}) is then wrong. Without it, such a sum is read as all "
                                   "K classes and a right answer is right for that K.")


def declared(notation_file, symbols, macros) -> dict | None:
    """The declared roles ({"a": "sigma", ...}) or None; a bad --macro is refused here, before any answer."""
    from ..check.reading import declared_roles
    from ..check.spellings import expand_macros
    expand_macros("", tuple(macros))
    if not notation_file and not symbols:
        return None
    from ..render.notation_input import notation_from
    return declared_roles(notation_from(notation_file, symbols))


@click.command()
@reading_options
@click.option("--target", "target", required=True,
              help="A derivation name (see `softmax-derive list`), or NAME:PART for one result of a "
                   "derivation with several (linear-softmax-cross-entropy:b, :x; batched-...:b; "
                   "attention-backward:V, :P, :Q, :K).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="Read the answer from a file (- for stdin).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Seed of the random points (default: a fresh one, printed with the verdict); replays a verdict.")
@click.option("--hint", is_flag=True, help="For a wrong derivation: only a hint toward the right next step.")
@click.option("--lang", type=click.Choice(("en", "zh")), default="en", show_default=True,
              help="Language of the messages, explanations and hints.")
@case_option
@classes_option
@click.argument("answer", required=False)
def check(target, fmt, path, seed, hint, lang, answer, notation_file, symbols, macros, case, classes) -> None:
    """Check ANSWER (or --file) against the derivation TARGET. Put `--` before an answer starting with '-'."""
    from ..collector import imports_frozen
    with imports_frozen():  # SymPy and the checker, made once and kept until exit: see derive/collector.py
        from ..check import check_answer
        from ..check.target import get as lookup

    lookup(target)
    roles = declared(notation_file, symbols, macros)
    read_case_option(case)
    text = _answer_text(answer, path)
    verdict = check_answer(text, target=target, declared=roles, macros=tuple(macros), seed=seed, lang=lang,
                           hint=hint, case=case, classes=classes)
    if hint:  # a hint without the counterexample values or the answer
        verdict = verdict.without_solution()
    if fmt == "json":
        click.echo(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        from ..check.report import print_verdict
        print_verdict(verdict)
    if verdict.verdict == "invalid":
        click.echo(f"error: {verdict.message}", err=True)
    sys.exit(verdict.exit_code)


def read_case_option(case: str | None) -> None:
    """A --case that cannot be read is the caller's mistake (exit 2), before any answer is read."""
    from ..check.spellings import read_case
    from ..errors import ParseError
    if case is None:
        return
    try:
        read_case(case)
    except ParseError as error:
        raise UsageError(str(error)) from None


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
