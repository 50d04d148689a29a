"""Escaping free text for the two document languages, so a title or message can never inject markup."""
from __future__ import annotations

_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
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
