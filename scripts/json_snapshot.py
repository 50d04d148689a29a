"""Write the JSON of every derivation at symbolic K and K = 3 into a directory, to compare two trees.

Usage: python scripts/json_snapshot.py DIR   (then: diff -r DIR_BEFORE DIR_AFTER)
Linear derivations take their default D and N at K = 3 (engine.DEFAULT_SIZES).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not an install

import derive  # noqa: E402
from derive.render.documents import render  # noqa: E402


def snapshot(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, _description in derive.available():
        for K in (None, 3):
            try:
                derivation = derive.derive(name, K)
            except Exception as error:  # noqa: BLE001 - a derivation that has no K = 3 is recorded, not fatal
                content = f"{type(error).__name__}: {error}\n"
            else:
                content = render(derivation, "json")
            path = directory / f"{name}.K{'symbolic' if K is None else K}.json"
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for written_path in snapshot(Path(sys.argv[1])):
        print(written_path)
