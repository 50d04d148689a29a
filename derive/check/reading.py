"""Read an answer in its author's notation: letters' roles and free indices from the left side, co-occurrence or declaration.

Why before and after parsing: the roles must be known before the grammar's builder turns `p_j`
into a softmax output (so they are read from the raw text with small bounded regexes), and the
index bijection onto the target's indices needs the parsed left side (so it is applied to the
parsed chain). Nothing here evaluates the text: it only chooses names from fixed tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from .. import symbols
from ..algebra.indices import free_indices, rename_sum_indices
from ..errors import ParseError
from ..parse.build import RESERVED, Y_NAMES, Build, index_symbol
from .points import RANDOM_KS, READABLE

# The K at which every answer is compared: a written-out answer (z_1 .. z_3) is judged at its own K.
CHECKED_KS = frozenset(RANDOM_KS) | {len(sigma) for sigma, _y in READABLE}

# Builder roles, and how the echo names them.
ROLE_NAMES = {"sigma": "softmax output", "z": "logits", "y": "targets", "L": "loss"}
NOTATION_ROLES = {"probs": "sigma", "logits": "z", "targets": "y", "loss": "L"}
MAX_MACROS = 20
MAX_MACRO_LENGTH = 40

# One symbol as typed: \hat{y}, \hat y, \mathbf{z}, \mathcal{L}, \text{CE}, \theta, or a letter.
_SYMBOL = (r"(?:\\hat\s*\{?\s*(?P<hat>[A-Za-z])\s*\}?"
           r"|\\(?:mathbf|boldsymbol|bm|vec|mathcal|mathit|mathrm|text|operatorname)\s*\{?\s*(?P<word>[A-Za-z]{1,8})\s*\}?"
           r"|\\(?P<greek>[a-z]{2,10})(?![A-Za-z])"
           r"|(?P<letter>[A-Za-z]))")
_HEAD = re.compile(r"\s*(?:\{\s*)?(?:\\log|\\ln|log|ln)?\s*(?:\\left)?\s*[({]?\s*" + _SYMBOL
                   + r"\s*\}?\s*(?:\((?P<arg>[^()]{0,30})\))?\s*\}?\s*(?:_\s*\{?\s*(?P<index>[a-z0-9])|(?P<none>))")
_D = r"(?:\\partial|∂|\bd)"
# The left side: \frac{\partial N}{\partial D}, \partial N / \partial D, dN/dD, {\partial N \over \partial D}.
_BODY = r"(?P<{0}>(?:[^{{}}]|\{{[^{{}}]*\}}){{0,80}}?)"
_LEFT_SIDES = (
    re.compile(r"\\[dt]?frac\s*\{\s*" + _D + _BODY.format("num") + r"\}\s*\{\s*" + _D + _BODY.format("den") + r"\}"),
    re.compile(r"\{\s*" + _D + _BODY.format("num") + r"\\over\s*" + _D + _BODY.format("den") + r"\}"),
    re.compile(_D + r"\s*(?P<num>[^/=\s]{1,30})\s*/\s*" + _D + r"\s*(?P<den>[^=\s,]{1,30})"),
)
_STANDALONE = r"(?<![A-Za-z\\{])(?:\\mathbf\s*\{\s*)?LETTER(?![A-Za-z])"


@dataclass(frozen=True)
class Reading:
    """How the answer's letters were read: builder roles, the echo's wording, the guesses."""

    roles: tuple = ()  # ((key, builder role), ...) as the builder sees keys: "p", "hat-y", "\\theta"
    guessed: tuple = ()  # keys (and index letters) whose role was guessed, not read or declared
    declared: bool = False

    def role_map(self) -> dict:
        return dict(self.roles)


def symbol_key(tex: str) -> str | None:
    """The builder's key for a typed symbol (\\hat{y} -> hat-y, \\mathbf{z} -> z, \\theta -> \\theta)."""
    match = re.fullmatch(_SYMBOL, tex.strip())
    if not match:
        return None
    return _key(match)


def _key(match: re.Match) -> str:
    if match.group("hat"):
        return f"hat-{match.group('hat')}"
    if match.group("word"):
        return match.group("word")
    if match.group("greek"):
        return "\\" + match.group("greek")
    return match.group("letter")


def declared_roles(notation) -> dict:
    """Builder roles from a render Notation (--symbol ROLE=TEX, --notation FILE); ParseError if unreadable."""
    out = {}
    for role, builder_role in NOTATION_ROLES.items():
        tex = notation.symbol(role)
        key = symbol_key(tex)
        if key is None:
            raise ParseError(f"the declared symbol {tex!r} for {role} is not a letter the checker reads")
        out[key] = builder_role
    return out


def expand_macros(text: str, macros: tuple) -> str:
    """`\\probs=\\sigma` pairs applied once each, left to right: plain text substitution, never TeX expansion."""
    if len(macros) > MAX_MACROS:
        raise ParseError(f"too many macros (at most {MAX_MACROS})")
    for spec in macros:
        name, sep, body = spec.partition("=")
        name, body = name.strip(), body.strip()
        if not sep or not re.fullmatch(r"\\[A-Za-z]{1,20}", name) or len(body) > MAX_MACRO_LENGTH or "\\" + "def" in body:
            raise ParseError(f"--macro expects \\NAME=TEX (at most {MAX_MACRO_LENGTH} characters), not {spec!r}")
        # A replacement followed by a letter must stay separated from it (\probs_i -> \sigma _i is fine).
        text = re.sub(re.escape(name) + r"(?![A-Za-z])", lambda _m: body + " ", text)
    return text


def infer(text: str, *, declared: dict | None = None, arrays: tuple = ()) -> Reading:
    """Roles of the answer's letters: declared ones first, then the left side, then co-occurrence.
    `arrays`: the target's input arrays (z, y, g, W, ...), which say what a letter can stand for."""
    roles = dict(declared or {})
    guessed = []
    for key, role in (_left_side(text, arrays) or {}).items():
        roles.setdefault(key, role)
    if "y" not in roles and "t" not in roles and _has_letter(text, "y") and _has_letter(text, "t"):
        # Bishop: y is the network's output and t the target whenever both letters appear.
        roles["y"], roles["t"] = "sigma", "y"
        guessed.append("y")
    if roles.get("y") == "sigma":
        roles.setdefault("t", "y")
    if "Y" not in arrays and _has_letter(text, "Y", indexed=False):
        roles.setdefault("Y", "y")  # one example's targets, capitalised as some notes write them
    if "y" not in arrays and "y" not in roles and _has_letter(text, "y", indexed=False) and not any(
            role == "sigma" and _has_letter(text, key, indexed=False) for key, role in roles.items()) and not any(
            _has_letter(text, key, indexed=False) for key in ("s", "S", "p", "\\sigma", "sigma", "softmax")):
        # The target has no labels, so a lone y is the network's output (diag(y) - y y^T).
        roles["y"] = "sigma"
        guessed.append("y")
    return Reading(roles=tuple(sorted(roles.items())), guessed=tuple(guessed), declared=bool(declared))


def _has_letter(text: str, letter: str, *, indexed: bool = True) -> bool:
    pattern = re.escape(letter) if letter.startswith("\\") else letter
    return re.search(_STANDALONE.replace("LETTER", pattern) + (r"\s*_" if indexed else ""), text) is not None


# A left side that names the result instead of deriving it: J =, J_{ij} =, \mathbf J_{\mathbf x}(\mathbf s) =,
# \nabla_{\mathbf z} L =, \nabla f(x) =, \nabla_W =. It asks the target's question, so it is set aside.
_NAMED_LEFT = re.compile(
    r"^(?P<lead>(?:\s|\$|\\\[|\\\(|\\begin\s*\{\s*[a-z]{1,10}\*?\s*\})*)"
    r"(?P<name>(?:\\mathbf\s*\{?\s*J\s*\}?|J|\\nabla(?:\^2)?)\s*(?:_\s*(?:\{(?:[^{}]|\{[^{}]*\}){0,30}\}|\\?[A-Za-z]+))?"
    r"\s*(?:\((?:[^()]){0,30}\)|\\mathcal\s*\{\s*[A-Z]\s*\}|\\text\s*\{\s*\w{1,6}\s*\}|\\ell|[A-Za-z]{1,2}(?![A-Za-z_]))?"
    r"(?:\s*\((?:[^()]){0,30}\))?)\s*&?\s*(?:=|\\triangleq)")


def set_aside_named_left_side(text: str) -> tuple:
    """(text with a naming left side blanked, the name as typed or None); the rest keeps its columns."""
    match = _NAMED_LEFT.match(text)
    if match is None:
        return text, None
    start = match.end("lead")
    return text[:start] + " " * (match.end() - start) + text[match.end():], match.group("name").strip()


# Code as pasted from a notebook or a library: NumPy calls and attribute access rewritten to the
# notation the grammar reads, by fixed patterns only (nothing is evaluated).
_CODE_HINT = re.compile(r"\bnp\.|\breturn\b|\.T\b|\bself\.")
_CODE_REWRITES = (
    (re.compile(r"^\s*return\s+"), ""),
    (re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]{1,30}\s*=(?!=)"), ""),
    (re.compile(r"\\\s*\n"), " "),  # a Python line continuation
    (re.compile(r"\bnp\.(?:diag|diagflat)\("), "diag("),
    (re.compile(r"\bnp\.outer\(\s*([A-Za-z])\s*,\s*([A-Za-z])\s*\)"), r"\1 \2^T"),
    (re.compile(r"\bnp\.dot\(\s*([A-Za-z])\s*,\s*([A-Za-z])\.T\s*\)"), r"\1 \2^T"),
    (re.compile(r"\b([A-Za-z])\.T\b"), r"\1^T"),
)


# Spellings of one notation that the grammar reads in a single form (bounded, fixed patterns).
_SPELLINGS = (
    (re.compile(r"(?:\\delta|δ)\s*(?:_\s*)?\{?\s*([a-z])\s*,?\s*([a-z])\s*\}?(?![A-Za-z_])"), r"\\delta_{\1\2}"),  # δ_ij, \delta{ij}
    (re.compile(r"\\delta\s*_\s*\{\s*([a-z])\s*=\s*([a-z])\s*\}"), r"\\delta_{\1\2}"),  # \delta_{i=j}
    (re.compile(r"\\frac\s*\{\s*\\delta(?![A-Za-z])(.{0,40}?)\}\s*\{\s*\\delta(?![A-Za-z])"), r"\\frac{\\partial\1}{\\partial"),
    (re.compile(r"(?<![A-Za-z\\{])1\s*_\s*\{\s*([a-z])\s*=\s*([a-z])\s*\}"), r"\\mathbb{1}_{\1=\2}"),  # 1_{i=j}
    (re.compile(r"\\mathbb\s*([1I])(?![0-9])"), r"\\mathbb{\1}"),  # \mathbb 1
    (re.compile(r"\\mathop\s*\{\s*\\(?:textrm|mathrm)\s*\{\s*diag\s*\}\s*\}|\\diag(?![A-Za-z])"), "diag"),
    (re.compile(r"(?<![_^\\])\{\s*\}"), " "),  # an empty group {} typed to end a fraction
    (re.compile(r"^\s*\\(?:bbox|boxed)\s*\{(.*)\}\s*$", re.DOTALL), r"\1"),  # a whole equation in a box
)


def normalise(text: str) -> str:
    """One spelling for each notation the grammar reads: δ_ij, \\delta{ij}, \\frac{\\delta p}{\\delta a}, 1_{i=j}, \\diag."""
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    return normalise_code(text)


def normalise_code(text: str) -> str:
    """NumPy-style answers (`np.diag(s) - np.outer(s, s)`, `return s - y`) in the grammar's notation."""
    if not _CODE_HINT.search(text):
        return text
    for pattern, replacement in _CODE_REWRITES:
        text = pattern.sub(replacement, text)
    return text


def _derivatives(text: str) -> list:
    """Every derivative written as a fraction, a slash or \\over, in the order it appears."""
    found = [m for pattern in _LEFT_SIDES for m in pattern.finditer(text)]
    return sorted(found, key=lambda m: m.start())[:MAX_DERIVATIVES]


MAX_DERIVATIVES = 40


def _free_letter(key: str, arrays: tuple) -> bool:
    """A letter the answer may give a role: one without a meaning of ours, or an array this target lacks
    (x is the logits of a Jacobian, the input of a linear layer)."""
    return key not in RESERVED or (key == "x" and not {"x", "W", "X", "b"} & set(arrays))


def _left_side(text: str, arrays: tuple = ()) -> dict | None:
    """Roles the first derivative gives (numerator: output or loss; denominator: logits), then the
    other derivatives by those logits (d a_k / d z_i makes a an output too)."""
    found = _derivatives(text)
    if not found:
        return None
    roles = _roles_of(found[0], arrays)
    for match in found[1:]:
        numerator, denominator = _HEAD.match(match.group("num")), _HEAD.match(match.group("den"))
        if numerator is None or denominator is None:
            continue
        top, bottom = _key(numerator), _key(denominator)
        role_of = {**{k: Build().role(k) for k in (top, bottom)}, **roles}
        if role_of[bottom] == "z" and top not in roles and numerator.group("index") and top not in RESERVED:
            roles[top] = "sigma"  # d a_k / d z_i: a is an output too
        elif role_of[top] == "L" and bottom not in roles and _free_letter(bottom, arrays):
            roles[bottom] = "z"  # dL/do_i inside a chain rule for dL/db_i: o are the logits
    return roles


def _roles_of(found: re.Match, arrays: tuple) -> dict:
    roles = {}
    numerator = _HEAD.match(found.group("num"))
    denominator = _HEAD.match(found.group("den"))
    if denominator is not None:
        key = _key(denominator)
        if _free_letter(key, arrays) and not key.startswith("hat-") and len(key) <= 6:
            roles[key] = "z"
    if numerator is None:
        return roles
    key = _key(numerator)
    indexed = numerator.group("index") is not None or numerator.group("arg") is not None
    if key in roles or key.startswith("hat-"):
        return roles
    if indexed and (_free_letter(key, arrays) or key in Y_NAMES and "y" not in arrays):
        roles[key] = "sigma"  # an indexed numerator is the output being differentiated (y in Bishop's notation)
    elif not indexed and key not in RESERVED and (key in _LOSS_NAMES or re.fullmatch(r"[A-Z]", key)):
        roles[key] = "L"  # an unindexed numerator is the scalar loss
    return roles


_LOSS_NAMES = frozenset({"l", "\\ell", "\\xi", "CE", "loss", "Loss"})


@dataclass(frozen=True)
class Aligned:
    """The chain in the target's indices, what each answer index stands for, and a case the left side fixes."""

    chain: list
    mapping: dict  # answer index -> target index
    indices: dict  # answer letter -> meaning ("row index", ...)
    guessed: tuple
    case: sp.Basic | None  # Eq(i, j) when the left side repeats an index (d s_i / d z_i), or names one entry


def align(chain: list, goal) -> Aligned:
    """Map the answer's free indices onto the target's (a bijection) and rename them throughout."""
    exprs = [expr for _line, expr in chain]
    used = set().union(*(free_indices(e) for e in exprs)) if exprs else set()
    mapping, guessed, case = _index_mapping(exprs, used, goal)
    meaning = index_meanings(goal)
    indices = {str(a): meaning.get(b, "index") for a, b in mapping.items()}
    for symbol in used - set(mapping):
        indices[str(symbol)] = meaning.get(symbol, "index")
    if any(a != b for a, b in mapping.items()):
        chain = [(line, _rename(expr, mapping)) for line, expr in chain]
    return Aligned(chain, mapping, indices, guessed, case)


def _index_mapping(exprs: list, used: set, goal) -> tuple:
    target = _derivative_indices(goal.lhs)
    entry = _concrete_entry(exprs[0]) if exprs else None
    if entry is not None:
        return {}, (), _concrete_case(exprs, goal, entry)
    if exprs and isinstance(exprs[0], sp.Derivative) and target is not None:
        mine = _derivative_indices(exprs[0])
        if mine is not None and len(mine) == len(target):
            if len(set(mine)) < len(set(target)) and len(target) == 2:  # d s_i / d z_i: the diagonal case
                return {mine[0]: target[0]}, (), sp.Eq(*target)
            if len(set(mine)) == len(mine):
                return dict(zip(mine, target)), (), None
    free = tuple(goal.free)
    if len(used) == len(free) and used != set(free) and len(free) in (1, 2):
        ordered = sorted(used, key=str)
        return dict(zip(ordered, free)), tuple(str(s) for s in ordered) if len(free) == 2 else (), None
    return {s: s for s in used if s in free}, (), None


def _derivative_indices(expr) -> tuple | None:
    """(output index..., variable index...) of d f_a / d x_b, in that order; None if not of that shape."""
    if not isinstance(expr, sp.Derivative) or len(expr.variables) != 1:
        return None
    body, variable = expr.expr, expr.variables[0]
    if isinstance(body, sp.Indexed):
        out = tuple(ix for ix in body.indices if ix.is_Symbol)
    else:  # log sigma_k, e^{a_j} / sum_k e^{a_k}: the indices that stand free in it
        out = tuple(sorted(free_indices(body), key=str))
    var = tuple(ix for ix in getattr(variable, "indices", ()) if ix.is_Symbol)
    return out + var if var else None


def _concrete_entry(expr) -> tuple | None:
    """(row, column) of d a_1 / d z_2, the entry a left side with class numbers names; None otherwise."""
    if not isinstance(expr, sp.Derivative) or len(expr.variables) != 1:
        return None
    body, variable = expr.expr, expr.variables[0]
    if not (isinstance(body, sp.Indexed) and isinstance(variable, sp.Indexed)):
        return None
    numbers = tuple(body.indices) + tuple(variable.indices)
    return numbers if all(n.is_Integer for n in numbers) and len(numbers) == 2 else None


def _concrete_case(chain_exprs: list, goal, entry: tuple) -> sp.Basic:
    """The case a concrete left side states: its entry, and the K its written-out sums imply."""
    target = _derivative_indices(goal.lhs)
    if target is None or len(target) != 2:
        raise ParseError("a left side with class numbers is read only for a Jacobian target")
    condition = sp.And(sp.Eq(target[0], entry[0]), sp.Eq(target[1], entry[1]))
    if any(e.has(sp.Sum) for e in chain_exprs):
        return condition
    written = max(int(n) for e in chain_exprs for ix in e.atoms(sp.Indexed) for n in ix.indices if n.is_Integer)
    if written not in CHECKED_KS:
        raise ParseError(f"the answer writes out {written} classes; written-out answers are read for K in "
                         f"{min(CHECKED_KS)}..{max(CHECKED_KS)}")
    return sp.And(condition, sp.Eq(symbols.K, written))


def refuse_foreign_letters(exprs: list, goal) -> None:
    """ParseError for an array the target does not have (g in a log-sum-exp answer is the author's own
    name for something, not our upstream gradient): a wrong guess must not become a wrong verdict."""
    if not any(symbol == symbols.L for symbol, _value in goal.definitions):
        for expr in exprs:
            if expr.has(symbols.L):  # 1 - e^{LS(z)_i}: an author's two-letter name, not our loss
                raise ParseError(f"L (the loss) has no meaning in {goal.name}; if it is part of a longer name, "
                                 f"declare it with --macro")
    if "g" in goal.arrays:
        return
    for expr in exprs:
        names = {ix.base.name for ix in expr.atoms(sp.Indexed)} | {m.name for m in expr.atoms(sp.MatrixSymbol)}
        # Only g: other foreign letters (y in a Jacobian, x_d in dL/db) are an answer to another
        # question, which the mistake catalogue names; g there is always the author's own name.
        for name in sorted(names & {"g"}):
            raise ParseError(f"the letter {name} has no meaning in {goal.name}; declare what it stands for "
                             f"with --symbol (e.g. --symbol probs={name})")


def index_meanings(goal) -> dict:
    """What each target index stands for: the row and column of a Jacobian, or the gradient's entry."""
    target = _derivative_indices(goal.lhs) or ()
    if len(target) == 2 and not isinstance(goal.lhs.variables[0], sp.Indexed) or len(target) == 2 and \
            len(goal.lhs.variables[0].indices) == 2:
        return {target[0]: "row index", target[1]: "column index"}
    if len(target) == 2:
        return {target[0]: "row index (output)", target[1]: "column index (logit)"}
    return {s: "entry index" for s in target}


def _rename(expr: sp.Basic, mapping: dict) -> sp.Basic:
    """Simultaneous renaming of free indices; summation dummies first moved out of the way."""
    taken = set(mapping.values()) | set(mapping)
    def away(summation: sp.Sum) -> dict:
        out = {}
        for limit in summation.limits:
            if limit[0] in taken:
                out[limit[0]] = _fresh(taken | set(out.values()) | summation.free_symbols)
        return out
    return rename_sum_indices(expr, away).xreplace(mapping)


def _fresh(avoid: set) -> sp.Symbol:
    for letter in "klmrqabcfhuv":
        candidate = index_symbol(letter)
        if candidate not in avoid:
            return candidate
    return sp.Dummy("k", integer=True, positive=True)


_LETTER_IN_TEXT = re.compile(_SYMBOL.replace("|(?P<letter>[A-Za-z])", "|(?<![A-Za-z])(?P<letter>[A-Za-z])(?![A-Za-z])"))


def letters_in(text: str) -> list:
    """The builder keys of the symbols the text uses, in order of first use (\\hat{y} -> hat-y)."""
    keys = []
    for match in _LETTER_IN_TEXT.finditer(text):
        key = _key(match)
        if key not in keys:
            keys.append(key)
    return keys


def echo(reading: Reading, aligned: Aligned, text: str) -> dict:
    """The JSON "reading": the role of every letter the answer uses, its indices, what was guessed."""
    assigned = reading.role_map()
    roles = {}
    for key in letters_in(text):
        role = assigned.get(key) or ("sigma" if key.startswith("hat-") else Build().role(key))
        if role in ROLE_NAMES:
            roles[_display(key)] = ROLE_NAMES[role]
    return {"roles": roles, "indices": dict(aligned.indices), "guessed": [_display(g) for g in reading.guessed]
            + list(aligned.guessed)}


def echo_text(data: dict) -> str:
    parts = [f"{key}: {role}" for key, role in data["roles"].items()]
    parts += [f"{key}: {meaning}" for key, meaning in data["indices"].items()]
    text = ("Read as " + ", ".join(parts) + ".") if parts else ""
    if data["guessed"]:
        text += f" Guessed: {', '.join(data['guessed'])} (state them with --symbol to be sure)."
    return text


def _display(key: str) -> str:
    return f"\\hat{{{key[4:]}}}" if key.startswith("hat-") else key


def is_prose(text: str) -> bool:
    """A line of Chinese words and punctuation only: nothing of it is mathematics."""
    return bool(text.strip()) and re.fullmatch(r"[\u4e00-\u9fff\s,.;:!?，。；：！？、“”]+", text) is not None


def read_case(case: str) -> tuple:
    """A case given with the question ("i=j", "i!=j", "i \\ne j") as (a, equal, b); ParseError otherwise."""
    match = re.fullmatch(r"\s*([a-z])\s*(==|=|\\neq|\\ne|≠|!=)\s*([a-z])\s*", case)
    if match is None:
        raise ParseError(f"a case is written i=j or i!=j, not {case!r}")
    return match.group(1), match.group(2) in ("=", "=="), match.group(3)


def split_condition(text: str) -> tuple:
    """(text without a trailing case condition, (a, equal, b) or None): `..., \\quad i = j`, `\\text{if } i \\ne j`."""
    text = _LEADING_PROSE.sub("", text.lstrip(" ,;:，；：")).lstrip(" ,;:，；：")
    otherwise = _OTHERWISE.search(text)
    if otherwise is not None:
        return _TRAILING.sub("", text[:otherwise.start()]), OTHERWISE
    match = _CONDITION.search(text)
    if match is None:
        return _TRAILING.sub("", text), None
    equal = match.group("op") in ("=", "==")
    return _TRAILING.sub("", text[:match.start()]), (match.group("a"), equal, match.group("b"))


# Punctuation that ends a sentence around a formula (not \, or \; which are spacing commands).
_TRAILING = re.compile(r"(?:\s|(?<!\\)[.,;。，；])*$")


OTHERWISE = "otherwise"  # the complement of the previous line's case
_OTHERWISE = re.compile(r"(?:,|;|，|；|\\quad|\\qquad|\s)\s*(?:\\text\s*\{\s*(?:otherwise|else)\s*\}|otherwise|else|其他|否则)"
                        r"\s*[.,;。]?\s*$")
# A line that opens with a connective of prose: "and $-p_j p_i$ else."
_LEADING_PROSE = re.compile(r"^\s*(?:and|or|so|thus|hence|then|where|with|i\.e\.)\s+(?![_^])")
_CONDITION = re.compile(
    r"(?:,|;|，|；|\\quad|\\qquad|\\text\s*\{\s*(?:if|for|when)\s*\}|\bif\b|\bfor\b|当|若|\(|（)"
    r"(?:\s|\\quad|\\qquad|\\[,;:!])*(?P<a>[a-z])\s*(?P<op>==|=|\\neq|\\ne|≠|!=)\s*(?P<b>[a-z])"
    r"\s*(?:\)|）|时)?\s*[.,;。，；]?\s*(?:\\\\)?\s*$")


def restricted(expr: sp.Basic, condition: sp.Basic, goal) -> sp.Basic:
    """A claim made only where `condition` holds: elsewhere it is taken to be the target itself,
    so the comparison judges exactly the stated case."""
    return sp.Piecewise((expr, condition), (goal.result, True))


def condition_expr(condition: tuple, mapping: dict) -> sp.Basic:
    """Eq(i, j) or Ne(i, j) for a condition read in the answer's letters, in the target's letters."""
    a, equal, b = condition
    left, right = (mapping.get(index_symbol(x), index_symbol(x)) for x in (a, b))
    return sp.Eq(left, right) if equal else sp.Ne(left, right)
