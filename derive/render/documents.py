"""Render a derivation to document text (LaTeX article, LaTeX fragment, Markdown, JSON), in memory.

Nothing here touches the file system: the CLI renders everything first, then writes atomically.
"""
from __future__ import annotations

from ..errors import UsageError
from ..model import Derivation
from . import environment
from .context import build_context
from .notation import Notation

TEXT_FORMATS = ("latex", "fragment", "markdown", "json")
SUFFIXES = {"latex": ".tex", "fragment": ".fragment.tex", "markdown": ".md", "json": ".json", "pdf": ".pdf"}
TEMPLATES = {"latex": "article.tex.j2", "fragment": "fragment.tex.j2", "markdown": "document.md.j2"}


def file_name(name: str, fmt: str) -> str:
    """`NAME.tex`, `NAME.fragment.tex`, `NAME.md`, `NAME.json`, `NAME.pdf`."""
    return name + SUFFIXES[fmt]


def render(derivation: Derivation, fmt: str, *, notation: Notation | None = None, lang: str = "en",
           label_prefix: str | None = None, teaching: bool = True) -> str:
    """The document text of one derivation in one text format; `teaching=False` leaves out the teaching section."""
    notation = notation or Notation()
    if fmt == "json":
        from .serialize import to_json
        return to_json(derivation, notation)
    if fmt not in TEMPLATES:
        raise UsageError(f"format must be one of {', '.join(TEXT_FORMATS)}, not {fmt!r}")
    syntax = "md" if fmt == "markdown" else "tex"
    context = build_context(derivation, notation=notation, lang=lang, syntax=syntax, label_prefix=label_prefix,
                            teaching=teaching)
    env = environment.markdown_environment() if syntax == "md" else environment.tex_environment()
    return env.get_template(TEMPLATES[fmt]).render(d=context)
