"""Escaping free text for the two document languages, so a title or message can never inject markup."""
from __future__ import annotations

_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# Greek letters in prose (the zh catalogue writes "克罗内克 δ"): the CJK text fonts have no Greek glyphs,
# so they are set as math, which every font setup has.
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "λ": "lambda",
          "μ": "mu", "σ": "sigma", "τ": "tau", "Σ": "Sigma", "Δ": "Delta", "ℓ": "ell", "∂": "partial"}
_TEX.update({char: rf"\ensuremath{{\{name}}}" for char, name in _GREEK.items()})
_MARKDOWN_SPECIAL = set("\\`*_{}[]<>#|$!")


def tex_text(text: str) -> str:
    """Plain text safe inside a LaTeX paragraph."""
    return "".join(_TEX.get(char, char) for char in text)


def markdown_text(text: str) -> str:
    """Plain text safe in Markdown prose: a literal $ cannot open math, * cannot start emphasis."""
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in text)


def tex_inline_math(tex: str) -> str:
    return rf"\({tex}\)"


def markdown_inline_math(tex: str) -> str:
    return f"${tex}$"
