"""Progress goes to stderr only: plain lines when stderr is not a terminal, a rich bar when it is;
stdout keeps only the command's data (the verify table, the generated files)."""
from __future__ import annotations

import io

from click.testing import CliRunner

from derive.cli_app import main
from derive.commands.progress import PLAIN_LINES_MAX, progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_one_per_item_when_few():
    stream = io.StringIO()
    with progress("verifying", total=3, stream=stream) as bar:
        for name in ("a", "b", "c"):
            bar.start(name)
            bar.advance(name)
    assert stream.getvalue().splitlines() == ["verifying 1/3 a", "verifying 2/3 b", "verifying 3/3 c"]


def test_plain_lines_per_tenth_when_many():
    stream, total = io.StringIO(), PLAIN_LINES_MAX * 20
    with progress("checking", total=total, stream=stream) as bar:
        for _ in range(total):
            bar.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1] == f"checking {total}/{total}"


def test_terminal_gets_a_rich_bar_that_goes_away(capsys):
    stream = _Terminal()
    with progress("deriving", total=2, stream=stream) as bar:
        bar.advance("softmax-jacobian")
        bar.advance("cross-entropy-gradient")
    assert stream.getvalue()  # the bar was drawn on the terminal stream
    assert capsys.readouterr().out == ""


def test_verify_prints_the_table_on_stdout_and_progress_on_stderr():
    result = CliRunner().invoke(main, ["verify", "cross-entropy-gradient", "--max-K", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("derivation")
    assert "verifying" not in result.stdout
    assert result.stderr.splitlines() == ["verifying 1/2 cross-entropy-gradient K=symbolic",
                                          "verifying 2/2 cross-entropy-gradient K=2"]


def test_verify_table_keeps_its_columns_for_long_names():
    # 36 characters: the old fixed 26-character column pushed every later column right.
    result = CliRunner().invoke(main, ["verify", "batched-linear-softmax-cross-entropy", "--max-K", "2"])
    assert result.exit_code == 0, result.output
    header, _rule, *rows, _summary = result.stdout.splitlines()
    status_column = header.index("status")
    assert len(rows) == 2 and all(row[status_column:].startswith("ok") for row in rows)


def test_generate_reports_progress_on_stderr_only(tmp_path):
    names = ["cross-entropy-gradient", "logsumexp-gradient"]
    result = CliRunner().invoke(main, ["generate", *names, "--format", "json", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(tmp_path / f"{name}.json") for name in names]
    assert result.stderr.splitlines() == ["deriving 1/2 cross-entropy-gradient", "deriving 2/2 logsumexp-gradient"]


def test_generate_one_derivation_prints_no_progress():
    result = CliRunner().invoke(main, ["generate", "cross-entropy-gradient", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.startswith("{")


def test_each_verified_step_is_reported_to_the_listener_of_its_context():
    """Both strategies (generic for symbolic K, concrete over S) tell the listener after each step."""
    from derive import engine
    from derive.verify import verify_derivation
    from derive.verify.reporting import steps_reported
    for K in (None, 5):
        derivation = engine.build("cross-entropy-gradient", K)
        heard = []
        with steps_reported(lambda done, total: heard.append((done, total))):
            verify_derivation(derivation)
        steps = len(derivation.steps)
        assert heard == [(done, steps) for done in range(1, steps + 1)]
    heard.clear()
    verify_derivation(engine.build("cross-entropy-gradient", 5))  # outside the block: nobody is told
    assert heard == []


def test_one_derivation_shows_its_steps_on_a_terminal_and_nothing_in_a_log():
    from derive.commands.progress import steps_of_one
    terminal = _Terminal()
    with steps_of_one("deriving softmax-jacobian", stream=terminal) as listener:
        listener(1, 6)
        listener(6, 6)
    assert "deriving softmax-jacobian" in terminal.getvalue() and "6/6" in terminal.getvalue()
    log = io.StringIO()
    with steps_of_one("deriving softmax-jacobian", stream=log) as listener:
        listener(1, 6)
    assert log.getvalue() == ""
