"""The result of checking an answer: a frozen record, and its JSON form (the CLI contract)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .equivalence import Counterexample
from .proof import Evidence

if TYPE_CHECKING:  # annotations only: a right answer's check imports neither (see checker._explained)
    from .mistakes import Mistake
    from .steps import StepFeedback

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
    reading: dict | None = None  # how the letters were read: {"roles": {...}, "indices": {...}, "guessed": [...]}
    evidence: Evidence | None = None  # for "correct": how it was established
    seed: int | None = None  # the seed of the random points: `--seed` replays this verdict
    step: StepFeedback | None = None  # for a wrong derivation: the broken step
    hint: str | None = None  # with --hint: a hint toward the right next step (no values, no answer)
    lang: str = "en"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def without_solution(self) -> "Verdict":
        """For --hint: the hint alone, without the counterexample's values, a mistake explanation or the
        broken step's diagnosis that would give the answer away."""
        if self.verdict != "incorrect" or self.hint is None:
            return self
        return replace(self, message=self.hint, counterexample=None, mistake=None, step=None)

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
            "reading": self.reading,
            "evidence": None if self.evidence is None else self.evidence.to_dict(),
            "seed": self.seed,
            "step": None if self.step is None else self.step.to_dict(self.lang),
            "hint": self.hint,
        }


def _counterexample(c: Counterexample) -> dict:
    return {"K": c.K, "i": c.index("i"), "j": c.index("j"), "z": list(c.z),
            "y": None if c.y is None else list(c.y), "expected": _json_number(c.expected), "got": _json_number(c.got),
            **({"d": c.index("d")} if c.index("d") is not None else {}),
            **({"inputs": dict(c.inputs)} if c.inputs else {})}


def _json_number(value):
    """A value as JSON can carry it: NaN and infinities (an answer that overflows or divides by zero
    at a point) as the strings "nan", "inf", "-inf", which every JSON parser reads; bare NaN is not JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
