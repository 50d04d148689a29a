"""compile_pdf: the preamble compiled once into a format gives the same pages as latexmk, and falls back safely."""
from __future__ import annotations

import subprocess

import pytest

import derive
from derive.render import pdf
from derive.render.documents import render


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A cache directory of the test's own: no format from an earlier run."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "softmax-derive" / "tex"


def _pages_as_text(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _source(name="softmax-jacobian", K=None) -> str:
    return render(derive.derive(name, K), "latex", lang="en")


def test_the_preloaded_preamble_gives_the_pages_latexmk_gives(cache, tmp_path):
    source = _source()
    fast = pdf.compile_pdf(source, lang="en", jobname="fast")
    assert len(list(cache.glob("preamble-*.fmt"))) == 1  # the format was built, and used
    work = tmp_path / "plain"
    work.mkdir()
    plain = pdf._compile_with_latexmk(work / "plain.tex", source, "-pdf", "plain", 180)
    assert _pages_as_text(fast, tmp_path, "fast") == _pages_as_text(plain, tmp_path, "plain")
    assert "\\csname endofdump" not in source  # the document a teacher gets is not marked


def test_documents_with_the_same_preamble_share_one_format(cache):
    pdf.compile_pdf(_source("softmax-jacobian"), lang="en", jobname="a")
    pdf.compile_pdf(_source("cross-entropy-gradient", 3), lang="en", jobname="b")
    assert len(list(cache.glob("preamble-*.fmt"))) == 1


def test_a_format_this_tex_refuses_is_replaced_by_latexmk_and_removed(cache, tmp_path):
    source = _source()
    pdf.compile_pdf(source, lang="en", jobname="first")
    (fmt,) = cache.glob("preamble-*.fmt")
    fmt.write_bytes(b"not a format")
    data = pdf.compile_pdf(source, lang="en", jobname="second")
    assert "The Jacobian of the softmax function" in _pages_as_text(data, tmp_path, "second")
    assert not fmt.exists()  # rebuilt on the next compile


def test_a_broken_document_is_still_reported_with_its_first_error(cache):
    broken = _source().replace("\\maketitle", "\\maketitle\n\\undefinedcommand")
    with pytest.raises(pdf.CompileError, match="Undefined control sequence"):
        pdf.compile_pdf(broken, lang="en", jobname="broken")
    assert len(list(cache.glob("preamble-*.fmt"))) == 1  # the format was not to blame: kept
