"""Notation changes printing only: symbols move, the JSON's canonical sympy stays; bad notations are refused."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import derive
from derive.cli_app import main
from derive.errors import NotationError
from derive.render.notation import make_notation
from derive.render.notation_input import notation_from
from derive.render.printer import to_latex
from derive.render.serialize import to_dict

TEXTBOOK = ["probs=p", "logits=a", "targets=t", r"loss=\mathcal{L}"]


def test_p_a_t_notation_changes_latex_but_not_sympy():
    d = derive.derive("cross-entropy-gradient")
    default, other = to_dict(d), to_dict(d, notation_from(flags=TEXTBOOK))
    assert default["result"]["sympy"] == other["result"]["sympy"]
    assert default["result"]["latex"] == r"\frac{\partial L}{\partial z_{i}} = \sigma_{i} - y_{i}"
    assert other["result"]["latex"] == r"\frac{\partial \mathcal{L}}{\partial a_{i}} = p_{i} - t_{i}"


@pytest.mark.parametrize("flags,expected", [
    (["probs=S"], r"S_{i} \left(\delta_{ij} - S_{j}\right)"),
    ([r"probs=\hat{y}"], r"{\hat{y}}_{i} \left(\delta_{ij} - {\hat{y}}_{j}\right)"),
    (["i=a", "j=b"], r"\sigma_{a} \left(\delta_{ab} - \sigma_{b}\right)"),
    (["delta=indicator"], r"\sigma_{i} \left(\mathbb{1}[i = j] - \sigma_{j}\right)"),
])
def test_symbol_table(flags, expected):
    assert to_latex(derive.derive("softmax-jacobian").result, notation_from(flags=flags)) == expected


@pytest.mark.parametrize("style,expected", [("bold", r"\boldsymbol{\sigma}"), ("arrow", r"\vec{\sigma}"),
                                            ("plain", r"\sigma - y")])
def test_vector_styles(style, expected):
    d = derive.derive("cross-entropy-gradient")
    assert expected in to_latex(d.steps[-1].rhs, make_notation(vector_style=style))


@pytest.mark.parametrize("flags,message", [
    (["probs=z"], "both print as z"),
    (["targets=L"], "both print as L"),
    ([r"probs=\hat {z}", r"logits=\hat{z}"], "both print"),
    (["probs=e"], "already means"),
    ([r"probs=\input{x}"], r"\\input"),
    ([r"probs=\def\x{1}"], r"\\def"),
    (["probs={p"], "unbalanced"),
    (["probs=p}{"], "unbalanced"),
    (["probs=p%"], "'%'"),
    (["probs=$p$"], "'\\$'"),
    (["probs=#1"], "'#'"),
    (["probs="], "empty"),
    (["i=ij"], "one lower-case letter"),
    (["colour=red"], "unknown role"),
    (["probs"], "ROLE=TEX"),
    (["vector=curly"], "vector style"),
])
def test_bad_notations_are_refused(flags, message):
    with pytest.raises(NotationError, match=message):
        notation_from(flags=flags)


def test_notation_file_and_flags(tmp_path):
    file = tmp_path / "n.toml"
    file.write_text('vector_style = "arrow"\n[symbols]\nprobs = "p"\nloss = \'\\mathcal{L}\'\n')
    notation = notation_from(file, ["probs=q"])
    assert notation.symbol("probs") == "q" and notation.symbol("loss") == r"\mathcal{L}"
    assert notation.vector_style == "arrow"


@pytest.mark.parametrize("content,message", [("[symbols\n", "not valid TOML"), ("colour = 1\n", "unknown key"),
                                             ("[symbols]\nprobs = 3\n", "must be a string")])
def test_bad_notation_files(tmp_path, content, message):
    file = tmp_path / "n.toml"
    file.write_text(content)
    with pytest.raises(NotationError, match=message):
        notation_from(file)


@pytest.mark.parametrize("args", [["--symbol", "probs=z"], ["--symbol", r"probs=\input{/etc/passwd}"],
                                  ["--notation", "/nonexistent/n.toml"]])
def test_cli_refuses_bad_notation_with_one_line_and_exit_2(tmp_path, args):
    result = CliRunner().invoke(main, ["generate", "softmax-jacobian", "-o", str(tmp_path), *args])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_cli_notation_reaches_every_format(tmp_path):
    result = CliRunner().invoke(main, ["generate", "cross-entropy-gradient", "-o", str(tmp_path),
                                       *[arg for flag in TEXTBOOK for arg in ("--symbol", flag)]])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "cross-entropy-gradient.json").read_text())
    assert data["result"]["latex"].endswith("p_{i} - t_{i}")
    assert data["result"]["sympy"] == to_dict(derive.derive("cross-entropy-gradient"))["result"]["sympy"]
    for file in ("cross-entropy-gradient.tex", "cross-entropy-gradient.md", "cross-entropy-gradient.fragment.tex"):
        text = (tmp_path / file).read_text()
        assert r"\mathcal{L}" in text and r"\sigma" not in text
