"""Check a typed answer or a whole hand derivation against a target: parse, compare, explain.

A recipe: split into lines -> parse each -> line up the chain of equal expressions -> compare
each with the target at high precision -> name the first mistake. Every expression in a chain
`lhs = a = b = ...` claims to equal the target, so the first one that does not is the first wrong line.
"""
from __future__ import annotations

import time

import sympy as sp

from ..errors import ParseError
from ..numeric.state import EvaluationError
from ..parse.lines import split
from ..algebra.indices import free_indices, summed_indices
from ..parse.parser import parse_line
from ..render.printer import to_latex
from . import target as targets
from .equivalence import TIME_LIMIT_SECONDS, CheckTimeout, Comparison, ShapeMismatch, Undecided, compare, time_limit
from .mistakes import identify, mistake
from .verdict import LineVerdict, Verdict


def check_answer(text: str, *, target: str, seconds: float = TIME_LIMIT_SECONDS) -> Verdict:
    """The verdict on `text` (one expression or a derivation) for the registry derivation `target`."""
    goal = targets.get(target)  # UsageError for an unknown name: that is the caller's mistake
    try:
        chain, notes = _read(text, binary=is_binary(goal))
    except ParseError as error:
        return Verdict("invalid", "", str(error), column=error.column)
    chain = _align_indices(chain, goal)
    interpretation = " = ".join(to_latex(expr) for _line, expr in chain)
    reading = _reading(chain, notes)
    try:
        with time_limit(seconds):
            return _judge(chain, goal, interpretation, reading, time.monotonic() + seconds)
    except (CheckTimeout, Undecided, RecursionError) as error:
        return Verdict("undecided", interpretation, f"{reading} Undecided: {error}")
    except (EvaluationError, TypeError, ValueError, NotImplementedError, ArithmeticError) as error:
        # Read, but not computable by our evaluator (or SymPy refused a step): never "correct".
        return Verdict("undecided", interpretation, f"{reading} Undecided: cannot evaluate this answer ({error}).")


def _read(text: str, *, binary: bool = False) -> tuple:
    """[(line, expression)] in order, and notes on the reading (log is natural)."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("the answer is empty")
    chain, ln, log = [], False, False
    for segment in split(text):
        try:
            parsed = parse_line(segment.text, binary=binary)
        except ParseError as error:
            error.line = segment.line if "\n" in text.strip() else error.line
            raise
        ln, log = ln or parsed.used_ln, log or parsed.used_log
        chain.extend((segment.line, part) for part in parsed.parts if part is not None)
    notes = []
    if ln or log:
        notes.append("\\log and \\ln are read as the natural logarithm.")
    return chain, notes


def _align_indices(chain: list, goal) -> list:
    """If the left side names the target with its free indices swapped (d sigma_j / d z_i), rename
    them throughout: the student asked the same question with other letters."""
    if len(chain) < 2 or len(goal.free) != 2 or not isinstance(chain[0][1], sp.Derivative):
        return chain
    a, b = goal.free
    swap = {a: b, b: a}
    if chain[0][1] != goal.lhs and chain[0][1].xreplace(swap) == goal.lhs:
        return [(line, expr.xreplace(swap)) for line, expr in chain]
    return chain


def is_binary(goal) -> bool:
    """K fixed at 2 and no free index (sigmoid-logistic-gradient): y and sigma alone mean y_1, sigma_1."""
    return not goal.free and goal.semantics is not None and tuple(goal.semantics.Ks or ()) == (2,)


def _reading(chain: list, notes: list) -> str:
    exprs = [expr for _line, expr in chain]
    free = sorted(set().union(*(free_indices(e) for e in exprs)), key=str)
    summed = sorted(set().union(*(summed_indices(e) for e in exprs)), key=str)
    roles = f"free indices: {', '.join(map(str, free)) or 'none'}; summed: {', '.join(map(str, summed)) or 'none'}."
    return " ".join(["Read with " + roles, *notes])


def _judge(chain: list, goal, interpretation: str, reading: str, deadline: float) -> Verdict:
    per_line: dict[int, str] = {}
    points = 0
    for line, expr in chain:
        try:
            result = compare(expr, goal, deadline=deadline)
        except ShapeMismatch as error:
            result = Comparison(False, None, 0, str(error))
        if not result.agree:
            per_line[line] = "incorrect"
            lines = _line_verdicts(chain, per_line)
            is_left_side = (line, expr) == chain[0] and len(chain) > 1 and isinstance(expr, sp.Derivative)
            found = _left_side_mistake(expr, goal) if is_left_side else _name_mistake(expr, goal, result)
            message = _wrong_message(line, chain, result, goal, reading)
            return Verdict("incorrect", interpretation, message, found, result.counterexample, lines, line)
        per_line.setdefault(line, "correct")
        points += result.checked
    last_line, last = chain[-1]
    if last.has(sp.Derivative):
        per_line[last_line] = "incorrect"
        return Verdict("incorrect", interpretation,
                       f"{reading} The last expression still holds a derivative: it restates the question.",
                       mistake("not-differentiated"), None, _line_verdicts(chain, per_line), last_line)
    return Verdict("correct", interpretation, f"{reading} Correct: equals {to_latex(goal.result)} "
                   f"(compared at {points} points at 50 digits"
                   f"{', with i = j and i != j' if {str(f) for f in goal.free} == {'i', 'j'} else ''}).",
                   None, None, _line_verdicts(chain, per_line), None)


def _left_side_mistake(expr, goal):
    """A wrong left side asks another question: name the derivation it belongs to, if we know it."""
    for other in (targets.get(name) for name in targets.names()):
        if other.lhs != goal.lhs and isinstance(expr, sp.Derivative) and expr == other.lhs:
            return mistake("other-target", f"The left side {to_latex(expr)} is the question of {other.name}, "
                                           f"not {to_latex(goal.lhs)}.")
    return None


def _name_mistake(expr, goal, result):
    """The verdict is already known; naming the mistake is a bonus that may run out of time."""
    if result.counterexample is None:
        return None
    try:
        return identify(expr, goal)
    except (CheckTimeout, ShapeMismatch):
        return None


def _line_verdicts(chain: list, per_line: dict) -> tuple:
    seen = []
    for line, _expr in chain:
        if line not in seen:
            seen.append(line)
    return tuple(LineVerdict(line, per_line.get(line, "undecided")) for line in seen)


def _wrong_message(line: int, chain: list, result: Comparison, goal, reading: str) -> str:
    where = f"Line {line} is wrong. " if len({ln for ln, _e in chain}) > 1 else ""
    if result.counterexample is None:
        return f"{reading} {where}Incorrect: {result.message}."
    c = result.counterexample
    indices = ", ".join(f"{name} = {value}" for name, value in c.indices)
    point = f"sigma = ({', '.join(c.sigma_text)})" if c.sigma_text else (f"z = {list(c.z)}" if c.z else "")
    targets_text = f", y = {list(c.y)}" if c.y is not None else ""
    targets_text += "".join(f", {name} = {value}" for name, value in c.inputs)
    if not point:
        targets_text = targets_text.removeprefix(", ")
    return (f"{reading} {where}Incorrect: at K = {c.K}, {indices + ', ' if indices else ''}{point}{targets_text} "
            f"the answer is {c.got:.12g} but {to_latex(goal.lhs)} = {c.expected:.12g}.")
