"""Golden files for layout only (see tests/layout_golden.py for what that means); update with scripts/update_golden.py."""
from __future__ import annotations

import difflib

import pytest

from layout_golden import CASES, golden_path, latex_layout, layout, markdown_layout


@pytest.mark.parametrize("name,fmt,extension", CASES, ids=[f"{n}-{e}" for n, _f, e in CASES])
def test_layout_matches_the_golden_file(name, fmt, extension):
    expected = golden_path(name, extension).read_text(encoding="utf-8")
    actual = layout(name, fmt)
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "golden", "now"))
    assert actual == expected, f"layout changed (if intended: python scripts/update_golden.py)\n{diff}"


def test_wording_and_mathematics_do_not_count_but_structure_does():
    md = "# Title\n\nSome words $x^2$.\n\n$$\n\\begin{aligned}\na &= b\n\\end{aligned}\n\\tag{1}\n$$\n"
    reworded = md.replace("Some words $x^2$.", "Other words, and $y_3$ too.").replace("a &= b", "c &= d + e")
    assert markdown_layout(md) == markdown_layout(reworded)
    assert markdown_layout(md) != markdown_layout(md.replace("\\tag{1}", "\\tag{2}"))  # numbering is layout
    assert markdown_layout(md) != markdown_layout(md.replace("# Title", "## Title"))
    tex = "\\begin{align}\nx &= y \\label{p:eq1} \\\\\n\\intertext{why}\n&= z \\label{p:eq2}\n\\end{align}\n"
    assert latex_layout(tex) == latex_layout(tex.replace("why", "because").replace("&= z", "&= w + 1"))
    # A left side moved onto its own line is a layout change.
    assert latex_layout(tex) != latex_layout(tex.replace("x &= y", "x \\notag \\\\\n&= y"))
