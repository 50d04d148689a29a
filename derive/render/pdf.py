"""Compile a standalone LaTeX document to PDF, in a private work directory.

`generate` puts that directory inside its staging area in the output directory, so a run killed
with kill -9 leaves it where the next run finds and removes it (derive/files.py), not in /tmp.

Every English document starts with the same preamble (the packages, up to \\title), and loading
it (TikZ above all) is most of a pdflatex run: 0.18 of 0.22 s. So it is compiled once into a
format with mylatexformat (TeX Live's latex-extra) and kept in the user's cache directory; each
document then runs pdflatex with that format, rerun while LaTeX asks for it. Anything unusual (no
cache directory, no mylatexformat, xelatex for Chinese, a format this TeX refuses, a compile that
fails) takes latexmk, the plain way, which also reports the error of a document that is wrong.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import DeriveError, ToolMissingError
from ..files import cache_folder

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
    """The PDF bytes of `tex_source`; ToolMissingError when latexmk or the engine is absent,
    CompileError when LaTeX refuses the document. `workdir` (created, then removed) is where LaTeX
    works; by default a private temporary directory."""
    flag, binary = engine_flag(lang)
    for tool in ("latexmk", binary):
        if shutil.which(tool) is None:
            raise ToolMissingError(f"{tool} not found; {INSTALL_HINT}")
    with (_own_directory(workdir) if workdir else tempfile.TemporaryDirectory(prefix="softmax-derive-")) as work:
        source = Path(work) / f"{jobname}.tex"
        preloaded = _with_preloaded_preamble(tex_source, timeout) if binary == "pdflatex" else None
        if preloaded is not None:
            pdf = _compile_with_format(source, *preloaded, timeout)
            if pdf is not None:
                return pdf
        try:
            return _compile_with_latexmk(source, tex_source, flag, jobname, timeout)
        finally:
            if preloaded is not None and source.with_suffix(".pdf").exists():
                preloaded[0].unlink(missing_ok=True)  # latexmk made it: the format was at fault


def _compile_with_latexmk(source: Path, tex_source: str, flag: str, jobname: str, timeout: float) -> bytes:
    """The plain way: latexmk runs the engine as often as the document needs."""
    source.write_text(tex_source, encoding="utf-8")
    try:
        result = subprocess.run(
            ["latexmk", flag, "-halt-on-error", "-no-shell-escape", "-interaction=nonstopmode", source.name],
            cwd=source.parent, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CompileError(f"LaTeX took longer than {timeout:g} s on {jobname}") from None
    pdf = source.with_suffix(".pdf")
    if result.returncode != 0 or not pdf.exists():
        raise CompileError(f"LaTeX failed on {jobname}: {first_error(source.with_suffix('.log'))}")
    return pdf.read_bytes()


# What LaTeX writes to its log when the references are not settled yet.
_RERUN = re.compile(r"Rerun to get|There were undefined references")
_MOST_RUNS = 4
_PREAMBLE_END = "\\title{"  # the first line that differs between documents (article.tex.j2)


def _with_preloaded_preamble(tex_source: str, timeout: float) -> tuple[Path, str] | None:
    """(the format holding the document's preamble, the source marked where the format ends), or
    None when there is no such format to be had."""
    head, marker, rest = tex_source.partition("\n" + _PREAMBLE_END)
    if not marker:
        return None
    preamble = "".join(line + "\n" for line in head.splitlines() if not line.startswith("%"))
    fmt = _preamble_format(preamble, timeout)
    if fmt is None:
        return None
    # With the format, pdflatex skips the source up to this line; without it, it is \relax.
    return fmt, head + "\n\\csname endofdump\\endcsname" + marker + rest


def _compile_with_format(source: Path, fmt: Path, marked_source: str, timeout: float) -> bytes | None:
    """The PDF, or None when pdflatex with the format failed (the caller then takes latexmk)."""
    source.write_text(marked_source, encoding="utf-8")
    command = ["pdflatex", f"-fmt={fmt.with_suffix('')}", "-halt-on-error", "-no-shell-escape",
               "-interaction=nonstopmode", source.name]
    log = source.with_suffix(".log")
    try:
        for _ in range(_MOST_RUNS):
            result = subprocess.run(command, cwd=source.parent, capture_output=True, timeout=timeout, check=False)
            if result.returncode != 0:
                break
            if not _RERUN.search(log.read_text(encoding="utf-8", errors="replace")):
                return source.with_suffix(".pdf").read_bytes()
    except (subprocess.TimeoutExpired, OSError):
        pass
    for leftover in source.parent.iterdir():
        leftover.unlink()  # latexmk starts afresh
    return None


def _preamble_format(preamble: str, timeout: float) -> Path | None:
    """~/.cache/softmax-derive/tex/preamble-HASH.fmt for this preamble and this pdflatex, built on
    first use (written whole or not at all); None without a cache directory or mylatexformat."""
    folder, engine = cache_folder("tex"), _pdflatex_version()
    if folder is None or engine is None:
        return None
    digest = hashlib.sha256(f"{engine}\n{preamble}".encode()).hexdigest()[:16]
    fmt = folder / f"preamble-{digest}.fmt"
    if fmt.exists():
        return fmt
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as build:
        (Path(build) / "preamble.tex").write_text(preamble + "\\begin{document}\\end{document}\n", encoding="utf-8")
        try:
            subprocess.run(["pdflatex", "-ini", "-interaction=nonstopmode", "-no-shell-escape", "-jobname=preamble",
                            "&pdflatex", "mylatexformat.ltx", "preamble.tex"],
                           cwd=build, capture_output=True, timeout=timeout, check=False)
            os.replace(Path(build) / "preamble.fmt", fmt)
        except (subprocess.TimeoutExpired, OSError):
            return None
    return fmt


@functools.lru_cache(maxsize=1)
def _pdflatex_version() -> str | None:
    """pdflatex's version line (a format works only with the TeX that made it), or None without
    mylatexformat."""
    try:
        if subprocess.run(["kpsewhich", "mylatexformat.ltx"], capture_output=True, check=False).returncode != 0:
            return None
        return subprocess.run(["pdflatex", "--version"], capture_output=True, text=True,
                              check=False).stdout.partition("\n")[0] or None
    except OSError:
        return None


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
