"""The Jinja2 environments: LaTeX-safe delimiters for .tex templates, StrictUndefined everywhere.

Templates live in the top-level templates/ directory, installed as the package derive.templates.
"""
from __future__ import annotations

import functools

import jinja2

from . import escape


def _loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("derive", "templates") if _has_package_templates() else \
        jinja2.FileSystemLoader(_checkout_templates())


def _has_package_templates() -> bool:
    try:
        import derive.templates  # noqa: F401  (exists in an installed wheel)
        return True
    except ImportError:
        return False


def _checkout_templates() -> str:
    from pathlib import Path
    return str(Path(__file__).resolve().parents[2] / "templates")


@functools.lru_cache(maxsize=None)
def tex_environment() -> jinja2.Environment:
    """`\\VAR{x}` and `\\BLOCK{...}`: `{{`/`{%` would collide with LaTeX braces."""
    env = jinja2.Environment(
        loader=_loader(), undefined=jinja2.StrictUndefined, autoescape=False,
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_comment_prefix="%#", trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["text"] = escape.tex_text
    return env


@functools.lru_cache(maxsize=None)
def markdown_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=_loader(), undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["text"] = escape.markdown_text
    return env
