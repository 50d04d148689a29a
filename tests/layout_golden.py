"""A document's layout, with its words and mathematics taken out: what the golden files compare.

"Layout only" means the skeleton a reader sees on the page: the headings (their level and text, math
replaced by "…"), where paragraphs, lists, display equations, code and the graph stand, the equation
environments with their labels, \\tag and \\notag (one numbering is part of the layout), the line
breaks of an aligned chain, the graph's nodes and edges and the code's length. Not compared: the
wording of prose and justifications (the catalogues' business, tested for content elsewhere), the
mathematics inside an equation (the printer's, tested in test_render_printer.py) and other digits
(TikZ positions, numbers in the example). So a reworded sentence or a reordered product leaves the
golden files alone; a moved section, a lost \\tag, a lone left side, a listing in the wrong place does not.
"""
from __future__ import annotations

import re
from pathlib import Path

from derive import engine
from derive.render.documents import render

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
# Two derivations: one chain with cases and a matrix form, one with several results and subheadings.
CASES = (("softmax-jacobian", "markdown", "md"), ("softmax-jacobian", "latex", "tex"),
         ("linear-softmax-cross-entropy", "markdown", "md"), ("linear-softmax-cross-entropy", "latex", "tex"))

_KEEP_NUMBERS = re.compile(r"\\tag\{\d+\}|\\label\{[^}]*\}|\\eqref\{[^}]*\}")
_INLINE_MATH = re.compile(r"\$[^$]+\$|\\\([^)]*?\\\)")


def _digits(line: str) -> str:
    """Other numbers as #; equation numbers and labels kept (they are the numbering)."""
    kept = _KEEP_NUMBERS.findall(line)
    parts = _KEEP_NUMBERS.split(line)
    out = re.sub(r"\d+(\.\d+)?", "#", parts[0])
    for label, part in zip(kept, parts[1:]):
        out += label + re.sub(r"\d+(\.\d+)?", "#", part)
    return out


def _collapse(lines: list[str]) -> str:
    """Runs of the same placeholder become one (a paragraph is one paragraph, however it wraps)."""
    out: list[str] = []
    for line in lines:
        if out and line == out[-1] and line in ("", "<text>", "<math>"):
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def markdown_layout(text: str) -> str:
    lines: list[str] = []
    display = False
    fence: str | None = None
    code_lines = 0
    for line in text.splitlines():
        if fence is not None:
            if line.startswith("```"):
                lines.append(f"```{fence} ({code_lines} lines)" if fence != "mermaid" else "```")
                fence = None
            elif fence == "mermaid":
                lines.append(re.sub(r'\["[^"]*"\]', '["…"]', line))
            else:
                code_lines += 1
            continue
        if line.startswith("```"):
            fence, code_lines = line[3:].strip(), 0
            if fence == "mermaid":
                lines.append(line)
        elif line.strip() == "$$":
            display = not display
            lines.append("$$")
        elif display:
            structure = re.findall(r"\\(?:begin|end)\{[a-z*]+\}|\\tag\{\d+\}|\\boxed|\\notag", line)
            lines.append(" ".join(structure) if structure else "<math>")
        elif line.startswith("#"):
            lines.append(_digits(_INLINE_MATH.sub("…", line)))
        elif line.startswith("- "):
            lines.append("- <item>")
        elif not line.strip():
            lines.append("")
        else:
            lines.append("<text>")
    return _collapse(lines)


def latex_layout(text: str) -> str:
    lines: list[str] = []
    listing = False
    code_lines = 0
    for line in text.splitlines():
        stripped = line.strip()
        if listing:
            if r"\end{lstlisting}" in line:
                lines.append(f"<code: {code_lines + 1} lines>")
                lines.append(r"\end{lstlisting}")
                listing = False
            else:
                code_lines += 1
            continue
        if stripped.startswith(r"\begin{lstlisting}"):
            lines.append(r"\begin{lstlisting}")
            listing, code_lines = True, 0
        elif stripped.startswith("%"):
            lines.append("%")
        elif re.match(r"\\(section|subsection|paragraph|subparagraph|title)\b", stripped):
            lines.append(_digits(_INLINE_MATH.sub("…", stripped)))
        elif re.match(r"\\(begin|end)\{", stripped):
            environment = re.match(r"\\(begin|end)\{[^}]*\}(\[.*?\])?", stripped).group(0)
            rest = " …" if stripped[len(environment):].strip() else ""  # options, or a matrix starting a line
            lines.append(re.sub(r"\[.*\]", "[…]", environment) + rest)
        elif stripped.startswith(r"\intertext"):
            lines.append(r"\intertext{<text>}")
        elif stripped.startswith(r"\item"):
            lines.append(r"\item <text>")
        elif stripped.startswith(r"\node"):
            lines.append(re.sub(r"\{.*\}", "{…}", _digits(stripped)))
        elif stripped.startswith(r"\draw"):
            lines.append(stripped)
        elif "&=" in stripped or r"\label" in stripped or stripped.endswith(r"\\"):
            # Where the left side stands: "lhs &= rhs", "&= rhs" (a continued chain), or "lhs \notag \\" alone.
            head = "&= <math>" if stripped.startswith("&=") else "<math> &= <math>" if "&=" in stripped else "<math>"
            marks = re.findall(r"\\notag|\\label\{[^}]*\}|\\qquad|\\\\$", stripped)
            lines.append(" ".join([head, *marks]))
        elif stripped.startswith(r"\usepackage"):
            lines.append(_digits(stripped))
        elif not stripped:
            lines.append("")
        elif stripped.startswith("\\") and not re.match(r"\\(noindent|VAR|medskip|par)\b", stripped):
            lines.append(_digits(re.sub(r"\{.*\}", "{…}", stripped)))
        else:
            lines.append("<text>")
    return _collapse(lines)


def layout(name: str, fmt: str) -> str:
    """The layout of one document, built without verification (the words and numbers do not matter here)."""
    text = render(engine.build(name, None), fmt, lang="en")
    return markdown_layout(text) if fmt == "markdown" else latex_layout(text)


def golden_path(name: str, extension: str) -> Path:
    return GOLDEN / f"{name}.layout.{extension}"
