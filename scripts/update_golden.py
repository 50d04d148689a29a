"""Rewrite the layout golden files (tests/data/golden) from the current templates: run after an intended layout change.

Usage: python scripts/update_golden.py   (then review `git diff tests/data/golden` before committing)
What "layout" means, and what is left out, is said in tests/layout_golden.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # run from a checkout, not an install

from layout_golden import CASES, GOLDEN, golden_path, layout  # noqa: E402


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, fmt, extension in CASES:
        path = golden_path(name, extension)
        path.write_text(layout(name, fmt), encoding="utf-8")
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
