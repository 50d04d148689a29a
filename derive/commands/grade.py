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
    from .progress import plural, progress

    from ..check.grading import grade_all, read_rows, summary, write_report
    from ..check.target import get as lookup

    lookup(target)
    source = Path(answers)
    rows = read_rows(source)
    destination = Path(report) if report else source.with_suffix(".report.csv")
    with progress("checking", total=len(rows)) as bar:
        results = grade_all(rows, target=target, workers=workers, progress=lambda n: bar.advance(count=n))
    write_report(results, destination)
    counts = summary(results)
    click.echo(f"{plural(counts['answers'], 'answer')} checked against {target}; report: {destination}")
    for verdict, count in counts["verdicts"].items():
        click.echo(f"  {verdict:<10} {count}")
    if counts["mistakes"]:
        click.echo("mistakes:")
        for mistake_id, count in counts["mistakes"].items():
            click.echo(f"  {mistake_id:<22} {count}")
