"""`softmax-derive check` on the command line: exit codes, JSON on stdout, text for people."""
from __future__ import annotations

import json

from click.testing import CliRunner

from derive.cli_app import main


def run(*args, **kwargs):
    return CliRunner().invoke(main, ["check", *args], **kwargs)


def test_exit_codes_follow_the_verdict():
    assert run("--target", "softmax-jacobian", r"\sigma_i(\delta_{ij}-\sigma_j)").exit_code == 0
    assert run("--target", "softmax-jacobian", r"\sigma_i(1-\sigma_j)").exit_code == 1
    assert run("--target", "softmax-jacobian", r"\sigma_i(").exit_code == 2


def test_classes_option_makes_a_sum_to_another_number_wrong():
    mnist = r"-\sum_{k=1}^{10} y_k (\delta_{ik} - \sigma_i)"
    assert run("--target", "cross-entropy-gradient", "--classes", "10", "--", mnist).exit_code == 0
    wrong = run("--target", "cross-entropy-gradient", "--classes", "9", "--format", "json", "--", mnist)
    assert wrong.exit_code == 1 and json.loads(wrong.stdout)["mistake"]["id"] == "class-count"
    assert run("--target", "cross-entropy-gradient", "--classes", "1", "--", mnist).exit_code == 2  # not a number of classes


def test_answer_starting_with_minus_after_double_dash():
    result = run("--target", "softmax-jacobian", "--format", "json", "--", r"-\sigma_i\sigma_j")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["mistake"]["id"] == "off-diagonal-only"


def test_text_output_shows_counterexample_and_mistake_without_colour():
    result = run("--target", "cross-entropy-gradient", r"\sigma_i - 1", env={"NO_COLOR": "1"})
    assert "INCORRECT" in result.stdout and "mistake: true-class-only" in result.stdout
    assert "sigma = (0.1, 0.2, 0.3, 0.4)" in result.stdout and "\x1b[" not in result.stdout


def test_file_input_with_a_derivation(tmp_path):
    path = tmp_path / "answer.tex"
    path.write_text("\\frac{\\partial \\sigma_i}{\\partial z_j} &= \\sigma_i\\delta_{ij} - \\sigma_i\\sigma_j \\\\\n"
                    "&= \\sigma_i(\\delta_{ij} + \\sigma_j)\n", encoding="utf-8")
    result = run("--target", "softmax-jacobian", "--format", "json", "--file", str(path))
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["first_wrong_line"] == 2
    assert data["lines"] == [{"line": 1, "verdict": "correct"}, {"line": 2, "verdict": "incorrect"}]


def test_invalid_input_one_line_on_stderr_and_json_on_stdout():
    result = run("--target", "softmax-jacobian", "--format", "json", "a\u202eb")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["verdict"] == "invalid"
    assert result.stderr.count("\n") == 1 and "column 2" in result.stderr


def test_unknown_target_and_missing_answer_are_usage_errors():
    assert run("--target", "nope", "x").exit_code == 2
    assert run("--target", "softmax-jacobian").exit_code == 2


def test_a_check_imports_only_what_it_needs(tmp_path):
    """A wrong answer to a stored target, or a right one in the target's own form, in a fresh process:
    no other command's module, no engine, no verifier (the first process of an installation builds
    the stored targets, the next reads them)."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    code = ("import sys; from click.testing import CliRunner; from derive.cli_app import main; "
            "from derive.check import target; "
            "r = CliRunner().invoke(main, ['check', '--target', 'softmax-jacobian', sys.argv[1]]); "
            "print(r.exit_code, *sorted(m for m in sys.modules if m.startswith(('derive.commands.', 'derive.engine', "
            "'derive.verify'))), *sorted(target.stored()._read))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent
    runs = [subprocess.run([sys.executable, "-c", code, r"\sigma_i(1-\sigma_j)"], cwd=root, env=env,
                           capture_output=True, text=True, check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == "1" and "derive.engine" in runs[0]  # built and stored
    # Only its own target is read back (a near mistake named it): not the others.
    assert runs[1] == ["1", "derive.commands.check", "softmax-jacobian"]
    # A right answer in the target's own form is proved without the verifier's rewriting.
    right = subprocess.run([sys.executable, "-c", code, r"\sigma_i(\delta_{ij}-\sigma_j)"], cwd=root, env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    assert right == ["0", "derive.commands.check", "softmax-jacobian"]
    # No near mistake: naming compares with every other derivation's result, all read back.
    none_near = subprocess.run([sys.executable, "-c", code, r"\sigma_i + \sigma_j"], cwd=root, env=env,
                               capture_output=True, text=True, check=True).stdout.split()
    from derive.catalog import MODULES
    from derive.check.target import PARTS
    every = len(MODULES) + sum(len(parts) for parts in PARTS.values())
    assert none_near[0] == "1" and len(none_near) == 2 + every and "cross-entropy-gradient" in none_near


def test_only_a_wrong_answer_imports_the_mistake_catalogue_and_the_step_diagnosis(tmp_path):
    """Naming a mistake and diagnosing a step are a wrong answer's work: a right answer's process never
    imports them (the first process of an installation builds the stored targets, the next reads them)."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    code = ("import sys; from click.testing import CliRunner; from derive.cli_app import main; "
            "r = CliRunner().invoke(main, ['check', '--target', 'softmax-jacobian', sys.argv[1]]); "
            "print(r.exit_code, *sorted(m for m in sys.modules if m in ('derive.check.mistakes', 'derive.check.steps')))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent

    def imported(answer: str) -> list:
        return subprocess.run([sys.executable, "-c", code, answer], cwd=root, env=env, capture_output=True,
                              text=True, check=True).stdout.split()
    assert imported(r"\sigma_i(1-\sigma_j)") == ["1", "derive.check.mistakes", "derive.check.steps"]
    assert imported(r"\sigma_i(\delta_{ij}-\sigma_j)") == ["0"]
    assert imported(r"\sigma_j(\delta_{ij}-\sigma_i)") == ["0"]  # proved by the verifier's rewriting


def test_a_check_process_freezes_what_it_imported_and_collects_nothing_at_exit():
    """The modules a check imports are frozen once imported (later collections skip them), and whatever
    is left when the process ends is frozen before the interpreter's last collections."""
    import subprocess
    import sys
    from pathlib import Path
    code = ("import atexit, gc, sys; from derive.cli_app import main\n"
            "atexit.register(lambda: print('exit', gc.get_freeze_count()))  # runs after the freeze main registers\n"
            "for _ in range(2):\n"
            "    try:\n        main(['check', '--target', 'softmax-jacobian', sys.argv[1]])\n"
            "    except SystemExit as end:\n"
            "        print('code', end.code, 'sympy' in sys.modules, gc.isenabled(), gc.get_freeze_count())\n")
    root = Path(__file__).resolve().parent.parent
    words = subprocess.run([sys.executable, "-c", code, r"\sigma_i(1-\sigma_j)"], cwd=root, capture_output=True,
                           text=True, check=True).stdout.split()
    first, second = (words[at:at + 5] for at in [i for i, word in enumerate(words) if word == "code"])
    assert first[:4] == second[:4] == ["code", "1", "True", "True"]  # checked, SymPy imported, the collector on
    after_check, again, at_exit = int(first[4]), int(second[4]), int(words[-1])
    assert after_check > 10_000  # SymPy's and the checker's objects
    assert again <= after_check  # nothing new imported the second time: nothing more frozen
    assert at_exit > after_check  # the verdicts' own objects too, frozen at exit


def test_the_catalogue_reads_every_constant_the_engine_modules_define():
    """catalog.py parses only each engine module's header: a constant it missed would differ from the module's."""
    import importlib
    from derive import catalog
    modules = [importlib.import_module(f"derive.engine.{module}") for module in catalog.MODULES]
    assert catalog.descriptions() == tuple((m.NAME, m.DESCRIPTION) for m in modules)
    assert catalog.size_limits() == {m.NAME: getattr(m, "FAST_SIZES", {}) for m in modules}
    assert any(catalog.size_limits().values())  # some derivation has limits, so the comparison can fail


def test_json_output_is_strict_json_when_the_answer_is_nan_at_the_counterexample():
    """y_a (y_l - y_m) is not a number at the counterexample: "got" is the string "nan", never a bare
    NaN, which JSON.parse and other strict readers refuse."""
    result = CliRunner().invoke(main, ["check", "--target", "cross-entropy-gradient", "--format", "json", "--seed", "1",
                                       "--", r"\sigma_i - y_i + y_a (y_l - y_m)"])
    def refuse(constant):
        raise ValueError(constant)
    data = json.loads(result.stdout, parse_constant=refuse)
    assert data["verdict"] == "incorrect" and data["counterexample"]["got"] == "nan"
