"""Generated documents against the real toolchain: latexmk (pdflatex / xelatex) and KaTeX in node."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

import derive
from derive import engine
from derive.render.documents import render
from derive.render.notation_input import notation_from
from derive.render.pdf import engine_flag
from doc_cases import compile_cases, katex_sizes

ROOT = Path(__file__).resolve().parent.parent
CASES = compile_cases()


def latexmk(directory: Path, source: str, *, lang: str) -> str:
    """Compile with latexmk (fails the test, never skips, when TeX is missing); returns the log."""
    flag, binary = engine_flag(lang)
    assert shutil.which("latexmk") and shutil.which(binary), f"latexmk/{binary} missing: run scripts/install-deps.sh"
    result = subprocess.run(["latexmk", flag, "-halt-on-error", "-no-shell-escape", "-interaction=nonstopmode",
                             source], cwd=directory, capture_output=True, text=True, timeout=300)
    log = (directory / Path(source).with_suffix(".log")).read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0, "\n".join(line for line in log.splitlines() if line.startswith("!"))
    return log


def assert_clean(log: str) -> None:
    assert "multiply defined" not in log
    assert not re.search(r"undefined (references|reference)|Reference `[^']*' on page \d+ undefined", log)


@pytest.mark.parametrize("name,K,lang", CASES, ids=[f"{n}-{K or 'sym'}-{l}" for n, K, l in CASES])
def test_standalone_latex_compiles_without_undefined_references(tmp_path, name, K, lang):
    (tmp_path / "doc.tex").write_text(render(derive.derive(name, K), "latex", lang=lang), encoding="utf-8")
    log = latexmk(tmp_path, "doc.tex", lang=lang)
    assert_clean(log)
    assert (tmp_path / "doc.pdf").stat().st_size > 10_000


def test_fragments_share_one_host_document_without_label_clashes(tmp_path):
    jacobian = derive.derive("softmax-jacobian")
    parts = {
        "a.tex": render(jacobian, "fragment", label_prefix="first"),
        "b.tex": render(jacobian, "fragment", label_prefix="second"),
        "c.tex": render(derive.derive("cross-entropy-gradient"), "fragment"),
    }
    for file, text in parts.items():
        code = "\n".join(line for line in text.splitlines() if not line.startswith("%"))
        assert r"\documentclass" not in code and r"\begin{document}" not in code and r"\usepackage" not in code
        assert not re.search(r"\\(re)?newcommand|\\def\\", code)
        assert re.search(r"^% .*\\usepackage\{amsmath,amssymb,mathtools,bm,listings\}", text, re.M)
        (tmp_path / file).write_text(text, encoding="utf-8")
    labels = [re.findall(r"\\label\{([^}]*)\}", text) for text in parts.values()]
    assert all(label.startswith("first:") for label in labels[0])
    assert all(label.startswith("cross-entropy-gradient:") for label in labels[2])
    host = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb,mathtools,bm,listings}\n\\begin{document}\n"
            "\\input{a}\n\\input{b}\n\\input{c}\nSee \\eqref{first:eq6} and \\eqref{second:eq6}.\n\\end{document}\n")
    (tmp_path / "host.tex").write_text(host, encoding="utf-8")
    assert_clean(latexmk(tmp_path, "host.tex", lang="en"))


def test_fragment_continues_the_host_equation_counter(tmp_path):
    """An \\input fragment numbers its equations after the host's and leaves the counter running (no reset)."""
    fragment = render(engine.build("cross-entropy-gradient", None), "fragment", label_prefix="ce")
    (tmp_path / "ce.tex").write_text(fragment, encoding="utf-8")
    labels = re.findall(r"\\label\{(ce:[^}]*)\}", fragment)
    assert len(labels) >= 5
    host = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb,mathtools,bm,listings}\n\\begin{document}\n"
            "\\begin{equation} a = b \\label{host:before} \\end{equation}\n\\input{ce}\n"
            "\\begin{equation} c = d \\label{host:after} \\end{equation}\n\\end{document}\n")
    (tmp_path / "host.tex").write_text(host, encoding="utf-8")
    assert_clean(latexmk(tmp_path, "host.tex", lang="en"))
    aux = (tmp_path / "host.aux").read_text(encoding="utf-8")
    number = {name: int(value) for name, value in re.findall(r"\\newlabel\{([^}]*)\}\{\{(\d+)\}", aux)}
    assert number["host:before"] == 1
    assert [number[label] for label in labels] == list(range(2, 2 + len(labels)))
    assert number["host:after"] == 2 + len(labels)


def math_spans(markdown: str) -> list[dict]:
    """Math exactly as a CommonMark + dollar-math renderer sees it."""
    parser = MarkdownIt("commonmark").use(dollarmath_plugin, double_inline=True)
    spans = []

    def walk(tokens):
        for token in tokens:
            if token.type in ("math_inline", "math_inline_double", "math_block", "math_block_label"):
                spans.append({"tex": token.content, "display": token.type != "math_inline"})
            if token.children:
                walk(token.children)
    walk(parser.parse(markdown))
    return spans


def test_every_markdown_math_span_renders_in_katex():
    notations = [notation_from(), notation_from(flags=["probs=p", "logits=a", "targets=t", r"loss=\mathcal{L}",
                                                      "vector=arrow", "delta=indicator"])]
    spans, documents = [], 0
    for name in engine.names():
        for K in katex_sizes(name):
            for lang in ("en", "zh"):
                for notation in notations:
                    documents += 1
                    text = render(derive.derive(name, K), "markdown", lang=lang, notation=notation)
                    found = math_spans(text)
                    assert len(found) >= 8 and all(r"\label" not in s["tex"] and r"\eqref" not in s["tex"]
                                                   for s in found)
                    assert all(r"\tag" not in s["tex"] for s in found if not s["display"])
                    spans += found
    assert shutil.which("node") and (ROOT / "node_modules" / "katex").is_dir(), "run npm ci (scripts/install-deps.sh)"
    result = subprocess.run(["node", str(ROOT / "scripts" / "katex_check.mjs")], input=json.dumps(spans),
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    failures = json.loads(result.stdout)
    assert failures == [], [(spans[f["index"]]["tex"][:80], f["error"]) for f in failures[:5]]
    assert documents == sum(len(katex_sizes(name)) for name in engine.names()) * 2 * 2


def test_katex_check_reports_a_broken_span():
    """The KaTeX harness can fail: an unknown command is reported, not swallowed."""
    spans = [{"tex": r"\frac{a}{b}", "display": False}, {"tex": r"\notacommand{x}", "display": True}]
    result = subprocess.run(["node", str(ROOT / "scripts" / "katex_check.mjs")], input=json.dumps(spans),
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert [f["index"] for f in json.loads(result.stdout)] == [1]


def test_markdown_escapes_literal_dollars_in_prose():
    from derive.render.escape import markdown_text
    spans = math_spans("costs " + markdown_text("$5 and $6") + " today")
    assert spans == []


def test_big_K_documents_elide_matrices_and_say_so():
    text = render(derive.derive("softmax-jacobian", 9), "latex")
    assert r"\ddots" in text and "only the corners" in text
    assert r"\sigma_{5}" not in text  # the middle rows and columns are not printed


def test_chinese_fragments_in_a_ctex_host(tmp_path):
    for file, name, prefix in (("a.tex", "softmax-jacobian", "zh-a"), ("b.tex", "log-softmax-jacobian", None)):
        (tmp_path / file).write_text(render(derive.derive(name), "fragment", lang="zh", label_prefix=prefix),
                                     encoding="utf-8")
    host = ("\\documentclass{ctexart}\n\\usepackage{amsmath,amssymb,mathtools,bm,listings}\n\\begin{document}\n"
            "\\input{a}\n\\input{b}\n见式 \\eqref{zh-a:eq6}。\n\\end{document}\n")
    (tmp_path / "host.tex").write_text(host, encoding="utf-8")
    assert_clean(latexmk(tmp_path, "host.tex", lang="zh"))
