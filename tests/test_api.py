"""The public API explains itself: the README's API section runs as a doctest, the public functions
say what they take, return and raise, `results` is a mapping, counts take the right plural."""
from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import derive
from derive.commands.progress import plural
from derive.model import Results

ROOT = Path(__file__).resolve().parent.parent


def _readme_api_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, "the README's Python API section has no python block"
    return block.group(1)


def test_readme_api_section_runs_as_a_doctest():
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    test = parser.get_doctest(_readme_api_block(), {}, "README Python API", "README.md", 0)
    assert len(test.examples) >= 5
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


@pytest.mark.parametrize("function", [derive.derive, derive.available])
def test_public_functions_run_their_own_examples(function):
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    tests = finder.find(function, globs={})
    assert tests and tests[0].examples, f"{function.__name__} has no example"
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_derive_docstring_states_arguments_result_and_errors():
    text = derive.derive.__doc__
    for word in ("name", "K", "D", "N", "Derivation", "Raises", "UsageError", ">>>"):
        assert word in text


def test_results_is_a_read_only_mapping_of_lhs_rhs():
    results = derive.derive("cross-entropy-gradient").results
    assert isinstance(results, Results) and list(results) == ["general"]
    lhs, rhs = results["general"]
    assert results["general"].lhs == lhs and results["general"].rhs == rhs
    with pytest.raises(TypeError):
        results["other"] = (lhs, rhs)  # type: ignore[index]
    assert hash(results) == hash(Results([("general", lhs, rhs)]))
    with pytest.raises(ValueError, match="duplicate"):
        Results([("a", lhs, rhs), ("a", lhs, rhs)])


@pytest.mark.parametrize(("count", "text"), [(0, "0 answers"), (1, "1 answer"), (2, "2 answers")])
def test_plural(count, text):
    assert plural(count, "answer") == text
