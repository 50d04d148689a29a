"""Compile a standalone LaTeX document to PDF with latexmk, in a private work directory.

`generate` puts that directory inside its staging area in the output directory, so a run killed
with kill -9 leaves it where the next run finds and removes it (derive/files.py), not in /tmp.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import DeriveError, ToolMissingError

INSTALL_HINT = ("install TeX Live and latexmk (Debian: apt-get install texlive-latex-recommended "
                "texlive-latex-extra texlive-pictures texlive-xetex texlive-lang-chinese latexmk)")


class CompileError(DeriveError):
    """LaTeX refused a generated document: a bug in a template, reported with the log's first error."""

    exit_code = 4


def engine_flag(lang: str) -> tuple[str, str]:
    """(latexmk flag, engine binary): xelatex for Chinese (ctex needs Unicode fonts), pdflatex otherwise."""
    return ("-xelatex", "xelatex") if lang == "zh" else ("-pdf", "pdflatex")


def compile_pdf(tex_source: str, *, lang: str, jobname: str = "document", timeout: float = 180,
                workdir: Path | None = None) -> bytes:
    """The PDF bytes of `tex_source`; ToolMissingError when latexmk or the engine is absent.
    `workdir` (created, then removed) is where latexmk works; by default a private temporary directory."""
    flag, binary = engine_flag(lang)
    for tool in ("latexmk", binary):
        if shutil.which(tool) is None:
            raise ToolMissingError(f"{tool} not found; {INSTALL_HINT}")
    with (_own_directory(workdir) if workdir else tempfile.TemporaryDirectory(prefix="softmax-derive-")) as work:
        source = Path(work) / f"{jobname}.tex"
        source.write_text(tex_source, encoding="utf-8")
        try:
            result = subprocess.run(
                ["latexmk", flag, "-halt-on-error", "-no-shell-escape", "-interaction=nonstopmode", source.name],
                cwd=work, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise CompileError(f"LaTeX took longer than {timeout:g} s on {jobname}") from None
        pdf = source.with_suffix(".pdf")
        if result.returncode != 0 or not pdf.exists():
            raise CompileError(f"LaTeX failed on {jobname}: {first_error(source.with_suffix('.log'))}")
        return pdf.read_bytes()


@contextlib.contextmanager
def _own_directory(path: Path):
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def first_error(log: Path) -> str:
    """The first `! ...` line of a TeX log, the one that says what went wrong."""
    if not log.exists():
        return "no log written"
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("!"):
            return line[1:].strip()
    return "see the log"
