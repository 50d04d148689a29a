"""Check a typed answer or a whole hand derivation against a target: parse, compare, explain.

A recipe: split into lines -> parse each -> line up the chain of equal expressions -> compare
each with the target at high precision -> name the first mistake. Every expression in a chain
`lhs = a = b = ...` claims to equal the target, so the first one that does not is the first wrong line.
"""
from __future__ import annotations

import functools
import time
from dataclasses import replace

import mpmath
import sympy as sp

from ..errors import ParseError, UsageError
from ..numeric.state import EvaluationError
from ..parse.lines import split
from ..algebra.indices import summed_indices
from ..parse.parser import parse_line
from ..render.printer import to_latex
from . import target as targets
from .equivalence import (NAMING_SECONDS, TIME_LIMIT_SECONDS, CheckTimeout, Comparison, ShapeMismatch, Undecided,
                          UnknownSize, compare, cpu_deadline, free_indices_once, time_limit)
from .alignment import align, condition_expr, explicit_entries, restricted
from .reading import echo, echo_text, infer, refuse_foreign_letters, target_roles
from .spellings import (OTHERWISE, TRUE_CLASS, code_aliases, displayed_formulas, expand_macros, is_prose, normalise,
                        read_case, set_aside_gradient_name, set_aside_named_left_side, split_condition)
from .points import fresh_seed, largest_K
from .proof import (EXACT, NUMERIC, SYMBOLIC, Evidence, class_numbers, exact_difference, prove, switching_term,
                    tiny_difference, undetermined_size, written_sizes)
from .verdict import LineVerdict, Verdict
from .words import reading_error, say

MEMO_ENTRIES = 4096  # decisions a batch keeps (a few kB each): a class's distinct readings fit


def check_answer(text: str, *, target: str, seconds: float = TIME_LIMIT_SECONDS, seed: int | None = None,
                 lang: str = "en", hint: bool = False, declared: dict | None = None, macros: tuple = (),
                 case: str | None = None, classes: int | None = None, memo: dict | None = None,
                 printed: bool = True) -> Verdict:
    """The verdict on `text` (one expression or a derivation) for the registry derivation `target`.

    `seed` chooses the random points (default: a fresh one from the OS, recorded in the verdict);
    `seconds` is the CPU-time allowance of the verdict; naming the mistake has its own afterwards.
    `hint`: for a wrong derivation, a hint toward the next step instead of the step's diagnosis.
    `declared`: the course's letters ({"a": "sigma"}, see reading.declared_roles); `macros`: `\\probs=\\sigma`;
    `case`: the case the question asks for, in the answer's letters ("i=j"), when the text does not say it.
    `classes`: the question's number of classes, when it has one (10 for MNIST): a sum written to another
    number is then wrong; without it, a sum to a number is read as all K and "correct" holds for that K.
    `memo`: decisions already made in this batch (grade passes one per worker): texts that read the same
    (spacing, \\left(, \\cdot, the order of terms) are then decided once, with the verdict a fresh check gives.
    `printed=False` leaves `interpretation` (the answer printed back as LaTeX) empty, for a caller that
    does not show it (grade's report): printing is a sixth of a check's time, and no verdict reads it.

    Never raises for an answer: an unexpected exception (a bug of ours or SymPy's) becomes this
    answer's verdict with an internal-error note (`invalid` while reading, `undecided` after), so
    one answer can neither crash `check` nor lose a `grade` batch."""
    try:
        return _check(text, target=target, seconds=seconds, seed=seed, lang=lang, hint=hint, declared=declared,
                      macros=macros, case=case, classes=classes, memo=memo, printed=printed)
    except UsageError:
        raise  # an unknown target or language: the caller's mistake, not the answer's
    except Exception as error:  # the edge: see the docstring
        return _internal_error("undecided", "checking", error, seed)


def _internal_error(verdict: str, stage: str, error: Exception, seed: int | None) -> Verdict:
    detail = f"{type(error).__name__}: {error}"[:200]
    return Verdict(verdict, "", f"Internal error while {stage} this answer ({detail}); it is not judged. "
                                "Please report it.", seed=seed)


def _check(text: str, *, target: str, seconds: float, seed: int | None, lang: str, hint: bool,
           declared: dict | None, macros: tuple, case: str | None, classes: int | None, memo: dict | None,
           printed: bool) -> Verdict:
    """check_answer's work; see there."""
    goal = targets.get(target)  # UsageError for an unknown name: that is the caller's mistake
    say(lang, "none")  # UsageError for an unknown language, before any work
    seed = fresh_seed() if seed is None else seed
    try:
        if not isinstance(text, str):
            raise ParseError("the answer must be text")
        aliases = code_aliases(text)
        text, prose = displayed_formulas(text)
        text, named = set_aside_named_left_side(normalise(expand_macros(text, macros)))
        given = target_roles(goal)
        if given:
            text, named = set_aside_gradient_name(text, goal.part) if named is None else (text, named)
        letters = infer(text, declared=declared, arrays=goal.arrays)
        roles = {**letters.role_map(), **given, **(declared or {})}
        letters = replace(letters, roles=tuple(sorted(roles.items())))
        with time_limit(seconds):  # reading is bounded by counts; this is the safety net
            chain, notes, conditions, unread = _read(text, binary=is_binary(goal), roles=roles)
        if prose:
            notes.append("prose_set_aside")
        refuse_foreign_letters([expr for _line, expr in chain], goal)
        chain, conditions = _without_definitions(chain, conditions, goal)
        conditions = _true_class_cases(conditions, roles, goal)
        question_case = read_case(case) if case is not None else None
        if question_case is not None:
            conditions = {**{at: question_case for at in range(len(chain))}, **conditions}
    except ParseError as error:
        return Verdict("invalid", "", reading_error(lang, error), column=error.column, seed=seed)
    except CheckTimeout as error:
        return Verdict("undecided", "", f"Undecided: reading the answer stopped: {error}.", seed=seed)
    except Exception as error:  # the edge (see check_answer): a bug while reading
        return _internal_error("invalid", "reading", error, seed)
    written = chain  # in the answer's own letters, before they are mapped onto the target's
    try:  # aligning a named left side (d sigma_1 / d z_9) may find it cannot be read
        aligned = align(chain, goal)
        # A written-out matrix is echoed as the matrix: as the Piecewise it is judged as, SymPy prints
        # the merged places of equal entries as a conjunction of alternatives (K = 2, K = 2 v i = 1, ...).
        shown = [expr if isinstance(expr, sp.MatrixBase) else None for _line, expr in aligned.chain]
        aligned = replace(aligned, chain=[(line, explicit_entries(expr, goal)) for line, expr in aligned.chain])
    except ParseError as error:
        return Verdict("invalid", "", reading_error(lang, error), column=error.column, seed=seed)
    try:
        chain = _restrict(aligned, conditions, goal, question_case)
    except ParseError as error:
        return Verdict("invalid", "", reading_error(lang, error), column=error.column, seed=seed)
    echoed = echo(letters, aligned, text, aliases)
    interpretation = " = ".join(to_latex(matrix if matrix is not None else expr)
                                for (_line, expr), matrix in zip(chain, shown)) if printed else ""
    named_note = f"The left side {named} is read as the target's own name." if named else ""
    reading = " ".join(filter(None, [echo_text(echoed, lang), _reading(chain, notes, lang), named_note]))
    count = next((note[1]["count"] for note in notes if note[0] == "class_count"), None)
    against = _against_the_classes(written, chain, count, classes)
    if against is not None:
        if isinstance(against, ParseError):
            return Verdict("invalid", "", reading_error(lang, against), seed=seed)
        key, fields = against
        from .mistakes import mistake
        return Verdict("incorrect", interpretation, f"{reading} " + say(lang, key, **fields),
                       mistake("class-count", lang=lang), reading=echoed, seed=seed, lang=lang)
    apart = None if aligned.case is not None else _sides_apart(written, conditions)
    if apart is not None:
        line, left, right = apart
        message = f"{reading} " + say(lang, "sides_apart", line=line, left=", ".join(left), right=", ".join(right))
        return Verdict("incorrect", interpretation, message, None, None, (LineVerdict(line, "incorrect"),), line,
                       reading=echoed, seed=seed, lang=lang)
    key = (tuple(chain), goal, interpretation, reading, seconds, seed, lang, hint)  # all _decide reads
    verdict = memo.get(key) if memo is not None else None
    if verdict is None:
        verdict = _decide(chain, goal, interpretation, reading, seconds, seed, lang, hint)
        if memo is not None and len(memo) < MEMO_ENTRIES:
            memo[key] = verdict
    if unread is not None and (verdict.verdict != "incorrect" or (verdict.mistake is not None and verdict.mistake.id == "not-differentiated")):
        # Lines before the unreadable one hold no mistake: the verdict is that the rest cannot be read.
        return Verdict("invalid", interpretation, reading_error(lang, unread), column=unread.column, reading=echoed,
                       seed=seed)
    verdict = replace(verdict, reading=echoed)
    missing = _case_missing(aligned, conditions) if verdict.verdict == "correct" and question_case is None else None
    if missing is not None:
        return _one_case_only(verdict, missing, reading, goal, lang)
    if verdict.verdict == "correct" and count is not None:
        return _for_the_classes_written(verdict, count, goal, lang, asked=classes is not None)
    return verdict


def _against_the_classes(written: list, chain: list, count: int | None, classes: int | None):
    """When the classes the answer names or writes out contradict the number its sums run to or the
    question's (--classes): a ParseError for a class named beyond the sum's count (class 5 beside
    sum_{k=1}^{3}), or (message key, fields) of an incorrect answer (class-count) for a sum to another
    number than --classes or a matrix written out at another K; None when they agree."""
    highest = max((n for _line, expr in written for n in class_numbers(expr)), default=0)
    if count is not None and highest > count:
        return ParseError(f"class {highest} is named, beyond the {count} classes a sum runs over")
    if count is not None and classes is not None and count != classes:
        return "class_count_wrong", {"count": count, "classes": classes}
    shown = sorted({n for _line, expr in chain for n in written_sizes(expr)} - {classes})
    if classes is not None and shown:
        return "class_count_written", {"count": shown[0], "classes": classes}
    return None


def _for_the_classes_written(verdict: Verdict, count: int, goal, lang: str, asked: bool) -> Verdict:
    """A right answer whose sum runs to a number (\\sum_{k=1}^{9}): right for a question with that many
    classes, so the proof claims that K alone (a general-K proof covers it); without --classes (`asked`),
    the message says the question must have that many."""
    evidence = verdict.evidence
    if evidence.level != NUMERIC:
        evidence = replace(evidence, level=EXACT, Ks=(count,))
    old_line = evidence_line(verdict.evidence, largest_K(verdict.seed, goal.semantics), lang)
    new_line = evidence_line(evidence, largest_K(verdict.seed, goal.semantics), lang)
    message = verdict.message.replace(old_line, new_line)
    if not asked:
        message = f"{message} " + say(lang, "class_count_only", count=count)
    return replace(verdict, message=message, evidence=evidence)


def _case_missing(aligned, conditions: dict) -> tuple | None:
    """(the case stated, the case not answered) when every line is stated for a case (`, \\quad i = j`,
    or a left side d s_i / d z_i) and no line for its complement: right where it is stated, the answer
    still leaves part of the question unanswered (--case says when the question asks for one case)."""
    own = aligned.case if isinstance(aligned.case, (sp.Eq, sp.Ne)) and all(
        isinstance(side, sp.Symbol) for side in aligned.case.args) else None
    stated = []
    for at in range(len(aligned.chain)):
        cases = ([own] if own is not None else []) + (
            [condition_expr(conditions[at], aligned.mapping)] if at in conditions else [])
        if not cases:
            return None  # a line for every case
        stated.extend(cases)
    if any(_complement(case) in stated for case in stated):
        return None
    return stated[0], _complement(stated[0])


def _complement(case: sp.Basic) -> sp.Basic:
    """The other case: i != j for i = j, and y_i = 0 (not the true class) for y_i = 1."""
    if isinstance(case, sp.Eq) and isinstance(case.lhs, sp.Indexed) and case.rhs in (0, 1):
        return sp.Eq(case.lhs, 1 - case.rhs)
    return sp.Ne(*case.args) if isinstance(case, sp.Eq) else sp.Eq(*case.args)


def _one_case_only(verdict: Verdict, missing: tuple, reading: str, goal, lang: str) -> Verdict:
    """A right answer for one case when the question asks for every case: incorrect, every line right."""
    from .mistakes import mistake
    stated, other = (_said(case) for case in missing)
    indices = ", ".join(str(index) for index in goal.free)
    message = f"{reading} " + say(lang, "case_missing", case=stated, other=other, indices=indices)
    return replace(verdict, verdict="incorrect", message=message, evidence=None, mistake=mistake("case-missing", lang=lang))


def _without_definitions(chain: list, conditions: dict, goal) -> tuple:
    """The chain without the lines that define the question's own symbols (L = -sum_k y_k log sigma_k,
    written before the derivation, as notes do): the target knows L, and the line is no step toward
    dL/dz_i (it was judged as one, and a right derivation was "not differentiated")."""
    defined = {symbol for symbol, _value in goal.definitions}
    opening = {}
    for line, expr in chain:
        opening.setdefault(line, expr)
    dropped = {line for line, expr in opening.items() if expr in defined}
    if not dropped or len(dropped) == len(opening):
        return chain, conditions
    kept = [at for at, (line, _expr) in enumerate(chain) if line not in dropped]
    return [chain[at] for at in kept], {new: conditions[old] for new, old in enumerate(kept) if old in conditions}


def _true_class_cases(conditions: dict, roles: dict, goal) -> dict:
    """A case naming the targets' letter as an index (`\\text{if } i = y`: y the label) is the case
    "i is the true class"; read as an index y, it compared sigma_i - 1 at i = y against a y of its own."""
    if "y" not in goal.arrays:
        return conditions
    label = next((letter for letter, role in roles.items() if role == "targets"), None if "y" in roles else "y")
    def read(condition):
        a, equal, b = condition
        if label is not None and label in (a, b) and TRUE_CLASS not in (a, b) and a != b:
            return (b if a == label else a), equal, TRUE_CLASS
        return condition
    return {at: read(condition) for at, condition in conditions.items()}


def _restrict(aligned, conditions: dict, goal, question_case: tuple | None = None) -> list:
    """Lines stated for a case (`, \\quad i = j`, or a left side d s_i / d z_i) judged in that case only;
    a line's own case and the question's (--case) must have an index in common. `conditions` is keyed by
    the place in the chain: rows of one line (a \\\\ b) may each state their case."""
    out = []
    for at, (line, expr) in enumerate(aligned.chain):
        said = ([(aligned.case, _said(aligned.case))] if aligned.case is not None else []) + (
            [(condition_expr(conditions[at], aligned.mapping), _said(conditions[at]))] if at in conditions else [])
        if question_case is not None and conditions.get(at) != question_case:
            said.append((condition_expr(question_case, aligned.mapping), _said(question_case)))
        stated = [condition for condition, _words in said]
        if _no_index_in(stated):  # i != i, or d s_i / d z_i for i != j: elsewhere is the target itself
            raise ParseError(f"line {line} is stated for a case no index is in "
                             f"({', '.join(words for _c, words in said)}), so it claims nothing that could be checked")
        for condition in stated:
            expr = restricted(expr, condition, goal)
        out.append((line, expr))
    return out


def _sides_apart(chain: list, conditions: dict) -> tuple | None:
    """(line, left's free indices, right's) for the first equation whose sides share no free index,
    as dL/dz_k = sigma_i - y_i: the right side does not depend on k, so it is not the derivative for
    every k. Mapping both letters onto the target's i would call it right. A side without indices
    (a vector) and a line stated for a case (which may make i and j one; with --case, every line is)
    are left to the comparison."""
    for at, ((_line, before), (next_line, after)) in enumerate(zip(chain, chain[1:])):
        left, right = free_indices_once(before), free_indices_once(after)
        if left and right and not left & right and at not in conditions and at + 1 not in conditions:
            return next_line, sorted(map(str, left)), sorted(map(str, right))
    return None


def _said(condition) -> str:
    """A case as the student wrote it ((a, equal, b) in the answer's letters) or as a left side implies it."""
    if isinstance(condition, tuple):
        a, equal, b = condition
        return f"{a} = {b}" if equal else f"{a} != {b}"
    if isinstance(condition, sp.And):  # a named entry: i = 1, j = 2
        return ", ".join(_said(part) for part in sorted(condition.args, key=str))
    if isinstance(condition, sp.Eq) and isinstance(condition.lhs, sp.Indexed):  # y_i = 1: the true class
        return f"{condition.lhs.base}_{condition.lhs.indices[0]} = {condition.rhs}"
    if isinstance(condition, (sp.Eq, sp.Ne)):
        return f"{condition.lhs} {'=' if isinstance(condition, sp.Eq) else '!='} {condition.rhs}"
    return str(condition)


def _no_index_in(conditions: list) -> bool:
    """The cases contradict each other or themselves: Ne(i, i), Eq(i, j) beside Ne(i, j), or a named
    entry (i = 1 and j = 2) against a case it is not in (i = j)."""
    if any(condition is sp.false for condition in conditions):
        return True
    equal = {frozenset(c.args) for c in conditions if isinstance(c, sp.Eq)}
    if any(isinstance(c, sp.Ne) and frozenset(c.args) in equal for c in conditions):
        return True
    named = {eq.lhs: eq.rhs for c in conditions for eq in c.atoms(sp.Eq)
             if isinstance(eq.lhs, sp.Symbol) and eq.rhs.is_Integer}
    return bool(named) and any(c.xreplace(named) is sp.false for c in conditions)


def _decide(chain: list, goal, interpretation: str, reading: str, seconds: float, seed: int, lang: str,
            hint: bool) -> Verdict:
    """The verdict within its CPU allowance, then (for a wrong answer) the mistake named within its own."""
    try:
        with time_limit(seconds):
            verdict = _judge(chain, goal, interpretation, reading, cpu_deadline(seconds), seed, lang)
    except (CheckTimeout, Undecided, RecursionError) as error:
        reason = say(lang, "time_out", seconds=f"{seconds:g}") if isinstance(error, CheckTimeout) else str(error)
        return Verdict("undecided", interpretation, f"{reading} {say(lang, 'undecided', error=reason)}", seed=seed)
    except UnknownSize as error:
        return Verdict("undecided", interpretation,
                       f"{reading} {say(lang, 'undecided', error=say(lang, 'unknown_size', sizes=', '.join(error.sizes)))}",
                       seed=seed)
    except (EvaluationError, TypeError, ValueError, NotImplementedError, ArithmeticError) as error:
        # Read, but not computable by our evaluator (or SymPy refused a step): never "correct".
        return Verdict("undecided", interpretation, f"{reading} {say(lang, 'cannot_evaluate', error=error)}",
                       seed=seed)
    if verdict.verdict != "incorrect" or verdict.mistake is not None:
        return verdict
    return _explained(verdict, chain, goal, lang, hint)


def _read(text: str, *, binary: bool = False, roles: dict | None = None) -> tuple:
    """[(line, expression)] in order, notes on the reading (log is natural), {place in that list:
    condition}, and the ParseError of the first unreadable line after a readable one (None when every
    line was read)."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("the answer is empty")
    chain, ln, log, conditions, unread, count, reused = [], False, False, {}, None, None, set()
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
            previous = [c for _at, c in sorted(conditions.items()) if c != OTHERWISE][-1:]
            if not previous:
                raise ParseError("'otherwise' follows no stated case", line=segment.line)
            a, equal, b = previous[0]
            condition = (a, not equal, b)
        parts = [(segment.line, part) for part in parsed.parts if part is not None]
        if condition is not None:  # by place in the chain: the rows of one line (a \\ b) each have their own
            conditions.update({at: condition for at in range(len(chain), len(chain) + len(parts))})
        ln, log = ln or parsed.used_ln, log or parsed.used_log
        count = count or parsed.class_count
        reused.update(parsed.reused_sum_indices)
        chain.extend(parts)
    if not chain and unread is None:
        raise ParseError("the answer holds no formula, only words")
    notes = []
    if ln or log:
        notes.append("natural_log")
    if count:
        notes.append(("class_count", {"count": count}))
    if reused:
        notes.append(("bound_sum_index", {"letters": ", ".join(sorted(reused))}))
    return chain, notes, conditions, unread


def is_binary(goal) -> bool:
    """K fixed at 2 and no free index (sigmoid-logistic-gradient): y and sigma alone mean y_1, sigma_1."""
    return not goal.free and goal.semantics is not None and tuple(goal.semantics.Ks or ()) == (2,)


def _reading(chain: list, notes: list, lang: str = "en") -> str:
    exprs = [expr for _line, expr in chain]
    free = sorted(set().union(*(free_indices_once(e) for e in exprs)), key=str)
    summed = sorted(set().union(*(summed_indices(e) for e in exprs)), key=str)
    none = say(lang, "none")
    roles = say(lang, "reading", free=", ".join(map(str, free)) or none, summed=", ".join(map(str, summed)) or none)
    return " ".join([roles, *(say(lang, note) if isinstance(note, str) else say(lang, note[0], **note[1])
                              for note in notes)])


def _judge(chain: list, goal, interpretation: str, reading: str, deadline: float, seed: int, lang: str) -> Verdict:
    """The verdict alone (no mistake named yet): numbers at every line, then a proof of each line."""
    per_line: dict[int, str] = {}
    points = 0
    for line, expr in chain:
        if _is_the_question(expr, goal):
            per_line.setdefault(line, "correct")  # equal to the target by its verified derivation: no
            continue  # numeric derivative at every point (a fifth of a class's checking time)
        try:
            result = compare(expr, goal, deadline=deadline, seed=seed)
        except ShapeMismatch as error:
            result = Comparison(False, None, 0, str(error))
        if not result.agree:
            per_line[line] = "incorrect"
            message = _wrong_message(line, chain, result, goal, reading, lang)
            return Verdict("incorrect", interpretation, message, None, result.counterexample,
                           _line_verdicts(chain, per_line), line, seed=seed)
        per_line.setdefault(line, "correct")
        points += result.checked
    last_line, last = chain[-1]
    if last.has(sp.Derivative) and _unfinished(chain, goal):
        # Every line agrees, but the last one is a step on the way (a chain rule with the inner
        # derivative still written): not wrong, not an answer yet.
        return Verdict("undecided", interpretation, f"{reading} {say(lang, 'unfinished')}", None, None,
                       _line_verdicts(chain, per_line), None, seed=seed)
    if last.has(sp.Derivative):
        from .mistakes import mistake  # see identify
        per_line[last_line] = "incorrect"
        return Verdict("incorrect", interpretation, f"{reading} {say(lang, 'restates')}",
                       mistake("not-differentiated", lang=lang), None, _line_verdicts(chain, per_line), last_line,
                       seed=seed)
    evidence = _evidence(chain, goal, points, seed)
    if evidence.level != SYMBOLIC:  # agreement at the sizes tested says nothing of a high-degree size polynomial
        found = next(filter(None, (undetermined_size(expr, goal) for _line, expr in chain)), None)
        if found is not None:
            size, degree, count = found
            degree = "unbounded" if degree == float("inf") else int(degree)
            return Verdict("undecided", interpretation,
                           f"{reading} {say(lang, 'size_degree', size=size, degree=degree, count=count)}",
                           None, None, _line_verdicts(chain, per_line), None, seed=seed)
    if evidence.level == NUMERIC:  # not proved: a difference below the tolerance is still a difference
        for line, expr in chain:
            if _is_the_question(expr, goal):
                continue
            found = tiny_difference(expr, goal, seed)
            # A difference that no precision up to 1,600 digits tells from rounding: the exact test at K = 2..8.
            exact = exact_difference(expr, goal) if found is None else None
            if found is not None or exact is not None:
                from .mistakes import mistake  # see identify
                per_line[line] = "incorrect"
                where = say(lang, "line_wrong", line=line) + " " if len({ln for ln, _e in chain}) > 1 else ""
                reason = (say(lang, "tiny_difference", lhs=_question_latex(goal.lhs), size=mpmath.nstr(found[1], 3),
                              K=found[0], digits=found[2])
                          if found is not None else say(lang, "exact_difference", lhs=_question_latex(goal.lhs), K=exact))
                return Verdict("incorrect", interpretation, f"{reading} {where}{say(lang, 'incorrect', reason=reason)}",
                               mistake("spurious-term", lang=lang), None, _line_verdicts(chain, per_line), line,
                               seed=seed, lang=lang)
        # Agreement at points in a range proves an analytic answer equal on the whole domain, not one
        # holding |x| or a root of something that vanishes: it may switch formula outside the range.
        switching = next(filter(None, (switching_term(expr) for line, expr in chain
                                       if not _is_the_question(expr, goal))), None)
        if switching is not None:
            return Verdict("undecided", interpretation,
                           f"{reading} {say(lang, 'switching_term', term=to_latex(switching))}",
                           None, None, _line_verdicts(chain, per_line), None, seed=seed)
        # An answer for general classes i, j that singles out a class by its number (delta_{i,99}) is
        # compared only where the points happen to reach that class (never above K = largest_K, and at
        # a sample of index values): agreement says nothing about the term, and it was not proved.
        numbered = sorted({n for _line, expr in chain if not written_sizes(expr) for n in class_numbers(expr)})
        if goal.free and numbered:
            return Verdict("undecided", interpretation,
                           f"{reading} {say(lang, 'class_by_number', number=numbered[-1])}",
                           None, None, _line_verdicts(chain, per_line), None, seed=seed)
    if time.thread_time() > deadline:
        # Lines equal to the question skip `compare` and its deadline checks; the SIGPROF timer fires
        # only at the next scheduler tick. "correct" is given only within the allowance.
        raise CheckTimeout("the check ran out of time")
    largest = largest_K(seed, goal.semantics)
    message = " ".join([reading, say(lang, "correct", target=_result_latex(goal.name)),
                        evidence_line(evidence, largest, lang)])
    return Verdict("correct", interpretation, message, None, None, _line_verdicts(chain, per_line), None,
                   evidence=evidence, seed=seed, lang=lang)


def _unfinished(chain: list, goal) -> bool:
    """A step that still holds a derivative, after a left side: work in progress, whether the derivative
    stands inside a larger expression or the function is written out under it (d/dz_j of
    e^{z_j} / sum_k e^{z_k}). A lone derivative, or one that only restates the question, is no step at all."""
    claims = [_claim(expr) for _line, expr in chain]
    last, earlier = claims[-1], claims[:-1]
    if not any(isinstance(expr, sp.Derivative) for expr in earlier):
        return False
    return not isinstance(last, sp.Derivative) or last not in earlier and not _is_the_question(last, goal)


def _case_of(expr):
    """The case a line is stated for (alignment.restricted's condition), or None."""
    restricted_to_a_case = isinstance(expr, sp.Piecewise) and len(expr.args) == 2 and expr.args[1].cond == sp.true
    return expr.args[0].cond if restricted_to_a_case else None


def _claim(expr):
    """What a line claims, without the case it is stated for (alignment.restricted's Piecewise)."""
    return expr.args[0].expr if _case_of(expr) is not None else expr


@functools.lru_cache(maxsize=None)
def _result_latex(name: str) -> str:
    return to_latex(targets.get(name).result)


@functools.lru_cache(maxsize=64)
def _question_latex(lhs: sp.Basic) -> str:
    """The question's left side as LaTeX, printed once per process: every wrong answer's message shows it."""
    return to_latex(lhs)


def _evidence(chain: list, goal, points: int, seed: int) -> Evidence:
    """The weakest proof over the lines: a derivation is as sure as its least sure line."""
    order = (SYMBOLIC, EXACT, NUMERIC)
    level, Ks = SYMBOLIC, ()
    for _line, expr in chain:
        if _is_the_question(expr, goal):
            continue
        line_level, line_Ks = prove(expr, goal)
        if order.index(line_level) > order.index(level):
            level, Ks = line_level, line_Ks
    return Evidence(level, Ks, points, seed)


def _is_the_question(expr, goal) -> bool:
    """The target's own left side (dL/dz_i written before the answer): the question, not a claim."""
    return isinstance(expr, sp.Derivative) and expr == goal.lhs


def evidence_line(evidence: Evidence, largest: int, lang: str = "en") -> str:
    """One sentence: how "correct" was established (`largest`: the largest K of the points)."""
    Ks = f"{evidence.Ks[0]}..{evidence.Ks[-1]}" if len(evidence.Ks) > 1 else ", ".join(map(str, evidence.Ks))
    return say(lang, f"evidence_{evidence.level}", points=evidence.points, seed=evidence.seed, Ks=Ks, largest=largest)


def _explained(verdict: Verdict, chain: list, goal, lang: str, hint: bool) -> Verdict:
    """The verdict is fixed; name the mistake (and the broken step) within its own CPU allowance.
    A named mistake never changes the verdict, and the fixed points of naming make it reproducible.
    The step diagnosis is imported here, not with the checker (see identify)."""
    from .steps import diagnose, step_message
    line = verdict.first_wrong_line
    wrong = [expr for ln, expr in chain if ln == line]
    # A line that restates the left side for its case (dL/dz_i = sigma_i + 1, otherwise): its claim is
    # the part after the derivative, which is what the mistake is named from.
    claims = [expr for expr in wrong if not _is_the_question(_claim(expr), goal)]
    expr = (claims or wrong)[0] if wrong else chain[-1][1]
    is_left_side = (line, expr) == chain[0] and len(chain) > 1 and isinstance(expr, sp.Derivative)
    found, step, hint_text = None, None, None
    try:
        with time_limit(NAMING_SECONDS):
            if is_left_side:
                found = _left_side_mistake(expr, goal, lang)
            elif verdict.counterexample is not None:
                found = identify(expr, goal, lang)
            previous = [(ln, e) for ln, e in chain if ln < line]
            if previous and _case_of(previous[-1][1]) != _case_of(expr):
                previous = []  # the line before states another case: this line is no step from it
            if previous and not is_left_side:
                step = diagnose(previous[-1][1], expr, goal)
    except (CheckTimeout, ShapeMismatch, EvaluationError, TypeError, ValueError, ArithmeticError):
        pass
    message = verdict.message
    if step is not None:
        previous_line = max(ln for ln, _e in chain if ln < line)
        message = f"{message} {step_message(step, line, previous_line, lang)}"
    if hint:
        attempted = step.transformation if step is not None else _first_step(expr, goal)
        hint_text = say(lang, "hint", line=line or 1, hint=say(lang, attempted, "hints"))
    return replace(verdict, message=message, mistake=found, step=step, hint=hint_text, lang=lang)


def identify(expr, goal, lang: str):
    """mistakes.identify, imported at a wrong answer's first naming, not with the checker: a right
    answer never needs the catalogue of mistakes (nor the step diagnosis), and a check's start-up
    need not pay for them."""
    from .mistakes import identify as named
    return named(expr, goal, lang)


def _first_step(expr, goal) -> str:
    """For a one-line answer: the transformation the question itself calls for first, read from its left
    side: d sigma_i / d z_j a quotient, d log(...) / d z_j the logarithm, the Hessian H_ij the derivative
    of the gradient, d L / d(anything) the chain rule; other questions as the step diagnosis reads them."""
    lhs = goal.lhs
    if isinstance(lhs, sp.Indexed) and lhs.base.name == "H":
        return "differentiate-gradient"
    if isinstance(lhs, sp.Derivative):
        if isinstance(lhs.expr, sp.Indexed) and lhs.expr.base.name == "sigma":
            return "quotient-rule"
        if isinstance(lhs.expr, sp.log):
            return "log-rule"
        return "chain-rule"
    from .steps import diagnose  # see identify
    try:
        return diagnose(goal.lhs, expr, goal).transformation
    except (ShapeMismatch, EvaluationError, TypeError, ValueError, ArithmeticError):
        return "unknown"


def _left_side_mistake(expr, goal, lang: str = "en"):
    """A wrong left side asks another question: name the derivation it belongs to, if we know it."""
    if not isinstance(expr, sp.Derivative):  # only a derivative can be another question's left side
        return None
    from .mistakes import mistake  # see identify
    for name, (lhs, _result) in targets.questions().items():
        if lhs != goal.lhs and expr == lhs:
            return mistake("other-target", ("left_side", {"lhs": to_latex(expr), "name": name,
                                                          "goal": to_latex(goal.lhs)}), lang)
    return None


def _line_verdicts(chain: list, per_line: dict) -> tuple:
    seen = []
    for line, _expr in chain:
        if line not in seen:
            seen.append(line)
    return tuple(LineVerdict(line, per_line.get(line, "undecided")) for line in seen)


def _wrong_message(line: int, chain: list, result: Comparison, goal, reading: str, lang: str = "en") -> str:
    where = say(lang, "line_wrong", line=line) + " " if len({ln for ln, _e in chain}) > 1 else ""
    if result.counterexample is None:
        return f"{reading} {where}{say(lang, 'incorrect', reason=result.message)}"
    c = result.counterexample
    indices = ", ".join(f"{name} = {value}" for name, value in c.indices)
    point = f"sigma = ({', '.join(c.sigma_text)})" if c.sigma_text else (f"z = {list(c.z)}" if c.z else "")
    targets_text = f", y = {list(c.y)}" if c.y is not None else ""
    targets_text += "".join(f", {name} = {value}" for name, value in c.inputs)
    if not point:
        targets_text = targets_text.removeprefix(", ")
    at = f"{indices + ', ' if indices else ''}{point}{targets_text}"
    return f"{reading} {where}" + say(lang, "incorrect_at", K=c.K, where=at, got=f"{c.got:.12g}",
                                      lhs=_question_latex(goal.lhs), expected=f"{c.expected:.12g}")
