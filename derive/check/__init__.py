"""Checking answers students write by hand: `check_answer(text, target=...) -> Verdict`."""
from .checker import check_answer
from .verdict import Verdict

__all__ = ["check_answer", "Verdict"]
