"""`generate` writes the documents it promises, atomically, and reports bad input in one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive import engine
from derive.cli_app import main
from derive.errors import ToolMissingError

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_default_formats_are_the_four_text_documents(tmp_path):
    result = run("generate", "--all", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4 * len(engine.names()) and not any(n.endswith(".pdf") for n in names)
    assert "softmax-jacobian.fragment.tex" in names and "cross-entropy-gradient.md" in names


def test_all_with_a_concrete_K_skips_what_does_not_support_it_with_a_note(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--all", "--K", "3", "--format", "json",
                                                       "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if not line.startswith("deriving ")]  # progress aside
    assert notes == ["skipped sigmoid-logistic-gradient: it supports only K = 2"]
    assert len(list(tmp_path.iterdir())) == len(engine.names()) - 1


def test_one_derivation_with_an_unsupported_K_is_an_error():
    result = run("generate", "sigmoid-logistic-gradient", "--K", "3", "--format", "json", "-o", "-")
    assert result.exit_code != 0 and "K = 2" in result.output


def test_D_and_N_reach_the_engine_and_give_explicit_matrices():
    import json
    out = run("generate", "batched-linear-softmax-cross-entropy", "--K", "2", "--D", "3", "--N", "4",
              "--format", "json", "-o", "-")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    latex = json.dumps(data)
    assert data["K"] == 2 and "W_{23}" in latex and "X_{43}" in latex  # K = 2, D = 3, N = 4 ...
    assert "W_{33}" not in latex and "W_{24}" not in latex and "X_{53}" not in latex  # ... and no more


def test_D_for_a_derivation_without_a_linear_layer_is_a_usage_error():
    result = run("generate", "softmax-vjp", "--K", "3", "--D", "2", "-o", "-")
    assert result.exit_code != 0
    assert "has no size D" in result.output


def test_stdout_prints_json_by_default_or_the_one_format_asked_for():
    assert run("generate", "softmax-jacobian", "-o", "-").output.startswith("{")
    markdown = run("generate", "softmax-jacobian", "--format", "markdown", "-o", "-").output
    assert markdown.startswith("# The Jacobian of the softmax function")


def test_chinese_goes_to_its_own_directory(tmp_path):
    assert run("generate", "softmax-jacobian", "-o", str(tmp_path)).exit_code == 0
    assert run("generate", "softmax-jacobian", "--lang", "zh", "-o", str(tmp_path)).exit_code == 0
    assert "softmax" in (tmp_path / "zh" / "softmax-jacobian.tex").read_text()
    assert "雅可比" in (tmp_path / "zh" / "softmax-jacobian.md").read_text()
    assert "雅可比" not in (tmp_path / "softmax-jacobian.md").read_text()


def test_label_prefix_reaches_every_label(tmp_path):
    assert run("generate", "softmax-jacobian", "--format", "fragment", "--label-prefix", "ch3", "-o",
               str(tmp_path)).exit_code == 0
    text = (tmp_path / "softmax-jacobian.fragment.tex").read_text()
    assert r"\label{ch3:eq1}" in text and r"\label{softmax" not in text


@pytest.mark.parametrize("args,message", [
    (("--label-prefix", "bad prefix"), "label prefix"),
    (("--lang", "fr"), "Invalid value"),
    (("--format", "pdf", "-o", "-"), "one text format"),
    (("--format", "latex", "--format", "json", "-o", "-"), "one text format"),
])
def test_bad_options_exit_2(args, message):
    result = run("generate", "softmax-jacobian", *args)
    assert result.exit_code == 2 and message in result.output


def test_failing_render_leaves_existing_files_intact(tmp_path, monkeypatch):
    from derive.render import documents
    target = tmp_path / "softmax-jacobian.json"
    target.write_text("old")
    real = documents.render

    def fail_on_markdown(derivation, fmt, **kw):
        if fmt == "markdown":
            raise ToolMissingError("simulated failure")
        return real(derivation, fmt, **kw)
    monkeypatch.setattr(documents, "render", fail_on_markdown)
    result = run("generate", "softmax-jacobian", "-o", str(tmp_path))
    assert result.exit_code == 5
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["softmax-jacobian.json"]


def test_pdf_without_tex_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda tool: None)
    result = run("generate", "softmax-jacobian", "--format", "pdf", "-o", str(tmp_path))
    assert result.exit_code == 5 and "install TeX Live" in result.output
    assert list(tmp_path.iterdir()) == []


def test_real_subprocess_writes_a_pdf(tmp_path):
    out = subprocess.run([sys.executable, "cli.py", "generate", "softmax-jacobian", "--format", "pdf",
                          "--format", "markdown", "-o", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "softmax-jacobian.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "softmax-jacobian.md").exists()


def test_notebook_display():
    """What Jupyter shows: IPython's formatters, registered by derive (the model imports no rendering)."""
    from IPython.core.interactiveshell import InteractiveShell
    import derive
    shell = InteractiveShell.instance()
    derive.load_ipython_extension(shell)
    data, _metadata = shell.display_formatter.format(derive.derive("softmax-jacobian"))
    assert data["text/latex"].startswith("$$") and r"\sigma_{i} \left(\delta_{ij}" in data["text/latex"]
    assert "# The Jacobian of the softmax function" in data["text/markdown"]


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    assert run("generate", "softmax-jacobian", "--format", "json", "-o", str(tmp_path)).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "softmax-jacobian.json").stat().st_mode & 0o777 == 0o666 & ~mask


def test_one_label_prefix_for_several_derivations_stays_unique(tmp_path):
    assert run("generate", "--all", "--format", "fragment", "--label-prefix", "notes", "-o", str(tmp_path)).exit_code == 0
    text = (tmp_path / "log-softmax-jacobian.fragment.tex").read_text()
    assert r"\label{notes-log-softmax-jacobian:eq1}" in text


def test_no_teaching_leaves_the_teaching_section_out():
    with_teaching = run("generate", "cross-entropy-gradient", "--format", "markdown", "-o", "-")
    bare = run("generate", "cross-entropy-gradient", "--format", "markdown", "-o", "-", "--no-teaching")
    assert with_teaching.exit_code == 0 and bare.exit_code == 0
    assert "## For teaching" in with_teaching.output and r"0.2 \\ -0.7 \\ 0.5" in with_teaching.output
    assert "## For teaching" not in bare.output and "## Computation graph" in bare.output
