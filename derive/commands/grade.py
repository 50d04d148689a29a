"""`softmax-derive grade`: check a whole class's answers in parallel and write a report."""
from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--target", "target", required=True,
              help="A derivation name (see `softmax-derive list`), or NAME:PART for one result of a "
                   "derivation with several (linear-softmax-cross-entropy:b, :x; batched-...:b).")
@click.option("--report", "report", type=click.Path(dir_okay=False), default=None,
              help="Report file, .csv or .json (default: FILE's name with .report.csv).")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Processes (default: all cores).")
@click.argument("answers", type=click.Path(exists=True, dir_okay=False))
def grade(target, report, workers, answers) -> None:
    """Check every row (id, answer) of ANSWERS (.csv or .jsonl) against TARGET; print a summary."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..check.grading import grade_all, read_rows, report_format, summary, write_report
    from ..check.target import get as lookup
    from ..errors import UsageError
    from ..files import check_output_file

    lookup(target)
    source = Path(answers)
    destination = Path(report) if report else source.with_suffix(".report.csv")
    # Everything that could make the report unwritable is found now, not after grading.
    report_format(destination)
    if destination.resolve() == source.resolve():
        raise UsageError(f"the report {destination} would overwrite the answers")
    check_output_file(destination)
    rows = read_rows(source)
    errors = Console(stderr=True, highlight=False)
    with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=errors, transient=True) as bar:
        task = bar.add_task("check", total=len(rows))
        results = grade_all(rows, target=target, workers=workers, progress=lambda n: bar.advance(task, n))
    write_report(results, destination)
    counts = summary(results)
    click.echo(f"{counts['answers']} answers checked against {target}; report: {destination}")
    for verdict, count in counts["verdicts"].items():
        click.echo(f"  {verdict:<10} {count}")
    if counts["mistakes"]:
        click.echo("mistakes:")
        for mistake_id, count in counts["mistakes"].items():
            click.echo(f"  {mistake_id:<22} {count}")
