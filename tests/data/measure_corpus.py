"""Measure the checker on the real corpus: how many entries it reads, judges right, wrong, or leaves undecided.

Why a script of its own: the counts before and after a change to the reader are the evidence the
issue asks for, and a wrong verdict must be listed by id, never hidden in a total.

    python tests/data/measure_corpus.py [--list] [--with-case]
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).with_name("real_formulas.jsonl")


def entries() -> list:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def outcome(entry: dict, verdict) -> str:
    """'unread' (invalid), 'undecided', 'right' or 'wrong' for one entry's verdict."""
    if verdict.verdict == "invalid":
        return "unread"
    if verdict.verdict == "undecided":
        return "undecided"
    if verdict.verdict != entry["truth"]:
        return "wrong"
    if entry["kind"] == "derivation" and entry["truth"] == "incorrect":
        return "right" if verdict.first_wrong_line == entry.get("first_wrong_line") else "wrong"
    return "right"


def stated_case(entry: dict) -> str | None:
    """The case the page states around the text (当 i = j 时, "If i = k", "i is the true class (Y_i = 1)"),
    as the corpus records it."""
    true_class = re.search(r"([a-z]) is the true class", entry.get("notation", {}).get("case", ""))
    if true_class is not None:
        return f"y_{true_class.group(1)}=1"
    match = re.search(r"([a-z])\s*(=|!=|≠|\\neq?)\s*([a-z])", entry.get("notation", {}).get("case", ""))
    if match is None:  # "diagonal": the Hessian's or the Jacobian's i = j, whatever letters the page uses
        return "i=j" if entry.get("notation", {}).get("case", "").startswith("diagonal") else None
    return f"{match.group(1)}{'=' if match.group(2) == '=' else '!='}{match.group(3)}"


def main(argv: list) -> int:
    """`--list`: one row per entry; `--with-case`: give the checker the case the page states outside the text."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from derive.check import check_answer
    counts, rows = Counter(), []
    for entry in entries():
        case = stated_case(entry) if "--with-case" in argv else None
        verdict = check_answer(entry["text"], target=entry["target"], case=case)
        result = outcome(entry, verdict)
        counts[result] += 1
        rows.append((entry["id"], result, verdict.verdict, verdict.first_wrong_line, verdict.message[:150]))
    if "--list" in argv:
        for row in rows:
            print(*row, sep="\t")
    read = len(rows) - counts["unread"]
    print(f"entries {len(rows)}: read {read}, right {counts['right']}, wrong {counts['wrong']}, "
          f"undecided {counts['undecided']}, unread {counts['unread']}")
    for entry_id, result, verdict, line, _message in rows:
        if result == "wrong":
            print(f"wrong verdict: {entry_id} says {verdict} (first wrong line {line})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
