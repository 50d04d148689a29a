"""The whitelist grammar of a notation symbol: complete LaTeX atoms that compile, nothing else.

Why a grammar and not only a list of commands: `\\mathbf`, `\\hat` or `{}` use allowed commands and
characters, yet alone they print nothing or break the document (`\\frac{\\partial \\mathbf}{...}`
stops LaTeX). Every accent and alphabet must get its argument, every group must hold something.

    symbol   := atom+ "'"*
    atom     := LETTER | DIGIT | \\GREEK | \\ACCENT argument | \\ALPHABET argument | "{" symbol "}"
    argument := LETTER | DIGIT | \\GREEK | "{" symbol "}"
"""
from __future__ import annotations

import re

GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "varsigma", "tau", "upsilon",
    "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
    "Upsilon", "Phi", "Psi", "Omega", "ell",
})
ACCENTS = frozenset({"hat", "tilde", "bar", "check", "breve", "dot", "ddot", "widehat", "widetilde"})
ALPHABETS = frozenset({"mathcal", "mathbf", "mathrm", "mathit", "mathsf", "mathtt", "mathbb", "mathfrak",
                       "boldsymbol", "bm", "operatorname"})
COMMANDS = GREEK | ACCENTS | ALPHABETS
_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9{}']|\s+|.", re.DOTALL)


class _Refused(Exception):
    pass


def atom_problem(tex: str) -> str | None:
    """None when `tex` is a symbol of the grammar above, else what is wrong, in a few words."""
    tokens = [t for t in _TOKEN.findall(tex) if not t.isspace()]
    try:
        end = _symbol(tokens, 0)
        if end != len(tokens):
            raise _Refused(f"{tokens[end]!r} is not expected there")
    except _Refused as problem:
        return str(problem)
    return None


def _symbol(tokens: list, at: int) -> int:
    start = at
    while at < len(tokens) and tokens[at] not in ("}", "'"):
        at = _atom(tokens, at)
    if at == start:
        raise _Refused("an empty group or symbol")
    while at < len(tokens) and tokens[at] == "'":
        at += 1
    return at


def _atom(tokens: list, at: int) -> int:
    token = tokens[at]
    command = token[1:] if token.startswith("\\") else None
    if command in ACCENTS or command in ALPHABETS:
        if at + 1 == len(tokens) or tokens[at + 1] in ("}", "'"):
            raise _Refused(f"{token} needs an argument, as in {token}{{L}}")
        return _argument(tokens, at + 1)
    return _argument(tokens, at)


def _argument(tokens: list, at: int) -> int:
    token = tokens[at]
    if token == "{":
        end = _symbol(tokens, at + 1)
        if end == len(tokens) or tokens[end] != "}":
            raise _Refused("a brace is not closed")
        return end + 1
    if re.fullmatch(r"[A-Za-z0-9]", token) or token[1:] in GREEK:
        return at + 1
    raise _Refused(f"{token!r} cannot stand there")
