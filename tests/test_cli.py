"""The command line: exit codes, one-line errors, real output files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_list_names_every_derivation():
    result = run("list")
    assert result.exit_code == 0
    for name in ("softmax-jacobian", "log-softmax-jacobian", "cross-entropy-gradient"):
        assert name in result.output


def test_list_states_each_derivations_size_limits_as_the_engine_enforces_them():
    from derive.engine import lookup
    from derive.catalog import descriptions
    lines = run("list").output.splitlines()
    for name, _description in descriptions():
        line = next(line for line in lines if line.split()[0] == name)
        limits = lookup(name).fast_sizes
        for label, value in limits:
            assert f"{label} <= {value}" in line, line
        assert ("concrete sizes:" in line) == bool(limits), line


def test_generate_json_to_stdout_follows_the_contract():
    result = run("generate", "softmax-jacobian", "--format", "json", "-o", "-")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) >= {"name", "K", "assumptions", "steps", "result"}
    assert data["K"] == "symbolic"
    for step in data["steps"]:
        assert set(step) >= {"lhs", "rhs", "justification", "verified"}
        assert set(step["verified"]) == {"symbolic", "numeric_max_abs_error", "points"}
        assert step["verified"]["numeric_max_abs_error"] < 1e-25
    assert "Indexed(IndexedBase(Symbol('sigma'))" in data["result"]["sympy"]


def test_generate_concrete_K_writes_a_file(tmp_path):
    result = run("generate", "cross-entropy-gradient", "--K", "3", "-o", str(tmp_path))
    assert result.exit_code == 0
    data = json.loads((tmp_path / "cross-entropy-gradient.json").read_text())
    assert data["K"] == 3
    assert data["result"]["sympy"].startswith("ImmutableDenseMatrix") or data["result"]["sympy"].startswith("MutableDenseMatrix")


@pytest.mark.parametrize("args, message", [
    (("generate", "no-such"), "unknown derivation"),
    (("generate", "softmax-jacobian", "--K", "1"), "at least 2"),
    (("generate", "softmax-jacobian", "--K", "2.5"), "integer"),
    (("generate", "softmax-jacobian", "--K", "abc"), "integer"),
    (("generate",), "name a derivation"),
    (("verify", "no-such"), "unknown derivation"),
])
def test_bad_arguments_give_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_verify_prints_a_table_and_exits_0():
    result = run("verify", "log-softmax-jacobian", "--max-K", "3")
    assert result.exit_code == 0, result.output
    assert "all steps verified" in result.output
    assert result.output.count(" ok") == 3  # symbolic, K=2, K=3


def test_verify_in_its_own_process_at_mpmath_default_precision():
    """The tests run at 50 digits (conftest); the command starts at mpmath's default 15, where a
    number compiled before the verifier raised the precision was once 1e-17 off (label smoothing at
    K = 3 and 5 failed in the shell, passed here)."""
    out = subprocess.run([sys.executable, "cli.py", "verify", "label-smoothing-gradient", "--max-K", "5"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.stdout.count(" ok") == 5  # symbolic, K = 2..5


def test_python_cli_py_runs_as_a_script():
    out = subprocess.run([sys.executable, "cli.py", "list"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "softmax-jacobian" in out.stdout


def test_unknown_name_in_a_real_process_has_no_traceback():
    out = subprocess.run([sys.executable, "cli.py", "generate", "nope"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error:")
    assert "Traceback" not in out.stderr


def test_catalog_agrees_with_the_registry():
    """`list` reads names and descriptions without importing SymPy; they must be the registry's."""
    from derive.catalog import descriptions
    from derive.engine import REGISTRY
    assert descriptions() == tuple((e.name, e.description) for e in REGISTRY.values())


def test_list_does_not_import_sympy():
    code = "import sys; from cli import cli; from click.testing import CliRunner; " \
           "r = CliRunner().invoke(cli, ['list']); assert r.exit_code == 0; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("args, size", [
    (("generate", "batched-linear-softmax-cross-entropy", "--K", "4", "--N", "64", "-o", "-"), "N = 64"),
    (("generate", "linear-softmax-cross-entropy", "--K", "4", "--D", "64", "-o", "-"), "D = 64"),
])
def test_a_size_not_fast_yet_is_refused_at_once_with_exit_6(args, size):
    result = run(*args)
    assert result.exit_code == 6, result.output
    assert f"{size} is not fast yet" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_generate_all_skips_a_size_not_fast_yet_and_says_so(tmp_path, monkeypatch):
    # Every derivation takes every K now: the Hessian's old limit, K <= 8, is put back for the test.
    import dataclasses
    from derive import engine
    real_lookup = engine.lookup
    lowered = dataclasses.replace(real_lookup("cross-entropy-hessian"), fast_sizes=(("K", 8),))
    monkeypatch.setattr(engine, "lookup", lambda name: lowered if name == "cross-entropy-hessian" else real_lookup(name))
    result = run("generate", "--all", "--K", "20", "--format", "json", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "skipped cross-entropy-hessian: not fast yet" in result.output
    written = {path.name for path in tmp_path.iterdir()}
    assert "softmax-jacobian.json" in written and "cross-entropy-hessian.json" not in written
    for fast in ("softmax-vjp", "label-smoothing-gradient", "logsumexp-gradient",  # every K (verify.concrete)
                 "linear-softmax-cross-entropy", "batched-linear-softmax-cross-entropy"):
        assert f"{fast}.json" in written


def test_verify_skips_the_sizes_not_fast_yet_and_says_so(monkeypatch):
    # A limit lowered to K <= 3 keeps the test to three cheap verifications (K = 2..16 took 48 s).
    import dataclasses
    from derive import engine
    real_lookup = engine.lookup
    lowered = dataclasses.replace(real_lookup("softmax-vjp"), fast_sizes=(("K", 3),))
    monkeypatch.setattr(engine, "lookup", lambda name: lowered if name == "softmax-vjp" else real_lookup(name))
    result = run("verify", "softmax-vjp", "--max-K", "5")
    assert result.exit_code == 0, result.output
    assert "skipped softmax-vjp at K > 3: not fast yet" in result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("softmax-vjp ")]
    assert [row[1] for row in rows] == ["symbolic", "2", "3"]
