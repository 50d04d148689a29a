"""The computation graph of a derivation's forward pass, as nodes and edges the templates draw (TikZ, Mermaid)."""
from __future__ import annotations

from ..model import Derivation
from . import messages
from .notation import Notation


def graph_context(derivation: Derivation, notation: Notation, lang: str) -> dict:
    """Nodes of the forward pass z -> exp -> sum -> normalise -> sigma (-> loss), captions and math."""
    roles = {s.role for s in derivation.symbols}
    logits, probs, k = (notation.symbol(r) for r in ("logits", "probs", "k"))
    nodes = [
        ("logits", rf"\boldsymbol{{{logits}}}"),
        ("exp", rf"e^{{{logits}_{k}}}"),
        ("sum", rf"\sum_{{{k}}} e^{{{logits}_{k}}}"),
        ("normalise", rf"e^{{{logits}_{k}}} / \sum_{{{k}}} e^{{{logits}_{k}}}"),
        ("probs", rf"\boldsymbol{{{probs}}}"),
    ]
    if "weights" in roles:
        layer = (r"\boldsymbol{W} \boldsymbol{x} + \boldsymbol{b}" if "input" in roles
                 else r"\boldsymbol{X} \boldsymbol{W}^{\top} + \mathbf{1} \boldsymbol{b}^{\top}")
        nodes.insert(0, ("linear", layer))
    if "loss" in roles:
        nodes.append(("loss", notation.symbol("loss")))
    return {"nodes": [{"id": key, "caption": messages.word(lang, f"node_{key}"), "math": math}
                      for key, math in nodes]}
