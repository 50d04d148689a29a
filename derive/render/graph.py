"""The computation graph of a derivation's forward pass, read from its own definitions and symbols.

Nodes are the operations (exp, the sum S, the division, log, the loss with its targets, a linear
layer with W, x, b); an edge runs from each input to the node that uses it. The division has two
inputs, e^{z_i} and S, so a logit reaches a softmax output along two paths: the reason the
Jacobian has two cases. Templates draw the same data as TikZ (placed by `column`, `row`), as
Mermaid (caption and the operation as text) and as a list of assignments (the fragment, which may not load TikZ).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sympy as sp

from ..model import Derivation
from . import messages
from .notation import Notation


@dataclass(frozen=True)
class Node:
    id: str
    symbol: str       # LaTeX: the node's name in the drawing, e.g. S
    value: str        # LaTeX: what it computes, e.g. S = \sum_k e^{z_k} (the value of a source is its symbol)
    inputs: tuple[str, ...] = ()
    below: bool = False  # drawn under the main line (the sum, the targets): the two paths stay apart
    late: bool = False   # placed just before its user (the targets by the loss), not by its inputs


def _distinct_logs(expressions: list[sp.Basic]) -> list[sp.log]:
    """The logarithms in `expressions`, each shared subexpression visited once: a concrete softmax-vjp
    repeats its K-term g^T sigma in all K entries (45 M nodes walked at K = 512 otherwise)."""
    seen, stack, logs = set(), list(expressions), []
    while stack:
        expr = stack.pop()
        if isinstance(expr, sp.MatrixBase) and not isinstance(expr, sp.Basic):  # mutable: no hash, walk its entries
            stack.extend(expr)
            continue
        if not isinstance(expr, sp.Basic) or expr in seen:
            continue
        seen.add(expr)
        if isinstance(expr, sp.log):
            logs.append(expr)
        stack.extend(expr.args)
    return logs


def _logs(derivation: Derivation) -> set[str]:
    """Which logarithms the forward pass takes: of the softmax outputs ("probs"), of the sum ("sum")."""
    expressions = [value for _, value in derivation.definitions]
    expressions += [part for step in derivation.steps[:2] for part in (step.lhs, step.rhs)]
    kinds = set()
    for log in _distinct_logs(expressions):
        kinds.add("sum" if isinstance(log.args[0], (sp.Sum, sp.Add)) else "probs")
    roles = {s.role for s in derivation.symbols}
    if "binary-logit" in roles:  # log(1 - sigma_1) is the log of an output, not of a sum
        return {"probs"}
    # A cross-entropy loss is a log of the outputs even where a derivation starts from its gradient (the Hessian).
    if "loss" in roles and "upstream" not in roles:
        kinds.add("probs")
    return kinds


def forward_graph(derivation: Derivation, notation: Notation) -> list[Node]:
    """The forward pass as nodes in an order where every input comes before its use."""
    roles = {s.role for s in derivation.symbols}
    batched = "batch-logits" in roles
    z, p, y, loss, k, i = (notation.symbol(r) for r in ("logits", "probs", "targets", "loss", "k", "i"))
    if batched:
        z, p, y = "Z", "P", "Y"
        z_k, z_i, p_i, y_k = f"Z_{{n{k}}}", f"Z_{{n{i}}}", f"P_{{n{i}}}", f"Y_{{n{k}}}"
    else:
        z_k, z_i, p_i, y_k = f"{z}_{k}", f"{z}_{i}", f"{p}_{i}", f"{y}_{k}"
    if "queries" in roles:
        return _attention_graph()
    nodes: list[Node] = []
    if batched:
        nodes += [Node("X", "X", "X"), Node("W", "W", "W"), Node("b", r"\boldsymbol{b}", r"\boldsymbol{b}"),
                  Node("logits", z, rf"{z} = X W^{{\top}} + \mathbf{{1}} \boldsymbol{{b}}^{{\top}}", ("X", "W", "b"))]
    elif "weights" in roles:
        nodes += [Node("W", "W", "W"), Node("x", r"\boldsymbol{x}", r"\boldsymbol{x}"), Node("b", r"\boldsymbol{b}", r"\boldsymbol{b}"),
                  Node("logits", z_k, rf"{z_k} = \textstyle\sum_r W_{{{k}r}} x_r + b_{k}", ("W", "x", "b"))]
    else:
        nodes.append(Node("logits", z_k, z_k))
    exponent, source = z_k, "logits"
    if "temperature" in roles:
        nodes.append(Node("scale", rf"{z_k} / T", rf"{z_k} / T", ("logits",)))
        exponent, source = rf"{z_k} / T", "scale"
    nodes.append(Node("exp", rf"e^{{{exponent}}}", rf"e^{{{exponent}}}", (source,)))
    total = "S_n" if batched else "S"  # one normaliser per row of the batch
    nodes.append(Node("sum", total, rf"{total} = \textstyle\sum_{{{k}}} e^{{{exponent}}}", ("exp",), below=True))
    numerator = exponent.replace(z_k, z_i)
    nodes.append(Node("divide", p_i, rf"{p_i} = e^{{{numerator}}} / {total}", ("exp", "sum")))
    logs = _logs(derivation)
    if "sum" in logs:
        nodes.append(Node("logsum", r"\log S", r"\log S", ("sum",), below=True))
    if "probs" in logs:
        nodes.append(Node("log", rf"\log {p_i}", rf"\log {p_i}", ("divide",)))
    if "upstream" in roles:
        nodes.append(Node("loss", loss, rf"{loss}({p})", ("divide",)))
    elif "loss" in roles:
        target = y_k
        if "smoothing" in roles:
            nodes.append(Node("targets", y_k, y_k, (), below=True, late=True))
            nodes.append(Node("smoothed", f"q_{k}", rf"q_{k} = (1 - \epsilon) {y_k} + \epsilon / K", ("targets",), below=True, late=True))
            target, target_node = f"q_{k}", "smoothed"
        else:
            nodes.append(Node("targets", y_k, y_k, (), below=True, late=True))
            target_node = "targets"
        log_node = "log" if "probs" in logs else "divide"
        mean = r"\frac{1}{N} \sum_n" if batched else ""
        nodes.append(Node("loss", loss, rf"{loss} = -{mean} \textstyle\sum_{{{k}}} {target} \log {p}_{{{'n' if batched else ''}{k}}}",
                          (log_node, target_node)))
    return nodes


def _attention_graph() -> list[Node]:
    """O = softmax(Q K^T / sqrt(D)) V row-wise, and the loss that sends dO back: rows n are queries, columns j keys."""
    return [Node("Q", "Q", "Q"), Node("K", "K", "K"),
            Node("scores", "S", r"S = Q K^{\top} / \sqrt{D}", ("Q", "K")),
            Node("exp", "e^{S_{nj}}", "e^{S_{nj}}", ("scores",)),
            Node("sum", r"\ell_n", r"\ell_n = \textstyle\sum_{j} e^{S_{nj}}", ("exp",), below=True),
            Node("divide", "P_{nj}", r"P_{nj} = e^{S_{nj}} / \ell_n", ("exp", "sum")),
            Node("V", "V", "V", (), below=True, late=True),
            Node("output", "O", "O = P V", ("divide", "V")),
            Node("loss", "L", "L(O)", ("output",))]


# LaTeX the graph's labels use -> plain text, for Mermaid (which shows its labels as text).
_PLAIN_COMMANDS = {"textstyle": "", "sum": "Σ", "log": "log", "top": "ᵀ", "sqrt": "√", "cdot": "·",
                   "quad": " ", "mathbf": "", "boldsymbol": "", "vec": "", "mathrm": "", "ell": "ℓ"}
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def plain_text(tex: str) -> str:
    """A label's LaTeX as Unicode text: S = Σ_k e^(z_k), σ_i = e^(z_i) / S, Z = X Wᵀ + 1 bᵀ, L = -(1/N) Σ_n ..."""
    def command(match: re.Match) -> str:
        name = match.group(1)
        if name in _PLAIN_COMMANDS:
            return _PLAIN_COMMANDS[name]
        try:  # \sigma, \epsilon, \Sigma: the Greek letter itself
            return unicodedata.lookup(f"GREEK {'CAPITAL' if name[0].isupper() else 'SMALL'} LETTER {name.upper()}")
        except KeyError:
            return name
    text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1/\2)", tex)
    text = re.sub(r"_\{([^{}]*)\}", r"_\1", text)
    text = re.sub(r"\^\{([^{}]*)\}", lambda m: m.group(1) if m.group(1) == r"\top" else f"^({m.group(1)})", text)
    text = _COMMAND.sub(command, text).replace("{", "").replace("}", "")
    return re.sub(r" {2,}", " ", text).strip()


def _columns(nodes: list[Node]) -> dict[str, int]:
    """Longest path from a source; a source sits just left of its first user (the targets by the loss)."""
    column: dict[str, int] = {}
    for node in nodes:
        column[node.id] = 1 + max(column[n] for n in node.inputs) if node.inputs else 0
    for node in reversed(nodes):
        users = [column[n.id] for n in nodes if node.id in n.inputs]
        if (node.late or not node.inputs) and users:
            column[node.id] = min(users) - 1
    return column


def graph_context(derivation: Derivation, notation: Notation, lang: str) -> dict:
    """Nodes (caption, math, TikZ place) and edges, for TikZ, Mermaid and the fragment's list."""
    nodes = forward_graph(derivation, notation)
    columns = _columns(nodes)
    rows: dict[str, float] = {}
    for node in nodes:
        same = [n for n in nodes if columns[n.id] == columns[node.id] and not n.inputs and not n.below]
        if not node.inputs and len(same) > 1:  # several sources in one column (W, x, b): stacked
            rows[node.id] = same.index(node) - (len(same) - 1) / 2
        else:
            rows[node.id] = -1.4 if node.below else 0
    return {
        "nodes": [{"id": n.id, "caption": messages.word(lang, f"node_{n.id}"), "symbol": n.symbol, "math": n.value,
                   "text": plain_text(n.value),
                   "x": round(columns[n.id] * 2.35, 2), "y": round(rows[n.id] * 1.25, 2),
                   "inputs": list(n.inputs)} for n in nodes],
        "edges": [{"source": source, "target": n.id} for n in nodes for source in n.inputs],
    }
