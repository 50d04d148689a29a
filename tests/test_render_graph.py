"""The computation graph as Mermaid: each node shows its operation as text, attention has its own graph."""
from __future__ import annotations

import re

import pytest

from derive import engine
from derive.render.documents import render
from derive.render.graph import plain_text


def mermaid(name: str, lang: str = "en") -> str:
    text = render(engine.build(name, None), "markdown", lang=lang)  # wording needs no verification
    return text.split("```mermaid")[1].split("```")[0]


@pytest.mark.parametrize("tex,text", [
    (r"S = \textstyle\sum_{k} e^{z_k}", "S = Σ_k e^(z_k)"),
    (r"\sigma_i = e^{z_i / T} / S", "σ_i = e^(z_i / T) / S"),
    (r"Z = X W^{\top} + \mathbf{1} \boldsymbol{b}^{\top}", "Z = X Wᵀ + 1 bᵀ"),
    (r"L = -\frac{1}{N} \sum_n \textstyle\sum_{k} Y_{nk} \log P_{nk}", "L = -(1/N) Σ_n Σ_k Y_nk log P_nk"),
    (r"q_k = (1 - \epsilon) y_k + \epsilon / K", "q_k = (1 - ε) y_k + ε / K"),
])
def test_plain_text_of_graph_labels(tex, text):
    assert plain_text(tex) == text


@pytest.mark.parametrize("name", ["softmax-jacobian", "batched-linear-softmax-cross-entropy", "attention-backward"])
def test_every_mermaid_node_shows_its_operation(name):
    nodes = re.findall(r'^  (\w+)\["([^"]*)"\]$', mermaid(name), re.M)
    assert nodes
    for node, label in nodes:
        caption, operation = label.split("<br/>")
        assert caption and operation and "\\" not in operation and "{" not in operation, (node, label)


def test_attention_graph_is_its_own():
    graph = mermaid("attention-backward")
    assert 'scores["scores<br/>S = Q Kᵀ / √D"]' in graph and 'output["output<br/>O = P V"]' in graph
    assert "V --> output" in graph and "logits" not in graph
    assert "z_" not in graph and "σ" not in graph


def test_every_derivation_keeps_the_two_paths_to_the_division():
    for name in engine.names():
        graph = mermaid(name)
        assert "exp --> divide" in graph and "sum --> divide" in graph, name


def test_batched_graph_normalises_each_row_by_its_own_sum():
    graph = mermaid("batched-linear-softmax-cross-entropy")
    assert 'sum["sum<br/>S_n = Σ_k e^(Z_nk)"]' in graph and "P_ni = e^(Z_ni) / S_n" in graph
