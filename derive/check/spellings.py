"""One spelling for what real answers write many ways: macros, code, a result's name as left side, cases, prose.

Why before parsing and by fixed patterns: these are spellings (δ_ij, \\delta{ij}, `return np.diag(s)`,
`当 i = j 时`), not mathematics, and every pattern here is a bounded regular expression over the
text, so nothing is evaluated or expanded recursively (a --macro is one plain substitution).
"""
from __future__ import annotations

import re
import urllib.parse

from ..errors import ParseError
from ..parse.text import MAX_CHARS

MAX_MACROS = 20
MAX_MACRO_LENGTH = 40


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
        if len(text) > MAX_CHARS:  # macros feeding each other grow the text geometrically: stop at once
            raise ParseError(f"the answer is too long ({len(text)} characters; at most {MAX_CHARS})")
    return text


# A left side that names the result instead of deriving it: J =, J_{ij} =, \mathbf J_{\mathbf x}(\mathbf s) =,
# \nabla_{\mathbf z} L =, \nabla f(x) =, \nabla_W =. It asks the target's question, so it is set aside.
_NAMED_LEFT = re.compile(
    r"^(?P<lead>(?:\s|\$|\\\[|\\\(|\\begin\s*\{\s*[a-z]{1,10}\*?\s*\})*)"
    r"(?P<name>(?:\\mathbf\s*\{?\s*J\s*\}?|J|\\nabla(?:\^2)?)\s*(?:_\s*(?:\{(?:[^{}]|\{[^{}]*\}){0,30}\}|\\?[A-Za-z]+))?"
    r"\s*(?:\((?:[^()]){0,30}\)|\\mathcal\s*\{\s*[A-Z]\s*\}|\\text\s*\{\s*\w{1,6}\s*\}|\\ell|[A-Za-z]{1,2}(?![A-Za-z_]))?"
    r"(?:\s*\((?:[^()]){0,30}\))?|(?:\\mathbf\s*\{\s*[A-Za-z]\s*\}|[A-Za-z])(?=\s*(?:\\triangleq|:=|\\coloneqq)))"
    r"\s*&?\s*(?:=|\\triangleq|:=|\\coloneqq)")


def set_aside_named_left_side(text: str) -> tuple:
    """(text with a naming left side blanked, the name as typed or None); the rest keeps its columns."""
    match = _NAMED_LEFT.match(text)
    if match is None:
        return text, None
    start = match.end("lead")
    return text[:start] + " " * (match.end() - start) + text[match.end():], match.group("name").strip()


# The name of one of attention's gradients on the left: dV =, \frac{\partial L}{\partial V} =, \nabla_V L =.
_GRADIENT_LEFT = re.compile(
    r"^(?P<lead>(?:\s|\$|\\\[|\\\(|\\begin\s*\{\s*[a-z]{1,10}\*?\s*\})*)(?P<name>d(?P<d>[A-Z])"
    r"(?:\s*_\s*(?:\{\s*[a-z]\s*,?\s*[a-z]\s*\}|[a-z]))?"  # dV_{jd} =: one entry, in the letters of the right side
    r"|\\[dt]?frac\s*\{\s*\\partial\s*(?:L|\\mathcal\s*\{\s*L\s*\}|\\ell)\s*\}\s*\{\s*\\partial\s*(?P<f>[A-Z])\s*\}"
    r"|\\nabla\s*_\s*\{?\s*(?P<n>[A-Z])\s*\}?\s*(?:L|\\mathcal\s*\{\s*L\s*\}|\\ell)?)\s*&?\s*=")
# \sqrt{d_k} (already (d_k)^{1/2} here): the attention paper's head dimension.
_HEAD_DIMENSION = re.compile(r"(\(\s*)d\s*_\s*\{?\s*k\s*\}?(\s*\)\s*\^\s*\{\s*\\frac\{1\}\{2\}\})")


def set_aside_gradient_name(text: str, part: str | None) -> tuple:
    """(text with the left side dV = blanked, the name or None) for attention's result `part`;
    ParseError when the left side names another result (dQ = ... checked against dV)."""
    text = _HEAD_DIMENSION.sub(r"\1d\2", text)
    match = _GRADIENT_LEFT.match(text)
    if match is None:
        return text, None
    letter = match.group("d") or match.group("f") or match.group("n")
    if letter == "O":
        raise ParseError("dO is the upstream gradient, given; the results are dV, dP, dS, dQ and dK")
    if letter != part:
        raise ParseError(f"the left side names d{letter}; check it with --target attention-backward:{letter}"
                         f" (this target is d{part})")
    start = match.end("lead")
    return text[:start] + " " * (match.end() - start) + text[match.end():], match.group("name").strip()


# Code as pasted from a notebook or a library: NumPy calls and attribute access rewritten to the
# notation the grammar reads, by fixed patterns only (nothing is evaluated).
# The names code gives arrays (multi-letter identifiers), read as the letters the grammar knows:
# s the softmax output, z the logits, y the targets, g the upstream gradient dL/ds.
CODE_NAMES = {
    "s": ("probs", "prob", "probabilities", "softmax_output", "softmax_out", "single_output", "y_hat", "yhat",
          "y_pred", "output", "out"),
    "z": ("logits", "logit", "scores"),
    "y": ("labels", "targets", "target", "y_true"),
    "g": ("grad_out", "grad_output", "grad_outputs", "dout", "dy", "grad_y", "upstream", "upstream_grad", "dprobs"),
}
_CODE_NAME = re.compile(r"(?<![A-Za-z0-9_\\.])(" + "|".join(sorted((n for names in CODE_NAMES.values() for n in names),
                                                                    key=len, reverse=True)) + r")(?![A-Za-z0-9_])")
_LETTER_OF = {name: letter for letter, names in CODE_NAMES.items() for name in names}
# What shows an answer is code, each hint with a text it cannot match without: the substring test skips
# the pattern, which \b keeps from scanning fast (one search of them all as an alternation: 7.6 us).
_CODE_HINTS = tuple((needle, re.compile(pattern)) for needle, pattern in (
    ("np.", r"\bnp\."), ("return", r"\breturn\b"), (".T", r"\.T\b"), ("self.", r"\bself\."), ("delta(", r"\bdelta\("),
    ("hot(", r"\bone_?hot\("), ("[", r"\)\s*\[[a-z]\]"), ("[", r"\b[A-Za-z]\[[a-z]\]"), ("dot(", r"\bdot\("),
    ("//", r"\s//\s?\S"), ("", _CODE_NAME.pattern)))


def _looks_like_code(text: str) -> bool:
    return any(needle in text and pattern.search(text) is not None for needle, pattern in _CODE_HINTS)


_CODE_REWRITES = (
    (re.compile(r"\bdelta\(\s*([a-z])\s*==\s*([a-z])\s*\)"), r"\\delta_{\1\2}"),  # delta(i == j)
    (re.compile(r"\b(?:one_?hot)\(\s*y\s*\)"), "y"),  # the one-hot labels as a vector
    (re.compile(r"\)\s*\[\s*([a-z])\s*\]"), r")_{\1}"),  # softmax(z)[j]
    (re.compile(r"\b([A-Za-z])\[\s*([a-z])\s*\]"), r"\1_{\2}"),  # p[i]
    (re.compile(r"^\s*return\s+"), ""),
    (re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]{1,30}\s*=(?!=)"), ""),
    (re.compile(r"\\\s*\n"), " "),  # a Python line continuation
    (re.compile(r"\bnp\.(?:diag|diagflat)\("), "diag("),
    (re.compile(r"\bnp\.outer\(\s*([A-Za-z])\s*,\s*([A-Za-z])\s*\)"), r"\1 \2^T"),
    (re.compile(r"\bnp\.dot\(\s*([A-Za-z])\s*,\s*([A-Za-z])\.T\s*\)"), r"\1 \2^T"),
    (re.compile(r"\b([A-Za-z])\.T\b"), r"\1^T"),
    (re.compile(r"\bself\."), ""),  # self.y: the layer's stored output
    (re.compile(r"(?:(?<=\s)|^)(?://|#)[^\n]*"), ""),  # a comment after the code (// C++, # Python)
    # dot(s, g) of two 1-D arrays: the sum of their products (np.dot(s, s.T) is the outer product above).
    (re.compile(r"(?:\bnp\.)?\bdot\(\s*([A-Za-z])\s*,\s*([A-Za-z])\s*\)"), r"(\\sum_{m} \1_{m} \2_{m})"),
    # np.sum(s * g) and (g * s).sum(axis=...): the same sum of products, over the one axis a 1-D array has.
    (re.compile(r"\bnp\.sum\(\s*([A-Za-z])\s*\*\s*([A-Za-z])\s*(?:,[^()]{0,40})?\)"), r"(\\sum_{m} \1_{m} \2_{m})"),
    (re.compile(r"\(\s*([A-Za-z])\s*\*\s*([A-Za-z])\s*\)\s*\.sum\([^()]{0,40}\)"), r"(\\sum_{m} \1_{m} \2_{m})"),
)
# NumPy's * of 1-D arrays is entrywise: with no matrix operation in sight, s * (g - ...) is read entry by
# entry (s_i (g_i - ...)); the letters are those CODE_NAMES gives and the usual p.
_MATRIX_CODE = re.compile(r"diag\(|\^\s*(?:T|\\top)\b|@|outer|\bnp\.")
_BARE_ARRAY = re.compile(r"(?<![A-Za-z_\\{])([szygp])(?![A-Za-z_({\[])")


# Spellings of one notation that the grammar reads in a single form (bounded, fixed patterns). Each with
# the texts a match holds one of: the pattern is tried only where one stands (all tried: 20 us an answer).
_SPELLINGS = (
    # δ_ij, \delta{ij}
    (("\\delta", "δ"), re.compile(r"(?:\\delta|δ)\s*(?:_\s*)?\{?\s*([a-z])\s*,?\s*([a-z])\s*\}?(?![A-Za-z_])"), r"\\delta_{\1\2}"),
    (("\\delta",), re.compile(r"\\delta\s*_\s*\{\s*([a-z])\s*=\s*([a-z])\s*\}"), r"\\delta_{\1\2}"),  # \delta_{i=j}
    # Pages that lost their underscores (jishuzhan.net): \hat{y}i is \hat{y}_i (an index never stands alone
    # beside a symbol), \sum{i=1}^C is \sum_{i=1}^C.
    (("\\hat",), re.compile(r"(\\hat\s*\{\s*[A-Za-z]\s*\})([a-df-z])(?![A-Za-z_{(])"), r"\1_\2"),  # not e: Euler's number
    (("\\sum",), re.compile(r"\\sum\s*\{\s*([a-z])\s*="), r"\\sum_{\1="),
    (("\\delta",),
     re.compile(r"\\frac\s*\{\s*\\delta(?![A-Za-z])(.{0,40}?)\}\s*\{\s*\\delta(?![A-Za-z])"), r"\\frac{\\partial\1}{\\partial"),
    (("=",), re.compile(r"(?<![A-Za-z\\{])1\s*_\s*\{\s*([a-z])\s*=\s*([a-z])\s*\}"), r"\\mathbb{1}_{\1=\2}"),  # 1_{i=j}
    # \mathbb 1_{ij}
    (("\\mathbb",), re.compile(r"\\mathbb\s*\{?\s*1\s*\}?\s*_\s*\{\s*([a-z])\s*,?\s*([a-z])\s*\}"), r"\\delta_{\1\2}"),
    # \mathbb{1}[j = y]: the indicator of the true class y is the one-hot target y_j.
    (("\\mathbb",), re.compile(r"\\mathbb\s*\{?\s*1\s*\}?\s*(?:\[|\\\{|\()\s*(?:([a-z])\s*=\s*y|y\s*=\s*([a-z]))\s*(?:\]|\\\}|\))"),
     lambda m: f"y_{{{m.group(1) or m.group(2)}}}"),
    (("\\mathbb",), re.compile(r"\\mathbb\s*([1I])(?![0-9])"), r"\\mathbb{\1}"),  # \mathbb 1
    (("\\mathop", "\\diag"), re.compile(r"\\mathop\s*\{\s*\\(?:textrm|mathrm)\s*\{\s*diag\s*\}\s*\}|\\diag(?![A-Za-z])"), "diag"),
    (("{",), re.compile(r"(?<![_^\\])\{\s*\}"), " "),  # an empty group {} typed to end a fraction
    (("\\bbox", "\\boxed"), re.compile(r"^\s*\\(?:bbox|boxed)\s*\{(.*)\}\s*$", re.DOTALL), r"\1"),  # a whole equation in a box
    # Differentials: \frac{dL}{dz_j} and dL/dz are the derivatives \partial L / \partial z_j.
    (("\\frac",),
     re.compile(r"\\frac\s*\{\s*d(?=[A-Z\\{ ]|[a-z]_)([^{}]{0,30})\}\s*\{\s*d(?=[A-Za-z\\{ ])"), r"\\frac{\\partial \1}{\\partial "),
    (("/",), re.compile(r"(?<![A-Za-z\\])d([A-Z]{1,2}|[a-z]_?[a-z0-9]?)\s*/\s*d([A-Za-z])(?![A-Za-z])"), r"\\partial \1/\\partial \2"),
    # ∂CE/∂z: a loss named by a word
    (("∂", "\\partial"), re.compile(r"(∂|\\partial)\s*(CE|Loss|loss)(?![A-Za-z])"), r"\1 \\text{\2}"),
    # a case row ending in a full stop (not ...)
    (("\\\\", "\\end"), re.compile(r"(?<![\\.])[.,;]\s*(?=\\\\|\\end\s*\{\s*cases)"), " "),
    (("\\text",), re.compile(r"\\text\s*\{\s*if\s+([a-z])\s*(=|\\neq?|≠)\s*([a-z])\s*\}"), r"\\text{if} \1 \2 \3"),  # \text{if i= j}
    # Cases in Chinese, also inside \begin{cases}: 当 i = j 时, 若 i≠j, 其他, 否则.
    (("当", "若"), re.compile(r"(?:当|若)[ \t]*([a-z][ \t]*(?:=|≠|!=|\\neq?)[ \t]*[a-z])[ \t]*时?"), r"\\text{if} \1"),
    (("其他", "否则"), re.compile(r"(?:其他|否则)(?:情况)?"), r"\\text{otherwise}"),
    # S_i(\mathbf z): the output S_i written as a function of the logits.
    (("\\mathbf",), re.compile(r"(?<=[A-Za-z]_[a-z])\s*\(\s*\\mathbf\s*\{?\s*[a-z]\s*\}?\s*\)"), ""),
    # [\sigma(\mathbf z)]_i: the entry of the vector softmax(z).
    (("[",), re.compile(r"\[\s*(\\sigma\s*\([^()\[\]]{0,30}\))\s*\]\s*_"), r"\1_"),
    (("\\otimes",),
     re.compile(r"(\\mathbf\s*\{\s*[A-Za-z]\s*\}|\\[a-z]+|[A-Za-z])\s*\\otimes\s*(\\mathbf\s*\{\s*[A-Za-z]\s*\}|\\[a-z]+|[A-Za-z])"),
     r"\1 \2^T"),  # s \otimes s: the outer product s s^T
)


# Decorations read through: the braced argument stands for itself (\\cancel{x} is still x where it is
# typed; the text under or over a brace is a remark); \\sqrt{x} is x^{1/2}.
_DECORATION = re.compile(r"\\(underbrace|overbrace|cancel|bcancel|xcancel|sqrt)\s*(?=\{)")
_MAX_DECORATIONS = 100
_BARE_ROOT = re.compile(r"\\sqrt\s*([A-Za-z0-9])(?![A-Za-z0-9])")  # \sqrt d, \sqrt 2: one symbol under the root


def _group_end(text: str, start: int) -> int:
    """Index just past the {...} group opening at `start` (-1 when unbalanced)."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return -1


def read_through_decorations(text: str) -> str:
    """\\underbrace{A}_{B}, \\overbrace{A}^{B}, \\cancel{A} as {A}; \\sqrt{A} as (A)^{\\frac{1}{2}} (bounded)."""
    text = _BARE_ROOT.sub(r"\\sqrt{\1}", text)
    for _ in range(_MAX_DECORATIONS):
        match = _DECORATION.search(text)
        if match is None:
            return text
        end = _group_end(text, match.end())
        if end < 0:
            return text  # unbalanced: the grammar reports it where it is
        argument = text[match.end() + 1:end - 1]
        if match.group(1) == "sqrt":
            text = f"{text[:match.start()]}({argument})^{{\\frac{{1}}{{2}}}}{text[end:]}"
            continue
        remark = re.match(r"\s*[_^]\s*", text[end:]) if match.group(1) in ("underbrace", "overbrace") else None
        after = end
        if remark is not None:
            after = end + remark.end()
            after = _group_end(text, after) if text[after:after + 1] == "{" else after + 1
            after = end if after < 0 else after
        text = f"{text[:match.start()]}{{{argument}}}{text[after:]}"
    return text


# A formula pasted as the image link a page renders it with: its LaTeX is in the URL, percent-encoded.
_LATEX_IMAGE = re.compile(r"""\s*<img\s[^<>]{0,200}?src\s*=\s*["']https?://latex\.codecogs\.com/[a-z]{2,5}\.latex\?"""
                          r"""(?P<tex>[^"'<>\s]{1,2000})["'][^<>]{0,200}>\s*""")


def latex_from_image(text: str) -> str:
    """The LaTeX of a pasted codecogs image link (`<img src="https://latex.codecogs.com/png.latex?%5Cnabla_W...">`),
    percent-decoded once; any other text unchanged."""
    match = _LATEX_IMAGE.fullmatch(text)
    return urllib.parse.unquote(match.group("tex")) if match else text


# A display formula of a pasted page: $$ ... $$ or \[ ... \] (each at most a few thousand characters: the
# text is bounded before this, and the non-greedy body stops at the first closing delimiter).
_DISPLAY = re.compile(r"\$\$(?P<dollars>.*?)\$\$|\\\[(?P<brackets>.*?)\\\]", re.DOTALL)


def displayed_formulas(text: str) -> tuple:
    """(the text with everything outside its display formulas blanked, whether prose was set aside).
    A page pasted whole ("We have $$L = ...$$ Using the chain rule, $$...$$ since the labels sum to one.")
    states its derivation in display formulas; the sentences around them, with their inline $...$, are
    prose. Blanking keeps every line where it was, so line numbers still point into the page. A text
    without display formulas is returned as it is."""
    if len(text) > MAX_CHARS:  # refused as too long when read; the search below is quadratic in the worst case
        return text, False
    kept, end = [], 0
    for match in _DISPLAY.finditer(text):
        kept.append(_blank(text[end:match.start()]) + "  " + (match.group("dollars") or match.group("brackets") or "") + "  ")
        end = match.end()
    if not kept:
        return text, False
    blanked = "".join(kept) + _blank(text[end:])
    prose = bool(_DISPLAY.sub("", text).strip(" \t\n$.,;:"))
    return blanked, prose


def _blank(prose: str) -> str:
    return re.sub(r"[^\n]", " ", prose)


def normalise(text: str) -> str:
    """One spelling for each notation the grammar reads: δ_ij, \\delta{ij}, \\frac{\\delta p}{\\delta a}, 1_{i=j}, \\diag."""
    text = read_through_decorations(latex_from_image(text))
    for needles, pattern, replacement in _SPELLINGS:
        if any(needle in text for needle in needles):  # each pattern matches only where one of these stands
            text = pattern.sub(replacement, text)
    return spell_out_normaliser(drop_layer_superscripts(normalise_code(text)))


# A layer or example label on an indexed letter: z_i^l, z_j^{(l)}, a_i^{[l]}, X_j^{(i)} (never ^T, ^2 or e^...).
_LAYER = re.compile(r"(?P<indexed>_\s*(?:\{[^{}]{1,8}\}|[A-Za-z0-9]))\s*\^\s*"
                    r"(?:\{\s*(?P<open>[(\[])?\s*(?P<braced>[a-z])\s*[)\]]?\s*\}|(?P<bare>[a-z])(?![A-Za-z]))")


def drop_layer_superscripts(text: str) -> str:
    """z_i^l as z_i: one label letter, used nowhere else in the answer, on indexed letters (a layer or an
    example, the same for every term). Read as a power, such a letter would have no meaning at all."""
    found = list(_LAYER.finditer(text))
    labels = {m.group("braced") or m.group("bare") for m in found}
    # Unbracketed, only the layer letter l: z_i^k could be a power.
    if len(labels) != 1 or any(not m.group("open") and (m.group("braced") or m.group("bare")) != "l" for m in found):
        return text
    label = labels.pop()
    rest = _LAYER.sub(lambda m: m.group("indexed"), text)
    if label in "eT" or re.search(rf"(?<![A-Za-z\\]){label}(?![A-Za-z])", rest):
        return text
    return rest


# The normaliser written without its sum: Z (the partition function), or a bare \sum standing as a value
# (`e^{a_i} \times \sum - ...`, `\sum^2`), never a capital with an index, an argument or a transpose.
_PARTITION_Z = re.compile(r"(?<![A-Za-z\\_{(])Z(?![A-Za-z_(\[^]|\^\s*\{?\s*(?:T|\\top))")
_BARE_SUM = re.compile(r"\\sum(?=\s*(?:[-+)}=]|\\times|\\cdot|$|\^\s*\{?\s*[0-9]\s*\}?\s*(?:[-+)}=]|\\times|\\cdot|$)))")
# The letter an answer exponentiates (e^{x_i}, \\exp(a_i), exp(z_j)): its logits.
EXPONENTIATED = re.compile(r"(?:\be\s*\^\s*\{?|\\exp\s*\(|\bexp\s*\()\s*(?:\\mathbf\s*\{\s*)?([A-Za-z])\s*\}?\s*_")
EXPONENTIATED_NEEDS = ("^", "exp")  # one of them stands in every match of EXPONENTIATED


def spell_out_normaliser(text: str) -> str:
    """Z or a bare \\sum as the sum of the exponentials the answer writes (exp(z_i) / Z: Z = sum_m e^{z_m}),
    read only when the answer exponentiates exactly one letter, so the sum it stands for is certain."""
    has_z, has_bare_sum = _PARTITION_Z.search(text) is not None, _BARE_SUM.search(text) is not None
    if not (has_z or has_bare_sum) or re.search(r"Z\s*_", text):
        return text
    letters = set(EXPONENTIATED.findall(text))
    if len(letters) != 1:
        return text
    letter = letters.pop()
    dummy = next((m for m in "mrquvw" if not re.search(rf"(?<![A-Za-z\\]){m}(?![A-Za-z])", text)), None)
    if dummy is None:
        return text
    total = rf"\left(\sum_{{{dummy}}} e^{{{letter}_{{{dummy}}}}}\right)"
    text = _PARTITION_Z.sub(lambda _m: total, text) if has_z else text
    return _BARE_SUM.sub(lambda _m: total, text) if has_bare_sum else text


def code_aliases(text: str) -> dict:
    """The letters code's names were read as, by the name typed first ({"s": "probs", "g": "grad_out"})."""
    if not _looks_like_code(text):
        return {}
    out: dict = {}
    for match in _CODE_NAME.finditer(text):
        out.setdefault(_LETTER_OF[match.group(1)], match.group(1))
    return out


def normalise_code(text: str) -> str:
    """NumPy-style answers (`np.diag(s) - np.outer(s, s)`, `return s - y`) in the grammar's notation."""
    if not _looks_like_code(text):
        return text
    text = _CODE_NAME.sub(lambda m: _LETTER_OF[m.group(1)], text)
    for pattern, replacement in _CODE_REWRITES:
        text = pattern.sub(replacement, text)
    if "*" in text and not _MATRIX_CODE.search(text) and not re.search(r"_\{?i\b|\[i\]", text):
        text = _BARE_ARRAY.sub(r"\1_{i}", text)
    return text


def is_prose(text: str) -> bool:
    """A line of Chinese words and punctuation only: nothing of it is mathematics."""
    return bool(text.strip()) and re.fullmatch(r"[\u4e00-\u9fff\s,.;:!?，。；：！？、“”]+", text) is not None


TRUE_CLASS = "class"  # the case "i is the true class" (y_i = 1), as the condition's right side


def read_case(case: str) -> tuple:
    """A case given with the question ("i=j", "i!=j", "i \\ne j", or "y_i=1": i is the true class)
    as (a, equal, b); ParseError otherwise."""
    true_class = re.fullmatch(r"\s*[A-Za-z]\s*_\s*\{?\s*([a-z])\s*\}?\s*=\s*1\s*", case)
    if true_class is not None:
        return true_class.group(1), True, TRUE_CLASS
    match = re.fullmatch(r"\s*([a-z])\s*(==|=|\\neq|\\ne|≠|!=)\s*([a-z])\s*", case)
    if match is None:
        raise ParseError(f"a case is written i=j, i!=j or y_i=1 (i is the true class), not {case!r}")
    return match.group(1), match.group(2) in ("=", "=="), match.group(3)


# A trailing statement of the indices' range (", \quad i, j = 1 .. n", "for i = 1, \ldots, K"): no case, a remark.
_INDEX_RANGE = re.compile(r"(?:,|\\q?quad|\bfor\b)(?:\s|\\q?quad)*[a-z](?:\s*,\s*[a-z])*\s*=\s*1\s*"
                          r"(?:\.\.|,?\s*\\[lc]?dots\s*,?|,\s*\.\.\.\s*,|…)\s*[A-Za-z](?:\s*[.,;])?\s*$")


def split_condition(text: str) -> tuple:
    """(text without a trailing case condition, (a, equal, b) or None): `..., \\quad i = j`, `\\text{if } i \\ne j`."""
    text = _LEADING_PROSE.sub("", text.lstrip(" ,;:，；：")).lstrip(" ,;:，；：")
    # Each pattern is searched only where the literal it must match stands (an answer without "=" has
    # neither a range nor a case; the searches tried every position of every answer).
    if "=" in text:
        text = _INDEX_RANGE.sub("", text)
    otherwise = _OTHERWISE.search(text) if any(word in text for word in _OTHERWISE_WORDS) else None
    if otherwise is not None:
        return _TRAILING.sub("", text[:otherwise.start()]), OTHERWISE
    match = _CONDITION.search(text) if any(op in text for op in _CONDITION_OPS) else None
    if match is None:
        return _TRAILING.sub("", text), None
    equal = match.group("op") in ("=", "==")
    return _TRAILING.sub("", text[:match.start()]), (match.group("a"), equal, match.group("b"))


# Punctuation that ends a sentence around a formula (not \, or \; which are spacing commands).
_TRAILING = re.compile(r"(?:\s|(?<!\\)[.,;。，；])*$")


OTHERWISE = "otherwise"  # the complement of the previous line's case
_OTHERWISE = re.compile(r"(?:,|;|，|；|\\quad|\\qquad|\s)\s*(?:\\text\s*\{\s*(?:otherwise|else)\s*\}|otherwise|else|其他|否则)"
                        r"\s*[.,;。]?\s*$")
_OTHERWISE_WORDS = ("otherwise", "else", "其他", "否则")  # one of them stands in every match of _OTHERWISE
# A line that opens with a connective of prose: "and $-p_j p_i$ else."
_LEADING_PROSE = re.compile(r"^\s*(?:(?:and|or|so|thus|hence|then|where|with|i\.e\.)\s+(?![_^])"
                            r"|[\u4e00-\u9fff]{1,12}\s*[,:，：]\s*)")  # 综上, 故: Chinese words that open a sentence
_CONDITION = re.compile(
    r"(?:,|;|，|；|\\quad|\\qquad|\\text\s*\{\s*(?:if|for|when)\s*\}|\bif\b|\bfor\b|当|若|\(|（)"
    r"(?:\s|\\quad|\\qquad|\\[,;:!]|\\text\s*\{\s*(?:if|for|when)\s*\})*(?P<a>[a-z])\s*(?P<op>==|=|\\neq|\\ne|≠|!=)\s*(?P<b>[a-z])"
    r"\s*(?:\)|）|时)?\s*[.,;。，；]?\s*(?:\\\\)?\s*$")
_CONDITION_OPS = ("=", "\\ne", "≠")  # one of them stands in every match of _CONDITION (=, ==, !=, \ne, \neq, ≠)
