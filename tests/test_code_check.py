"""check-code and grade-code: the static reader's whitelist, the sandbox's limits, the CLI contract."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.cli_app import main
from derive.code import sandbox
from derive.code.api import check_file
from derive.code.static import check_static

VJP = """import numpy as np

def softmax_vjp(z, g):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    s = e / np.sum(e, axis=-1, keepdims=True)
    return s * (g - np.sum(g * s, axis=-1, keepdims=True))
"""


def write(tmp_path: Path, text: str, name: str = "code.py") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_static_path_never_executes_the_file(tmp_path):
    marker = tmp_path / "executed"
    source = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(9)\n" + VJP
    verdict = check_static(source, target="softmax-vjp")
    assert verdict.verdict == "correct" and verdict.static
    assert not marker.exists()


@pytest.mark.parametrize("line, construct", [
    ("    s = np.where(True, z, 0)", "call to numpy.where"),
    ("    s = z > 0", "expression Compare"),
    ("    s = [v for v in z]", "expression ListComp"),
    ("    while True:\n        pass", "statement While"),
    ("    s = eval('z')", "the name 'eval'"),
    ("    s = __import__('os')", "the name '__import__'"),
])
def test_outside_the_whitelist_is_reported_with_line_and_column(line, construct):
    source = "import numpy as np\n\ndef softmax_vjp(z, g):\n" + line + "\n    return z\n"
    verdict = check_static(source, target="softmax-vjp")
    assert verdict.verdict == "unreadable" and verdict.exit_code == 2
    assert "line 4, column" in verdict.message and construct in verdict.message


def test_a_loop_built_jacobian_reads_as_one_entry_formula():
    source = """import numpy as np

def jacobian(s):
    J = np.zeros((len(s), len(s)))
    for i in range(len(s)):
        for j in range(len(s)):
            if i != j:
                J[i, j] = -s[i] * s[j]
            else:
                J[i, j] = s[i] - s[i] ** 2
    return J
"""
    verdict = check_static(source, target="softmax-jacobian")
    assert verdict.verdict == "correct" and "for every K" in verdict.message


def test_an_accumulating_loop_is_a_sum():
    source = """import numpy as np

def softmax_vjp(s, g):
    dot = 0
    for k in range(len(s)):
        dot += g[k] * s[k]
    return s * (g - dot)
"""
    assert check_static(source, target="softmax-vjp").verdict == "correct"
    wrong = source.replace("dot += g[k] * s[k]", "dot += g[k]")
    verdict = check_static(wrong, target="softmax-vjp")
    assert verdict.verdict == "incorrect" and verdict.counterexample["inputs"]["g"]


def test_static_instability_names_the_line():
    source = VJP.replace("np.exp(z - np.max(z, axis=-1, keepdims=True))", "np.exp(z)")
    verdict = check_static(source, target="softmax-vjp")
    assert verdict.verdict == "unstable" and verdict.unstable and verdict.exit_code == 1
    assert verdict.counterexample["line"] == 4 and "overflows" in verdict.counterexample["reason"]


def test_unknown_parameter_names_ask_for_a_signature(tmp_path):
    path = write(tmp_path, VJP.replace("(z, g)", "(foo, g)").replace("np.max(z", "np.max(foo").replace(
        "exp(z -", "exp(foo -"))
    with pytest.raises(Exception, match="--signature foo=ROLE"):
        check_file(str(path), target="softmax-vjp")
    verdict = check_file(str(path), target="softmax-vjp", signature={"foo": "logits"})
    assert verdict.verdict == "correct"


# --- the sandbox --------------------------------------------------------------------------------------------------

def test_run_does_not_inherit_the_environment_or_the_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAX_DERIVE_SECRET", "hunter2")
    monkeypatch.chdir(tmp_path)
    body = VJP.replace("    e = np.exp", "    import os\n    assert 'SOFTMAX_DERIVE_SECRET' not in os.environ\n"
                                          "    open('written-here', 'w').close()\n    e = np.exp")
    path = write(tmp_path, body.replace("np.sum(g * s", "np.sum(np.where(True, g, g) * s"))
    verdict = check_file(str(path), target="softmax-vjp", run=True)
    assert verdict.verdict == "correct" and not verdict.static
    assert not (tmp_path / "written-here").exists()


def test_run_stops_at_the_cpu_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "CPU_SECONDS", 1)
    path = write(tmp_path, "import numpy as np\n\ndef softmax_vjp(z, g):\n    while True:\n        pass\n")
    verdict = check_file(str(path), target="softmax-vjp", run=True)
    assert verdict.verdict == "unreadable" and "without an answer" in verdict.message


def test_run_stops_at_the_file_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "FILE_BYTES", 1024)
    source = ("import numpy as np\n\ndef softmax_vjp(z, g):\n    open('big', 'w').write('x' * 100000)\n"
              "    return np.where(True, g, g)\n")
    verdict = check_file(str(write(tmp_path, source)), target="softmax-vjp", run=True)
    assert verdict.verdict == "unreadable"


def test_run_finds_the_overflow_with_the_input_that_broke_it(tmp_path):
    source = VJP.replace("np.exp(z - np.max(z, axis=-1, keepdims=True))", "np.exp(np.where(True, z, z))")
    verdict = check_file(str(write(tmp_path, source)), target="softmax-vjp", run=True)
    assert verdict.verdict == "unstable" and not verdict.static
    assert max(abs(v) for v in verdict.counterexample["inputs"]["z"]) > 900


# --- the command line ----------------------------------------------------------------------------------------------

def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_check_code_json_contract_and_exit_codes(tmp_path):
    right = write(tmp_path, VJP, "right.py")
    wrong = write(tmp_path, VJP.replace(" - np.sum(g * s, axis=-1, keepdims=True)", ""), "wrong.py")
    unreadable = write(tmp_path, VJP.replace("np.exp", "np.sinh"), "unreadable.py")
    result = invoke("check-code", "--target", "softmax-vjp", "--format", "json", str(right))
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert set(payload) == {"verdict", "static", "unstable", "mistake", "counterexample", "message", "seed"}
    result = invoke("check-code", "--target", "softmax-vjp", "--format", "json", f"{wrong}:softmax_vjp")
    assert result.exit_code == 1 and json.loads(result.stdout)["mistake"]["id"] == "missing-dot-product"
    result = invoke("check-code", "--target", "softmax-vjp", str(unreadable))
    assert result.exit_code == 2 and "not read statically" in result.stderr
    assert invoke("check-code", "--target", "no-such-target", str(right)).exit_code == 2
    assert invoke("check-code", "--target", "softmax-vjp", str(tmp_path / "missing.py")).exit_code == 2


def test_grade_code_writes_csv_json_and_gradescope(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    write(submissions, VJP, "alice.py")
    write(submissions, VJP.replace("g - np.sum", "g + np.sum"), "bob.py")
    (submissions / "carol").mkdir()
    write(submissions / "carol", VJP.replace("np.exp", "np.sinh"), "main.py")
    report, gradescope = tmp_path / "report.json", tmp_path / "gradescope"
    result = invoke("grade-code", "--target", "softmax-vjp", "--report", str(report), "--gradescope", str(gradescope),
                    str(submissions))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["checking 1/3", "checking 2/3", "checking 3/3"]  # progress: stderr only
    assert result.stdout.startswith("3 submissions checked against softmax-vjp")
    rows = {row["student"]: row for row in json.loads(report.read_text())}
    assert rows["alice"]["verdict"] == "correct" and rows["bob"]["mistake"] == "term-sign"
    assert rows["carol"]["verdict"] == "unreadable"
    alice = json.loads((gradescope / "alice" / "results.json").read_text())
    assert alice["score"] == 1.0 and alice["tests"][0]["status"] == "passed"
    assert json.loads((gradescope / "bob" / "results.json").read_text())["tests"][0]["status"] == "failed"
    csv_report = tmp_path / "report.csv"
    invoke("grade-code", "--target", "softmax-vjp", "--report", str(csv_report), str(submissions))
    header = csv_report.read_text().splitlines()[0]
    assert header == '"student","file","verdict","static","unstable","mistake","message"'


def test_grade_code_report_neutralises_formula_cells_and_is_checked_first(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "=cmd.py").write_text("import numpy as np\ndef vjp(s, g):\n    return s * g\n")
    report = tmp_path / "report.csv"
    invoke("grade-code", "--target", "softmax-vjp", "--report", str(report), str(submissions))
    assert "\"'=cmd\"" in report.read_text()
    refused = CliRunner().invoke(main, ["grade-code", "--target", "softmax-vjp", "--report",
                                        str(tmp_path / "report.txt"), str(submissions)])
    assert refused.exit_code == 2 and "must end in .csv or .json" in refused.output


# --- hostile code -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, reason", [
    ("import numpy as np\ndef f(s):\n" + "    s = np.outer(s, s) @ s\n" * 30 + "    return s\n", "nodes"),
    ("def f(s):\n    return g(s)\ndef g(s):\n    return f(s)\n", "nested too deeply"),
    ("def f(s):\n    return s ** 1000000\n", "small whole number"),
    ("def f(s):\n    return s * 12345678901\n", "integer beyond"),
    ("def f(s):\n    return s * 1e308\n", "float constant beyond"),
    ("def f(s):\n    return " + "(" * 300 + "s" + ")" * 300 + "\n", "syntax error"),
])
def test_hostile_code_is_refused_in_bounded_work(source, reason):
    verdict = check_static(source, target="softmax-vjp", name="f")
    assert verdict.verdict == "unreadable" and reason in verdict.message


def test_mutated_corpus_code_gives_a_verdict_never_a_traceback():
    """Token-level mutations of every corpus file (fixed seed): a verdict or a DeriveError, nothing else."""
    import ast
    import random

    from derive.errors import DeriveError
    rng = random.Random(7)
    tokens = ["0", "-1", "None", "True", "z", "s", "g", "np.sum(z)", "(z, g)", "z[0]", "z[:, None]", "axis=0",
              "len(z)", "range(3)", "i", "[]", "z.T", "1.5", "**", "@", "self", ""]
    checked = 0
    for path in sorted((Path(__file__).parent / "data" / "backward_code").glob("*.py")):
        words = path.read_text().split(" ")
        for _ in range(10):
            mutated = list(words)
            for _ in range(rng.randint(1, 3)):
                mutated[rng.randrange(len(mutated))] = rng.choice(tokens)
            text = " ".join(mutated)
            try:
                ast.parse(text)
            except SyntaxError:
                continue
            try:
                verdict = check_static(text, target="softmax-vjp")
            except DeriveError:
                continue
            assert verdict.verdict in ("correct", "incorrect", "unstable", "unreadable", "undecided")
            checked += 1
    assert checked >= 30  # the others are syntax errors or name no parameter role


def test_a_name_set_in_both_branches_is_merged_and_in_one_branch_is_refused():
    both = """import numpy as np

def softmax_grad(s):
    J = np.zeros((len(s), len(s)))
    for i in range(len(s)):
        for j in range(len(s)):
            if i == j:
                v = s[i] * (1 - s[i])
            else:
                v = -s[i] * s[j]
            J[i, j] = v
    return J
"""
    assert check_static(both, target="softmax-jacobian").verdict == "correct"
    one = both.replace("            else:\n                v = -s[i] * s[j]\n", "")
    verdict = check_static(one, target="softmax-jacobian")
    assert verdict.verdict == "unreadable" and "line 9" in verdict.message


@pytest.mark.parametrize("call", ["np.exp(z, out=z)", "np.sum(z, axis=-1, where=z > 0)", "np.diag(z, 1)",
                                  "np.exp(z, z)", "z.sum(-1, True, 3)"])
def test_arguments_that_would_change_the_result_unseen_are_refused(call):
    source = f"import numpy as np\n\ndef softmax_vjp(z, g):\n    e = {call}\n    return e\n"
    verdict = check_static(source, target="softmax-vjp")
    assert verdict.verdict == "unreadable" and "line 4" in verdict.message


def test_code_for_one_example_is_not_held_to_batches_but_code_for_rows_is():
    one = ("import numpy as np\n\ndef softmax_vjp(z, g):\n    e = np.exp(z - np.max(z, axis=0, keepdims=True))\n"
           "    s = e / e.sum(axis=0, keepdims=True)\n    return s * (g - np.sum(g * s, axis=0, keepdims=True))\n")
    assert check_static(one, target="softmax-vjp").verdict == "correct"
    rows = one.replace("axis=0", "axis=-1").replace("np.sum(g * s, axis=-1, keepdims=True)", "np.sum(g * s, axis=-1)")
    verdict = check_static(rows, target="softmax-vjp")
    assert verdict.verdict == "incorrect" and verdict.mistake.id == "shape" and "on a batch" in verdict.message


def test_a_batch_gradient_scaled_by_n_in_one_term_only_is_wrong():
    source = """import numpy as np

def ce(logits, labels):
    N = logits.shape[0]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(N), labels] -= 1{mean}
    return p{total}
"""
    assert check_static(source.format(mean="", total=" / N"), target="cross-entropy-gradient").verdict == "correct"
    verdict = check_static(source.format(mean=" / N", total=""), target="cross-entropy-gradient")
    assert verdict.verdict == "incorrect" and "batch size N" in verdict.message
