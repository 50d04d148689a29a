"""Read an answer in its author's notation: letters' roles and free indices from the left side, co-occurrence or declaration.

Why before parsing: the roles must be known before the grammar's builder turns `p_j` into a
softmax output, so they are read from the raw text with small bounded regexes. Nothing here
evaluates the text: it only chooses names from fixed tables. The index bijection onto the
target's indices is alignment.py's, after parsing; spellings.py rewrites spellings first.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sympy as sp

from .. import symbols
from ..errors import ParseError
from ..parse.build import MATRIX_ROLE, RESERVED, Y_NAMES, Build
from ..parse.build import role as default_role
from ..algebra.nodes import atoms_of
from .spellings import EXPONENTIATED, EXPONENTIATED_NEEDS
from .words import say

# Builder roles, and how the echo names them.
ROLE_NAMES = {"sigma": "softmax output", "z": "logits", "y": "targets", "L": "loss"}
NOTATION_ROLES = {"probs": "sigma", "logits": "z", "targets": "y", "loss": "L"}
# Attention's letters as its papers and kernels write them (K: the keys, d: the head dimension),
# given by the target: an answer for attention-backward reads Q, K, V, S, P, O, dO, ... as matrices.
ATTENTION_LETTERS = {"Q": ("Q", "queries"), "K": ("Kmat", "keys"), "V": ("V", "values"), "S": ("S", "scores"),
                     "P": ("P", "attention weights"), "O": ("O", "output"), "dO": ("dO", "upstream gradient dL/dO"),
                     "dP": ("dP", "dL/dP"), "dS": ("dS", "dL/dS"), "dQ": ("dQ", "dL/dQ"), "dK": ("dK", "dL/dK"),
                     "dV": ("dV", "dL/dV")}
ROLE_NAMES.update({MATRIX_ROLE + name: meaning for name, meaning in ATTENTION_LETTERS.values()})
ROLE_NAMES["D"] = "head dimension"
ROLE_NAMES["g"] = "upstream gradient dL/ds"

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
# Each with the text that stands in every match of it: a pattern is searched only in a text that holds it.
_LEFT_SIDES = (
    ("frac", re.compile(r"\\[dt]?frac\s*\{\s*" + _D + _BODY.format("num") + r"\}\s*\{\s*" + _D + _BODY.format("den") + r"\}")),
    ("\\over", re.compile(r"\{\s*" + _D + _BODY.format("num") + r"\\over\s*" + _D + _BODY.format("den") + r"\}")),
    ("/", re.compile(_D + r"\s*(?P<num>[^/=\s]{1,30})\s*/\s*" + _D + r"\s*(?P<den>[^=\s,]{1,30})")),
)
_STANDALONE = r"(?<![A-Za-z\\{])(?:\\mathbf\s*\{\s*)?LETTER(?![A-Za-z])"


@dataclass(frozen=True)
class Reading:
    """How the answer's letters were read: builder roles, the echo's wording, the guesses."""

    roles: tuple = ()  # ((key, builder role), ...) as the builder sees keys: "p", "hat-y", "\\theta"
    guessed: tuple = ()  # keys (and index letters) whose role was guessed, not read or declared

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
    exponent = _exponent_letter(text, roles, arrays)
    if exponent is not None:
        roles[exponent] = "z"  # e^{a_i}, \exp(x_i): what is exponentiated are the logits
        guessed.append(exponent)
    return Reading(roles=tuple(sorted(roles.items())), guessed=tuple(guessed))




def _exponent_letter(text: str, roles: dict, arrays: tuple) -> str | None:
    """The one letter the answer exponentiates (e^{x_i}, \\exp(a_i)) when nothing else names the logits."""
    if any(role == "z" for role in roles.values()) or _has_letter(text, "z"):
        return None
    letters = set(EXPONENTIATED.findall(text)) if any(needle in text for needle in EXPONENTIATED_NEEDS) else set()
    if len(letters) != 1:
        return None
    letter = letters.pop()
    return letter if letter not in roles and _free_letter(letter, arrays) and letter.islower() else None


def target_roles(goal) -> dict:
    """Roles the target itself gives letters: attention's matrices (its inputs include the upstream dO)."""
    if "dO" not in goal.arrays:
        return {}
    roles = {key: MATRIX_ROLE + name for key, (name, _meaning) in ATTENTION_LETTERS.items()}
    roles["d"] = "D"  # \sqrt{d}: the head dimension, as the papers write it
    return roles


def _has_letter(text: str, letter: str, *, indexed: bool = True) -> bool:
    return _letter_pattern(letter, indexed).search(text) is not None


@functools.lru_cache(maxsize=256)  # a few letters, asked of every answer
def _letter_pattern(letter: str, indexed: bool) -> re.Pattern:
    pattern = re.escape(letter) if letter.startswith("\\") else letter
    return re.compile(_STANDALONE.replace("LETTER", pattern) + (r"\s*_" if indexed else ""))


def _derivatives(text: str) -> list:
    """Every derivative written as a fraction, a slash or \\over, in the order it appears."""
    found = [m for needle, pattern in _LEFT_SIDES if needle in text for m in pattern.finditer(text)]
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
    # A bold numerator (\frac{\partial \mathbf a}{\partial \mathbf z}) is the output vector, indexed or not.
    indexed = numerator.group("index") is not None or numerator.group("arg") is not None or re.match(
        r"\s*\{?\s*\\(?:mathbf|boldsymbol|bm|vec)", found.group("num")) is not None
    if key in roles or key.startswith("hat-"):
        return roles
    if indexed and (_free_letter(key, arrays) or key in Y_NAMES and "y" not in arrays):
        roles[key] = "sigma"  # an indexed numerator is the output being differentiated (y in Bishop's notation)
    elif not indexed and key not in RESERVED and (key in _LOSS_NAMES or re.fullmatch(r"[A-Z]", key)):
        roles[key] = "L"  # an unindexed numerator is the scalar loss
    return roles


_LOSS_NAMES = frozenset({"l", "\\ell", "\\xi", "CE", "loss", "Loss"})


def refuse_foreign_letters(exprs: list, goal) -> None:
    """ParseError for an array the target does not have (g in a log-sum-exp answer is the author's own
    name for something, not our upstream gradient): a wrong guess must not become a wrong verdict."""
    if not any(symbol == symbols.L for symbol, _value in goal.definitions):
        for expr in exprs:
            if expr.has(symbols.L):  # 1 - e^{LS(z)_i}: an author's two-letter name, not our loss
                raise ParseError(f"L (the loss) has no meaning in {goal.name}; if it is part of a longer name, "
                                 f"declare it with --macro")
    if _FOREIGN in goal.arrays:
        return
    for expr in exprs:
        # Only g: other foreign letters (y in a Jacobian, x_d in dL/db) are an answer to another
        # question, which the mistake catalogue names; g there is always the author's own name.
        if any(_named(node, _FOREIGN) for node in atoms_of(expr, sp.Indexed, sp.MatrixSymbol)):  # walked when read
            raise ParseError(f"the letter {_FOREIGN} has no meaning in {goal.name}; declare what it stands for "
                             f"with --symbol (e.g. --symbol probs={_FOREIGN})")


_FOREIGN = "g"  # the upstream gradient's letter, refused where the target has no upstream gradient


def _named(node: sp.Basic, name: str) -> bool:
    """An entry of the array `name` (g_i) or the whole array (g): one walk finds both."""
    return (isinstance(node, sp.Indexed) and node.base.name == name
            or isinstance(node, sp.MatrixSymbol) and node.name == name)


# A letter standing alone, or right after a one-letter subscript (\partial_iS_i).
_LETTER_IN_TEXT = re.compile(_SYMBOL.replace("|(?P<letter>[A-Za-z])",
                                             "|(?:(?<![A-Za-z])|(?<=_[a-z]))(?P<letter>[A-Za-z])(?![A-Za-z])"))


def letters_in(text: str) -> list:
    """The builder keys of the symbols the text uses, in order of first use (\\hat{y} -> hat-y)."""
    keys = []
    for match in _LETTER_IN_TEXT.finditer(text):
        key = _key(match)
        if key not in keys:
            keys.append(key)
    return keys


def echo(reading: Reading, aligned, text: str, aliases: dict | None = None) -> dict:
    """The JSON "reading": the role of every letter the answer uses, its indices, what was guessed.
    `aliases`: the names the answer typed for letters ({"s": "probs"}, code's names), shown instead."""
    assigned = reading.role_map()
    aliases = aliases or {}
    roles = {}
    two_letter = re.findall(r"(?<![A-Za-z\\])d[A-Z](?![A-Za-z])", text)  # dO, dS: attention's names
    for key in letters_in(text) + [k for k in dict.fromkeys(two_letter) if k in assigned]:
        role = assigned.get(key) or ("sigma" if key.startswith("hat-") else default_role(key))
        if role in ROLE_NAMES:
            roles[aliases.get(key) or _display(key)] = ROLE_NAMES[role]
    return {"roles": roles, "indices": dict(aligned.indices), "guessed": [_display(g) for g in reading.guessed]
            + list(aligned.guessed)}


# What an index letter can mean in the echo (alignment.py); with ROLE_NAMES, every term [check.terms] says.
INDEX_MEANINGS = ("index", "entry index", "row index", "column index", "row index (output)",
                  "column index (logit)")


def echo_text(data: dict, lang: str = "en") -> str:
    """The reading in one sentence in `lang`; the JSON "reading" keeps the English terms (a contract)."""
    parts = [say(lang, "echo_part", letter=key, term=say(lang, term, "terms"))
             for key, term in [*data["roles"].items(), *data["indices"].items()]]
    text = say(lang, "echo_read_as", parts=say(lang, "echo_separator").join(parts)) if parts else ""
    if data["guessed"]:
        text += say(lang, "echo_guessed", letters=", ".join(data["guessed"]))
    return text


def _display(key: str) -> str:
    return f"\\hat{{{key[4:]}}}" if key.startswith("hat-") else key
