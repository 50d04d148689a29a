"""Every reading error the code can raise has a [check.parse] template, and is said in Chinese too.

Why from the source: ParseError is raised in English at ~90 places, and words.reading_error says a
message in Chinese only when an English template of [check.parse] matches it. Reading the raise sites
with `ast` (never importing or running them) finds every message, including one added tomorrow; each
becomes a sample (every formatted part replaced by SAMPLE) that must match the template written for it.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import derive
from derive.check.words import _matched, say
from derive.render.messages import catalogue

PACKAGE = Path(derive.__file__).parent
SAMPLE = "X"  # stands for each formatted part of a message ({dummy}, {MAX_DIGITS}, {spec!r} ...)
_CJK = re.compile(r"[\u4e00-\u9fff]")

# ParseError sites whose first argument is not the message text, and where the text is read instead.
BUILT_ELSEWHERE = {
    ("parse/text.py", "message"):
        "_refuse(text, index, message) builds the screening refusals: the third argument of each _refuse call",
    ("parse/parser.py", "_describe(error, text)"):
        "lark's syntax errors: the texts _describe returns and the keys of _EXAMPLES (its `label`)",
}

# The template written for each message (sample -> [check.parse] key): a template that also matches
# another message (longest literal first, see words._patterns) would say the wrong thing.
EXPECTED = {
    "the answer ends too early": "ends_early",
    "unexpected character X": "unexpected_character",
    "unexpected X": "unexpected",
    "the answer cannot be read": "cannot_read",
    "a bracket or brace is not closed": "not_closed",
    "a bracket or brace closes without opening": "closes_without_opening",
    r"\frac needs two groups in braces, as in \frac{a}{b}": "frac_groups",
    "an operator is missing its right-hand side": "operator_missing",
    "the answer is empty": "empty",
    "the answer is too long (X characters; at most X)": "too_long",
    "the answer must be text": "must_be_text",
    "the answer has too many symbols (at most X)": "too_many_symbols",
    "expected one expression without '='": "one_expression",
    "the answer is nested too deeply": "nested_too_deeply",
    "the answer cannot be built: X": "cannot_build",
    "the derivation has too many lines (at most X)": "too_many_lines",
    "the answer holds no formula, only words": "only_words",
    "control or format character X X is not allowed": "control_character",
    "X X looks like the Latin letter X but is not; type the Latin letter": "look_alike",
    "character X (X X) is not understood": "character_not_understood",
    "exponent notation such as 1e5 is not accepted; write 10^{5}": "exponent_notation",
    "a number has more than 6 digits": "too_many_digits",
    "unknown command \\X": "unknown_command",
    "brackets nested too deeply (more than X)": "nested_brackets",
    "division by zero": "division_by_zero",
    "division by a vector or matrix": "division_by_array",
    "log 0 is undefined": "log_zero",
    "a number in the answer is out of range (its size is estimated beyond 10^300 or below 10^-300)": "number_out_of_range",
    "the numbers in the answer have too many digits (more than X)": "numbers_too_many_digits",
    "the exponent X is too large (at most X)": "exponent_too_large",
    "a power in the answer is too large (estimated above 10^300)": "power_too_large",
    "a power in the answer has too many digits (estimated above X)": "power_too_many_digits",
    "the power X of an expression with numbers asks for a root of order X (at most X); write the exponent as a "
    "simpler fraction": "root_order",
    "e^x with x above 690 is too large": "exp_too_large",
    "cannot combine X and X with X": "cannot_combine",
    r"two column vectors multiplied: write \sigma\sigma^\top (outer) or a sum over entries (inner)":
        "column_vectors_product",
    "shape error: terms of shapes X are added": "shapes_added",
    "shape error: terms of shapes X are added; s^T s is an inner product (a number), the K x K outer product "
    "is s s^T": "shapes_added_inner_product",
    "shape error: the entrywise product of XxX and XxX matrices": "entrywise_shapes",
    "unknown symbol X": "unknown_symbol",
    "unknown symbol X_{...}": "unknown_indexed_symbol",
    "X takes one index, not X": "one_index",
    "X takes two indices, not X": "two_indices",
    r"the Kronecker delta needs two indices, as in \delta_{ij}": "delta_indices",
    "index 0 is not a class number 1, 2, ...": "not_a_class",
    "index X is not a class number 1, 2, ...": "not_a_class",
    "X cannot be an index": "not_an_index",
    "the index X stands alone; indices belong in subscripts such as z_X": "lone_index",
    "X cannot be used here": "not_usable_here",
    "X is not an expression": "not_an_expression",
    "a condition in the subscript of X is not understood": "subscript_condition",
    "X(...) is not understood; write X(z)_i or an indexed symbol": "call_not_understood",
    "X is not a function": "not_a_function",
    r"powers of vectors are not understood (write \sigma\sigma^\top for an outer product)": "vector_power",
    "\\X of a vector is not understood; write it entry by entry": "function_of_vector",
    "^T (transpose) needs a vector or matrix": "transpose_needs_array",
    r"rowsum(...) takes a matrix such as dP \circ P": "rowsum_argument",
    r"diag(...) takes a vector such as \sigma": "diag_argument",
    "the cases are not understood": "cases_not_understood",
    r"a second derivative is read as \frac{\partial^2 f}{\partial z_i \partial z_j}": "second_derivative",
    r"derivatives are taken with respect to z_j, \sigma_k, W_{id}, b_i, x_d, u or z, not X": "derivative_variable",
    r"say which index is summed, as in \sum_k": "which_index",
    "a sum of vectors is not understood; sum entries such as y_k": "sum_of_vectors",
    "two nested sums both use the index X": "nested_same_index",
    "too many sums (at most X nested)": "too_many_sums",
    "sums run from 1 to K": "sum_range",
    "sums run from 1 to K or from 0 to K-1": "sum_range_from_zero",
    "sums run from 1 to K (or to D over d, to N over n)": "sum_range_letters",
    "the sum over X excludes X itself": "sum_excludes_itself",
    "a sum to X does not give the number of classes": "sum_to_number",
    "a sum ends at a whole number": "sum_whole_number",
    "the summation index X is also used outside its sum, and no letter is left to tell them apart":
        "sum_index_no_letter_left",
    "explicit matrices are read up to XxX": "matrix_too_large",
    "the rows of the matrix have different lengths": "matrix_ragged_rows",
    "the rows of the matrix have different lengths or dots in different columns": "matrix_ragged_dotted_rows",
    "a matrix inside a matrix is not understood": "matrix_in_matrix",
    "a matrix row has dots in two places; one run of dots per row is read": "matrix_row_dots_twice",
    "the matrix has rows of dots in two places; one is read": "matrix_dot_rows_twice",
    "the matrix shows no entry": "matrix_no_entry",
    "the matrix shows one entry only": "matrix_one_entry",
    "the matrix entries use the indices X; only the last one (as in s_n) is read, as the number of classes":
        "matrix_indices",
    "a matrix with dots is read standing alone or times a number": "dotted_matrix_alone",
    "explicit matrices are read for K in X..X, not X": "matrix_size_not_checked",
    "a matrix does not have the shape of the result of X": "matrix_shape",
    "a XxX matrix does not have the shape of the result of X": "sized_matrix_shape",
    "a vector does not have the shape of the result of X": "vector_shape",
    "a left side with class numbers is read only where it names one entry of the question": "class_numbers_left_side",
    "the answer writes out X classes; written-out answers are read for K in X..X": "written_out_classes",
    "the left side names class X, beyond the X classes the check reaches; write the answer for general indices":
        "class_beyond_points",
    "class X is named, beyond the X classes a sum runs over": "class_beyond_sum",
    "'otherwise' follows no stated case": "otherwise_without_case",
    "the declared symbol X for X is not a letter the checker reads": "declared_symbol_unread",
    "the letter X has no meaning in X; declare what it stands for with --symbol (e.g. --symbol probs=X)":
        "letter_without_meaning",
    "L (the loss) has no meaning in X; if it is part of a longer name, declare it with --macro":
        "loss_without_meaning",
    "too many macros (at most X)": "too_many_macros",
    "--macro expects \\NAME=TEX (at most X characters), not X": "macro_form",
    "dO is the upstream gradient, given; the results are dV, dP, dS, dQ and dK": "upstream_gradient_given",
    "the left side names dX; check it with --target attention-backward:X (this target is dX)":
        "other_attention_part",
    "a case is written i=j, i!=j or y_i=1 (i is the true class), not X": "case_form",
    "a derivative of one entry cannot multiply a vector or matrix: write the product entry by entry": "entry_derivative_times_matrix",
    "line X is stated for a case no index is in (X), so it claims nothing that could be checked": "case_impossible",
}

# Templates that say a common case of a message better than its general template (longest literal first
# lets them win): key -> (the general template's key, its fields in that case). The shapes are joined with
# " and ", which the Chinese of the general template would have to keep.
REFINEMENTS = {
    "two_shapes_added": ("shapes_added", {"shapes": "Kx1 and 1xK"}),
    "two_shapes_added_inner_product": ("shapes_added_inner_product", {"shapes": "KxK and 1x1"}),
}


def samples(node: ast.AST) -> list:
    """The messages a message expression can give, SAMPLE for each formatted part. A conditional
    (`a if c else b`) gives one sample per branch, since the student may see either; any other
    expression (a name, a call) is a formatted part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        texts = [""]
        for part in node.values:
            inner = part.value if isinstance(part, ast.FormattedValue) else part
            options = samples(inner) if isinstance(inner, (ast.Constant, ast.IfExp)) else [SAMPLE]
            texts = [text + option for text in texts for option in options]
        return texts
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [left + right for left in samples(node.left) for right in samples(node.right)]
    if isinstance(node, ast.IfExp):
        return samples(node.body) + samples(node.orelse)
    return [SAMPLE]


def _is_message(node: ast.AST) -> bool:
    return isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.IfExp))


def _called(call: ast.Call) -> str | None:
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def _sites(path: str, tree: ast.AST, built_elsewhere: set) -> list:
    """(where, sample) for each message raised in one module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "ParseError":
            where = f"{path}:{node.lineno}"
            if node.args and _is_message(node.args[0]):
                found += [(where, text) for text in samples(node.args[0])]
            else:
                built_elsewhere.add((path, ast.unparse(node.args[0]) if node.args else ""))
        elif isinstance(node, ast.Call) and _called(node) == "_refuse":  # parse/text.py
            found += [(f"{path}:{node.lineno}", text) for text in samples(node.args[2])]
        elif isinstance(node, ast.FunctionDef) and node.name == "_describe":  # parse/parser.py
            found += [(f"{path}:{r.lineno}", text) for r in ast.walk(node)
                      if isinstance(r, ast.Return) and _is_message(r.value) for text in samples(r.value)]
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXAMPLES" for t in node.targets):
            found += [(f"{path}:{key.lineno}", text) for key in node.value.keys for text in samples(key)]
    return found


def raised_messages() -> tuple:
    """([(where, sample)], {(module, first argument)} of ParseError sites not given the message)."""
    found, built_elsewhere = [], set()
    for file in sorted(PACKAGE.rglob("*.py")):
        path = file.relative_to(PACKAGE).as_posix()
        found += _sites(path, ast.parse(file.read_text(encoding="utf-8")), built_elsewhere)
    return found, built_elsewhere


def test_the_source_is_read_whole():
    """The walk finds the sites it must (so a changed helper cannot silently hide messages)."""
    found, built_elsewhere = raised_messages()
    assert built_elsewhere == set(BUILT_ELSEWHERE), "a ParseError whose text is built elsewhere: list it"
    places = {where.split(":")[0] for where, _text in found}
    assert {"parse/text.py", "parse/parser.py", "parse/build.py", "check/spellings.py"} <= places
    assert len(found) >= 90
    assert samples(ast.parse('f"{a} takes {\'one\' if n else \'two\'} and {b!r}" + ("!" if c else "")',
                             mode="eval").body) == ["X takes one and X!", "X takes one and X",
                                                    "X takes two and X!", "X takes two and X"]


def test_every_reading_error_has_its_template_in_english_and_chinese():
    """Each message the code can raise matches the template written for it, and that key says it
    in Chinese (a different, Chinese text)."""
    found, _built_elsewhere = raised_messages()
    for where, text in found:
        match = _matched(text)
        assert match is not None, f"{where}: no [check.parse] template in en.toml matches {text!r}"
        key, fields = match
        assert EXPECTED.get(text) == key, f"{where}: {text!r} is matched by {key}; list it in EXPECTED"
        english, chinese = say("en", key, "parse", **fields), say("zh", key, "parse", **fields)
        assert english == text, (where, english)
        assert chinese != english and _CJK.search(chinese), (where, key, chinese)


def test_a_refined_template_says_a_case_of_its_general_one():
    """The general template's message in that case is matched by the refinement, said in Chinese."""
    for key, (general, fields) in REFINEMENTS.items():
        message = say("en", general, "parse", **fields)
        match = _matched(message)
        assert match is not None and match[0] == key, (key, match)
        chinese = say("zh", key, "parse", **match[1])
        assert chinese != message and _CJK.search(chinese) and " and " not in chinese, (key, chinese)


def test_no_template_or_expected_message_is_left_over():
    """Every [check.parse] template (but the at_* places) is written for a message the code raises."""
    found, _built_elsewhere = raised_messages()
    raised = {text for _where, text in found}
    assert set(EXPECTED) == raised
    templates = {key for key in catalogue("en")["check"]["parse"] if not key.startswith("at_")}
    assert templates == set(EXPECTED.values()) | set(REFINEMENTS)
    assert set(catalogue("zh")["check"]["parse"]) == set(catalogue("en")["check"]["parse"])
