"""Every implementation of the backward-code corpus gets its recorded verdict, mistake and mode (static or run).

tests/data/backward_code/index.json lists real implementations (with their source), correct NumPy and
PyTorch references for every target with a backward pass, and one mutant per catalogue slip.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from derive.code.api import check_file
from derive.code.runner import check_by_running
from derive.code.signature import parse_signature

CORPUS = Path(__file__).parent / "data" / "backward_code"
INDEX = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))["implementations"]
SEED = 2026  # of the drawn cases when run: fixed, so a failure reproduces (tests/test_code_seed.py varies it)


def _check(row, *, run):
    return check_file(str(CORPUS / row["file"]), target=row["target"], name=row["name"], run=run,
                      signature=parse_signature(row["signature"] or ""), seed=SEED)


@pytest.mark.parametrize("row", INDEX, ids=[row["file"] for row in INDEX])
def test_corpus_verdict(row):
    verdict = _check(row, run=True)
    expected = row["expected"]
    assert (verdict.verdict, verdict.mistake.id if verdict.mistake else None, verdict.static) == \
        (expected["verdict"], expected["mistake"], expected["static"]), verdict.message


def test_index_is_complete_and_sourced():
    files = {p.name for p in CORPUS.glob("*.py")}
    assert files == {row["file"] for row in INDEX}
    for row in INDEX:
        assert row["source"] or row["kind"] == "reference"
        if row["kind"] == "real":
            assert row["source"].startswith("https://")


REFERENCES = [row for row in INDEX if row["kind"] == "reference"]


@pytest.mark.parametrize("row", REFERENCES, ids=[row["file"] for row in REFERENCES])
def test_every_reference_is_proved_statically_for_every_k(row):
    verdict = _check(row, run=False)
    assert verdict.verdict == "correct" and verdict.static
    assert "proved equal for every K" in verdict.message


def test_each_target_with_a_backward_pass_has_a_numpy_and_a_torch_reference():
    frameworks = {}
    for row in REFERENCES:
        framework = "torch" if "torch" in (CORPUS / row["file"]).read_text() else "numpy"
        frameworks.setdefault(row["target"].split(":")[0], set()).add(framework)
    softmax_targets = frameworks.pop("softmax-jacobian") | frameworks.pop("softmax-vjp")
    assert softmax_targets == {"numpy", "torch"}
    for target in ("log-softmax-jacobian", "cross-entropy-gradient", "linear-softmax-cross-entropy",
                   "batched-linear-softmax-cross-entropy"):
        assert frameworks[target] == {"numpy", "torch"}, target


# The run path on code the static path reads too: the same verdicts from an independent route.
AGREE_WHEN_RUN = ["ref_torch_softmax_vjp.py", "ref_numpy_batched_linear.py", "mutant_missing_dot_product.py",
                  "mutant_upstream_ignored.py", "mutant_unstable_no_max.py", "mutant_sign.py", "mutant_scale.py",
                  "real_transformer_from_scratch_softmax.py", "real_dlad_softmax_loss_vectorized.py",
                  "real_ml_from_scratch_softmax.py", "mutant_unstable_divide_by_probs.py"]


@pytest.mark.parametrize("name", AGREE_WHEN_RUN)
def test_running_agrees_with_reading(name):
    row = next(r for r in INDEX if r["file"] == name)
    verdict = check_by_running(CORPUS / name, target=row["target"], name=row["name"],
                               signature=parse_signature(row["signature"] or ""), seed=SEED)
    assert (verdict.verdict, verdict.mistake.id if verdict.mistake else None, verdict.static) == \
        (row["expected"]["verdict"], row["expected"]["mistake"], False), verdict.message
