"""Check a typed answer or a whole hand derivation against a target: parse, compare, explain.

A recipe: split into lines -> parse each -> line up the chain of equal expressions -> compare
each with the target at high precision -> name the first mistake. Every expression in a chain
`lhs = a = b = ...` claims to equal the target, so the first one that does not is the first wrong line.
"""
from __future__ import annotations

import dataclasses
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
from .alignment import align, condition_expr, explicit_entries, restricted
from .reading import echo, echo_text, infer, refuse_foreign_letters
from .spellings import (OTHERWISE, expand_macros, is_prose, normalise, read_case, set_aside_named_left_side,
                        split_condition)
from .verdict import LineVerdict, Verdict


def check_answer(text: str, *, target: str, seconds: float = TIME_LIMIT_SECONDS, declared: dict | None = None,
                 macros: tuple = (), case: str | None = None) -> Verdict:
    """The verdict on `text` (one expression or a derivation) for the registry derivation `target`.
    `declared`: the course's letters ({"a": "sigma"}, see reading.declared_roles); `macros`: `\\probs=\\sigma`;
    `case`: the case the question asks for, in the answer's letters ("i=j"), when the text does not say it."""
    goal = targets.get(target)  # UsageError for an unknown name: that is the caller's mistake
    try:
        if not isinstance(text, str):
            raise ParseError("the answer must be text")
        text, named = set_aside_named_left_side(normalise(expand_macros(text, macros)))
        letters = infer(text, declared=declared, arrays=goal.arrays)
        chain, notes, conditions, unread = _read(text, binary=is_binary(goal), roles=letters.role_map())
        if named:
            notes.append(f"The left side {named} is read as the target's own name.")
        refuse_foreign_letters([expr for _line, expr in chain], goal)
        if case is not None:
            conditions = {**{line: read_case(case) for line, _expr in chain}, **conditions}
    except ParseError as error:
        return Verdict("invalid", "", str(error), column=error.column)
    aligned = align(chain, goal)
    try:
        aligned = dataclasses.replace(aligned, chain=[(line, explicit_entries(expr, goal)) for line, expr in aligned.chain])
    except ParseError as error:
        return Verdict("invalid", "", str(error), column=error.column)
    chain = _restrict(aligned, conditions, goal)
    echoed = echo(letters, aligned, text)
    interpretation = " = ".join(to_latex(expr) for _line, expr in chain)
    reading = " ".join(filter(None, [echo_text(echoed), _reading(chain, notes)]))
    verdict = _decide(chain, goal, interpretation, reading, seconds)
    if unread is not None and (verdict.verdict != "incorrect" or (verdict.mistake is not None and verdict.mistake.id == "not-differentiated")):
        # Lines before the unreadable one hold no mistake: the verdict is that the rest cannot be read.
        return Verdict("invalid", interpretation, str(unread), column=unread.column, reading=echoed)
    return dataclasses.replace(verdict, reading=echoed)


def _restrict(aligned, conditions: dict, goal) -> list:
    """Lines stated for a case (`, \\quad i = j`, or a left side d s_i / d z_i) judged in that case only."""
    out = []
    for line, expr in aligned.chain:
        for condition in ([aligned.case] if aligned.case is not None else []) + (
                [condition_expr(conditions[line], aligned.mapping)] if line in conditions else []):
            expr = restricted(expr, condition, goal)
        out.append((line, expr))
    return out


def _decide(chain: list, goal, interpretation: str, reading: str, seconds: float) -> Verdict:
    try:
        with time_limit(seconds):
            return _judge(chain, goal, interpretation, reading, time.monotonic() + seconds)
    except (CheckTimeout, Undecided, RecursionError) as error:
        return Verdict("undecided", interpretation, f"{reading} Undecided: {error}")
    except (EvaluationError, TypeError, ValueError, NotImplementedError, ArithmeticError) as error:
        # Read, but not computable by our evaluator (or SymPy refused a step): never "correct".
        return Verdict("undecided", interpretation, f"{reading} Undecided: cannot evaluate this answer ({error}).")


def _read(text: str, *, binary: bool = False, roles: dict | None = None) -> tuple:
    """[(line, expression)] in order, notes on the reading (log is natural), {line: condition}, and the
    ParseError of the first unreadable line after a readable one (None when every line was read)."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("the answer is empty")
    chain, ln, log, conditions, unread = [], False, False, {}, None
    for segment in split(text):
        body, condition = split_condition(segment.text)
        if is_prose(body):
            continue  # 所以, 其中: words between the formulas of a pasted page
        try:
            parsed = parse_line(body, binary=binary, roles=roles)
        except ParseError as error:
            error.line = segment.line if "\n" in text.strip() else error.line
            if not chain:
                raise
            unread = error  # judge the lines before it: a wrong one among them is still the first wrong line
            break
        if condition == OTHERWISE:
            previous = [c for _line, c in sorted(conditions.items()) if c != OTHERWISE][-1:]
            if not previous:
                raise ParseError("'otherwise' follows no stated case", line=segment.line)
            a, equal, b = previous[0]
            condition = (a, not equal, b)
        if condition is not None:
            conditions[segment.line] = condition
        ln, log = ln or parsed.used_ln, log or parsed.used_log
        chain.extend((segment.line, part) for part in parsed.parts if part is not None)
    if not chain and unread is None:
        raise ParseError("the answer holds no formula, only words")
    notes = []
    if ln or log:
        notes.append("\\log and \\ln are read as the natural logarithm.")
    return chain, notes, conditions, unread


def is_binary(goal) -> bool:
    """K fixed at 2 and no free index (sigmoid-logistic-gradient): y and sigma alone mean y_1, sigma_1."""
    return not goal.free and goal.semantics is not None and tuple(goal.semantics.Ks or ()) == (2,)


def _reading(chain: list, notes: list) -> str:
    exprs = [expr for _line, expr in chain]
    free = sorted(set().union(*(free_indices(e) for e in exprs)), key=str)
    summed = sorted(set().union(*(summed_indices(e) for e in exprs)), key=str)
    roles = f"free indices: {', '.join(map(str, free)) or 'none'}; summed: {', '.join(map(str, summed)) or 'none'}."
    return " ".join(["Checked in the target's letters with " + roles, *notes])


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
