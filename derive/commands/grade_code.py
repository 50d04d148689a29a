"""`softmax-derive grade-code`: check one code file per student in DIR and write a report."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("grade-code")
@click.option("--target", "target", required=True,
              help="A derivation name (see `softmax-derive list`), or NAME:PART (linear-softmax-cross-entropy:b).")
@click.option("--function", "name", default=None, help="The function or class to check in every file.")
@click.option("--report", "report", type=click.Path(dir_okay=False), default=None,
              help="Report file, .csv or .json (default: DIR/code-report.csv).")
@click.option("--gradescope", "gradescope", type=click.Path(file_okay=False), default=None,
              help="Also write Gradescope's results.json for each student, as GRADESCOPE/STUDENT/results.json.")
@click.option("--run", "run", is_flag=True, help="Run code the static reader cannot follow (see check-code --run).")
@click.option("--signature", "signature", default=None, help="Roles of the parameters, as for check-code.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="One seed of the cases --run draws, for every file (default: a fresh one, printed).")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def grade_code(target, name, report, gradescope, run, signature, seed, directory) -> None:
    """Check every DIR/STUDENT.py (or DIR/STUDENT/<one .py>) against TARGET; print a summary."""
    from ..check.target import get as lookup
    from ..code.grading import grade_directory, submissions, summary, write_gradescope, write_report
    from ..code.signature import parse_signature
    from ..check.grading import report_format
    from ..check.points import fresh_seed
    from ..files import check_output_file
    from .progress import plural, progress

    lookup(target)
    source = Path(directory)
    destination = Path(report) if report else source / "code-report.csv"
    report_format(destination)  # a bad report path is refused before any file is checked
    check_output_file(destination)
    seed = fresh_seed() if seed is None else seed  # one seed for the class: equal files, equal verdicts
    with progress("checking", total=len(submissions(source))) as bar:
        results = grade_directory(source, target=target, name=name, run=run,
                                  signature=parse_signature(signature) if signature else {}, seed=seed,
                                  progress=lambda count: bar.advance(count=count))
    write_report(results, destination)
    if gradescope:
        write_gradescope(results, Path(gradescope), target)
    counts = summary(results)
    click.echo(f"{plural(counts['submissions'], 'submission')} checked against {target}; report: {destination}"
               + (f" (--seed {seed})" if run else ""))
    for verdict, count in counts["verdicts"].items():
        click.echo(f"  {verdict:<10} {count}")
    if counts["mistakes"]:
        click.echo("mistakes:")
        for mistake_id, count in counts["mistakes"].items():
            click.echo(f"  {mistake_id:<22} {count}")
