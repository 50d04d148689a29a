"""`softmax-derive grade`: check a whole class's answers in parallel and write a report."""
from __future__ import annotations

from pathlib import Path

import click

from .check import case_option, classes_option, declared, read_case_option, reading_options


@click.command()
@reading_options
@click.option("--target", "target", required=True,
              help="A derivation name (see `softmax-derive list`), or NAME:PART for one result of a "
                   "derivation with several (linear-softmax-cross-entropy:b, :x; batched-...:b).")
@click.option("--report", "report", type=click.Path(dir_okay=False), default=None,
              help="Report file, .csv or .json (default: FILE's name with .report.csv).")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Processes (default: all cores).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="One seed of the random points for every answer (default: a fresh one per answer).")
@click.option("--lang", type=click.Choice(("en", "zh")), default="en", show_default=True,
              help="Language of the messages in the report.")
@case_option
@classes_option
@click.argument("answers", type=click.Path(exists=True, dir_okay=False))
def grade(target, report, workers, seed, lang, answers, notation_file, symbols, macros, case, classes) -> None:
    """Check every row (id, answer) of ANSWERS (.csv or .jsonl) against TARGET; print a summary."""
    from ..collector import imports_frozen
    from .progress import plural, progress

    with imports_frozen():  # SymPy and the checker, kept until exit (and shared by forked workers): see there
        from ..check.grading import grade_all, read_rows, report_format, summary, write_report
        from ..check.target import get as lookup
        from ..errors import UsageError
        from ..files import check_output_file

        from ..check.points import fresh_seed
    lookup(target)
    roles = declared(notation_file, symbols, macros)
    read_case_option(case)
    seed = fresh_seed() if seed is None else seed  # one seed for the class, printed: --seed replays it
    source = Path(answers)
    destination = Path(report) if report else source.with_suffix(".report.csv")
    # Everything that could make the report unwritable is found now, not after grading.
    report_format(destination)
    if destination.resolve() == source.resolve():
        raise UsageError(f"the report {destination} would overwrite the answers")
    check_output_file(destination)
    rows = read_rows(source)
    with progress("checking", total=len(rows)) as bar:
        results = grade_all(rows, target=target, workers=workers, progress=lambda n: bar.advance(count=n),
                            declared=roles, macros=tuple(macros), seed=seed, lang=lang, case=case, classes=classes)
    write_report(results, destination)
    counts = summary(results)
    from ..check.words import say
    click.echo(say(lang, "graded", count=counts["answers"], answers=plural(counts["answers"], "answer"),
                   target=target, path=destination) + f" (--seed {seed})")
    for verdict, count in counts["verdicts"].items():
        click.echo(f"  {verdict:<10} {count}")
    if counts["mistakes"]:
        click.echo(say(lang, "mistakes_label"))
        for mistake_id, count in counts["mistakes"].items():
            click.echo(f"  {mistake_id:<22} {count}")
