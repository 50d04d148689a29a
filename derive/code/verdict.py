"""The result of checking gradient code: a frozen record and its JSON form (the check-code contract)."""
from __future__ import annotations

from dataclasses import dataclass

from ..check.equivalence import Counterexample
from ..check.mistakes import Mistake
from ..check.verdict import _counterexample as counterexample_dict

# unstable is an incorrect implementation (exit 1); unreadable / not runnable is 2, undecided 3
EXIT_CODES = {"correct": 0, "incorrect": 1, "unstable": 1, "unreadable": 2, "undecided": 3}


@dataclass(frozen=True)
class CodeVerdict:
    verdict: str  # correct | incorrect | unstable | unreadable | undecided
    static: bool  # read and proved without running the code
    message: str
    unstable: bool = False
    mistake: Mistake | None = None
    counterexample: dict | None = None  # JSON-ready: a point where it is wrong, or the input that broke it
    function: str = ""
    seed: int | None = None  # of the run's drawn cases (`--seed` replays them); None when none was judged

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict:
        """Exactly the keys of the JSON contract."""
        return {
            "verdict": self.verdict,
            "static": self.static,
            "unstable": self.unstable,
            "mistake": None if self.mistake is None else {"id": self.mistake.id, "explanation": self.mistake.explanation},
            "counterexample": self.counterexample,
            "message": self.message,
            "seed": self.seed,
        }


def from_counterexample(c: Counterexample | None) -> dict | None:
    return None if c is None else counterexample_dict(c)
