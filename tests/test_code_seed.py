"""check-code --run's drawn cases: branches on K, the logit spread, the logits' shape or a call count are caught,
a seed replays a run."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.cli_app import main
from derive.code.api import check_file
from derive.code.probes import (ALL_EQUAL, DATASET_KS, DRAWN_K_RANGES, INTEGER, KS, LARGE_K_RANGE, NEARLY_EQUAL,
                                SAFE_BAND, SHAPES, SHIFT_RANGE, SHIFTED_DOWN, SHIFTED_UP, SPREAD_RANGE, TIED,
                                TINY_SPREAD_RANGE, ZERO, cases, repeat_order)
from derive.code.problem import parts, probe
from derive.code.signature import Layout, parse_signature

CORPUS = Path(__file__).parent / "data" / "backward_code"
INDEX = {row["file"]: row for row in json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))["implementations"]}
SEEDS = (0, 1, 2)  # fixed, so a failure reproduces; the properties below hold at every seed by construction
# Wrong only where fixed cases never look (red team round 3): at K = 4, above K = 5, at spreads of 20..500.
BRANCHING = ["mutant_branch_on_k4.py", "mutant_branch_on_large_k.py", "mutant_branch_on_spread.py",
             "mutant_vjp_branch_on_k4.py"]
# Wrong only where round 3's drawn cases never looked (red team round 4): K > 64, K == 10, all logits above 50 or
# below -50, a tied maximum, an exact 0, integer logits.
SHAPE_BRANCHING = ["mutant_branch_on_k_above_64.py", "mutant_branch_on_k10.py", "mutant_branch_on_shifted_up.py",
                   "mutant_branch_on_all_equal.py", "mutant_branch_on_tiny_spread.py", "mutant_branch_on_shift_100.py",
                   "mutant_branch_on_shifted_down.py", "mutant_branch_on_tied_max.py", "mutant_branch_on_exact_zero.py",
                   "mutant_branch_on_integer_dtype.py"]
STATEFUL = "mutant_call_counter.py"  # right for its first 30 calls, then wrong
# Right, and read only by running (a branch or a loop the static reader does not follow).
RIGHT_WHEN_RUN = ["real_nnfs_softmax_backward.py", "real_nn_from_scratch_softmax_cce.py", "real_deepml_219_lists.py"]


def _check(file: str, seed: int | None):
    row = INDEX[file]
    return check_file(str(CORPUS / file), target=row["target"], name=row["name"], run=True,
                      signature=parse_signature(row["signature"] or ""), seed=seed)


@pytest.mark.parametrize("file", BRANCHING + SHAPE_BRANCHING + [STATEFUL])
def test_a_branch_off_the_fixed_cases_is_caught_at_every_seed(file):
    for seed in SEEDS:
        verdict = _check(file, seed)
        assert (verdict.verdict, verdict.static, verdict.seed) == ("incorrect", False, seed), verdict.message
        assert verdict.counterexample is not None


def test_state_kept_between_calls_is_named():
    verdict = _check(STATEFUL, 0)
    assert "Gave a different result when called again on the same inputs" in verdict.message, verdict.message
    assert verdict.counterexample["expected"] != verdict.counterexample["got"]


def test_code_that_refuses_integer_logits_is_not_failed_for_it(tmp_path):
    source = tmp_path / "floats_only.py"
    source.write_text((CORPUS / "mutant_branch_on_integer_dtype.py").read_text().replace(
        "        return s\n", "        raise TypeError('float logits only')\n"))
    verdict = check_file(str(source), target="cross-entropy-gradient", name=None, run=True, signature={}, seed=0)
    assert (verdict.verdict, verdict.static) == ("correct", False), verdict.message
    assert f"with {INTEGER}" not in verdict.message  # the refused case is not listed among those it agreed at
    assert "It raises at integer logits (int64); that is allowed." in verdict.message


@pytest.mark.parametrize("file", RIGHT_WHEN_RUN)
def test_a_right_file_stays_correct_at_every_seed(file):
    for seed in SEEDS:
        verdict = _check(file, seed)
        assert (verdict.verdict, verdict.static) == ("correct", False), verdict.message
        assert f"Drawn cases: seed {seed} (--seed {seed} replays them)." in verdict.message


def _cases(target: str, seed: int) -> list:
    goal = parts(target)[0].target
    return cases(goal, probe(goal, with_upstream=False), Layout(), uses_targets=True, seed=seed)


def _drawn(target: str, seed: int) -> list:
    return [case for case in _cases(target, seed) if case.spread is not None]


def test_drawn_cases_meet_every_small_k_and_every_band_of_spreads():
    bands = 40  # lower ends of bands a factor SAFE_BAND wide, spread evenly over SPREAD_RANGE
    low, high = (math.log(v) for v in SPREAD_RANGE)
    lows = [math.exp(low + (high - low - math.log(SAFE_BAND)) * b / (bands - 1)) for b in range(bands)]
    for seed in range(20):
        drawn = _drawn("cross-entropy-gradient", seed)
        Ks = {case.K for case in drawn} | set(KS)
        assert set(range(2, 9)) <= Ks
        assert all(any(lo <= K <= hi for K in Ks) for lo, hi in DRAWN_K_RANGES)
        for case in drawn:  # the spread asked for is the logits' own
            for env in case.envs:
                z = [float(v) for v in env.arrays["z"]]
                assert max(z) - min(z) == pytest.approx(case.spread, rel=1e-9) and max(map(abs, z)) < 510
        for band in lows:
            assert any(band <= case.spread <= band * SAFE_BAND for case in drawn), (seed, band)


def _shaped(target: str, seed: int) -> dict:
    return {case.shape: case for case in _cases(target, seed) if case.shape is not None}


def test_shaped_cases_meet_k10_a_large_k_and_every_shape_of_logits():
    for seed in range(20):
        shaped = _shaped("cross-entropy-gradient", seed)
        assert list(shaped) == list(SHAPES)
        Ks = [case.K for shape, case in shaped.items() if shape != INTEGER]  # code may refuse integer logits
        assert set(DATASET_KS) <= set(Ks) and any(LARGE_K_RANGE[0] <= K <= LARGE_K_RANGE[1] for K in Ks)
        z = {shape: [float(v) for v in case.envs[0].arrays["z"]] for shape, case in shaped.items()}
        assert all(SHIFT_RANGE[0] <= v <= SHIFT_RANGE[1] + 10 for v in z[SHIFTED_UP])
        assert all(-SHIFT_RANGE[1] - 10 <= v <= -SHIFT_RANGE[0] for v in z[SHIFTED_DOWN])
        assert set(z[ALL_EQUAL]) == {0.0}  # a freshly initialised model
        assert 0 < max(z[NEARLY_EQUAL]) - min(z[NEARLY_EQUAL]) <= TINY_SPREAD_RANGE[1] * 1.01
        assert z[TIED].count(max(z[TIED])) >= 2  # exact in float64, as the code receives them
        assert 0.0 in z[ZERO]
        assert all(v == int(v) for v in z[INTEGER]) and shaped[INTEGER].logits_dtype == "int64"
        assert all(case.logits_dtype == "float64" for shape, case in shaped.items() if shape != INTEGER)


def test_the_second_round_calls_every_case_again_and_the_first_last():
    order = repeat_order(23, 5)
    assert sorted(order[:-1]) == list(range(23)) and order[-1] == 0
    assert order == repeat_order(23, 5) and order != repeat_order(23, 6)


def test_the_same_seed_draws_the_same_cases_and_another_seed_others():
    first, again, other = _drawn("softmax-vjp", 11), _drawn("softmax-vjp", 11), _drawn("softmax-vjp", 12)
    assert [(c.K, c.spread, c.envs[0].arrays["z"]) for c in first] == [(c.K, c.spread, c.envs[0].arrays["z"])
                                                                       for c in again]
    assert [c.spread for c in first] != [c.spread for c in other]


def test_a_target_with_a_fixed_k_keeps_it_in_the_drawn_cases():
    goal = parts("batched-linear-softmax-cross-entropy")[0].target
    assert {case.K for case in _drawn("batched-linear-softmax-cross-entropy", 3)} <= set(goal.semantics.Ks)


# --- the command line ----------------------------------------------------------------------------------------------

def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_check_code_prints_the_seed_and_seed_replays_the_verdict():
    wrong = str(CORPUS / "mutant_branch_on_spread.py")
    replay = ("check-code", "--target", "cross-entropy-gradient", "--run", "--format", "json", "--seed", "42", wrong)
    runs = [invoke(*replay) for _ in range(2)]
    assert runs[0].exit_code == 1 and runs[0].stdout == runs[1].stdout  # the same cases, the same counterexample
    assert json.loads(runs[0].stdout)["seed"] == 42
    fresh = invoke("check-code", "--target", "cross-entropy-gradient", "--run", wrong)  # no --seed: one from the OS
    assert re.search(r"Drawn cases: seed (\d+) \(--seed \1 replays them\)", fresh.stdout), fresh.stdout
    reference = str(CORPUS / "ref_numpy_softmax_vjp.py")
    static = invoke("check-code", "--target", "softmax-vjp", "--format", "json", reference)
    assert json.loads(static.stdout)["seed"] is None  # read statically: nothing was drawn


def test_grade_code_uses_one_seed_for_the_class(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    for student in ("alice", "bob"):
        (submissions / f"{student}.py").write_text((CORPUS / "real_nnfs_softmax_backward.py").read_text())
    report = tmp_path / "report.json"
    result = invoke("grade-code", "--target", "softmax-jacobian", "--run", "--seed", "7", "--report", str(report),
                    str(submissions))
    assert result.exit_code == 0 and "(--seed 7)" in result.stdout
    rows = json.loads(report.read_text())
    assert rows[0]["verdict"] == "correct" and rows[0]["message"] == rows[1]["message"]
    assert "Drawn cases: seed 7 " in rows[0]["message"]
    fresh = invoke("grade-code", "--target", "softmax-jacobian", "--run", "--report", str(report), str(submissions))
    seed = re.search(r"\(--seed (\d+)\)", fresh.stdout).group(1)  # drawn once for the class, printed
    rows = json.loads(report.read_text())
    assert all(f"Drawn cases: seed {seed} " in row["message"] for row in rows)
