"""The result of checking an answer: a frozen record, and its JSON form (the CLI contract)."""
from __future__ import annotations

from dataclasses import dataclass

from .equivalence import Counterexample
from .mistakes import Mistake

EXIT_CODES = {"correct": 0, "incorrect": 1, "invalid": 2, "undecided": 3}


@dataclass(frozen=True)
class LineVerdict:
    line: int
    verdict: str


@dataclass(frozen=True)
class Verdict:
    """What `check` says about one answer. `first_wrong_line` is a 1-based input line."""

    verdict: str  # correct | incorrect | invalid | undecided
    interpretation: str
    message: str
    mistake: Mistake | None = None
    counterexample: Counterexample | None = None
    lines: tuple = ()
    first_wrong_line: int | None = None
    column: int | None = None  # for invalid input, where the problem is

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict:
        """Exactly the keys of the JSON contract."""
        return {
            "verdict": self.verdict,
            "interpretation": self.interpretation,
            "message": self.message,
            "mistake": None if self.mistake is None else {"id": self.mistake.id,
                                                            "explanation": self.mistake.explanation},
            "counterexample": None if self.counterexample is None else _counterexample(self.counterexample),
            "lines": [{"line": lv.line, "verdict": lv.verdict} for lv in self.lines],
            "first_wrong_line": self.first_wrong_line,
        }


def _counterexample(c: Counterexample) -> dict:
    return {"K": c.K, "i": c.index("i"), "j": c.index("j"), "z": list(c.z),
            "y": None if c.y is None else list(c.y), "expected": c.expected, "got": c.got,
            **({"d": c.index("d")} if c.index("d") is not None else {}),
            **({"inputs": dict(c.inputs)} if c.inputs else {})}
