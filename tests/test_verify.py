"""The verifier must be able to fail: wrong steps are caught numerically, never passed silently."""
from __future__ import annotations

import dataclasses

import mpmath
import pytest
import sympy as sp

import derive
from derive.engine import build
from derive.errors import VerificationError
from derive.model import Rule, Step
from derive.numeric.state import Env
from derive.numeric.softmax import default_derived, stable_softmax
from derive.numeric.evaluate import evaluate
from derive.numeric.points import PointSpec, environments
from derive.symbols import i, j, sigma, z
from derive.verify import verify_derivation, verify_step


def _broken(name, index, new_rhs):
    d = build(name, None)
    steps = list(d.steps)
    steps[index] = dataclasses.replace(steps[index], rhs=new_rhs)
    return dataclasses.replace(d, steps=tuple(steps))


@pytest.mark.parametrize("wrong", [
    sigma[i] * (sp.KroneckerDelta(i, j) + sigma[j]),      # sign
    sigma[j] * (sp.KroneckerDelta(i, j) - sigma[i]) + sp.Rational(1, 10**12),  # tiny offset
    sigma[i] * sp.KroneckerDelta(i, j),                   # dropped term
])
def test_a_wrong_step_raises(wrong):
    with pytest.raises(VerificationError):
        verify_derivation(_broken("softmax-jacobian", 5, wrong))


def test_symmetric_form_is_accepted():
    """sigma_j (delta_ij - sigma_i) equals sigma_i (delta_ij - sigma_j): a correct step passes."""
    step = Step(lhs=sp.Derivative(sigma[i], z[j], evaluate=False),
                rhs=sigma[j] * (sp.KroneckerDelta(i, j) - sigma[i]), rule=Rule.FACTOR)
    checked = verify_step(step, K_value=None)
    assert checked.evidence.symbolic is True


def test_off_diagonal_case_only_claimed_off_diagonal():
    wrong_everywhere = Step(lhs=sp.Derivative(sigma[i], z[j], evaluate=False), rhs=-sigma[i] * sigma[j],
                            rule=Rule.CASE_UNEQUAL)
    with pytest.raises(VerificationError):
        verify_step(wrong_everywhere, K_value=None)
    restricted = dataclasses.replace(wrong_everywhere, condition=sp.Ne(i, j))
    assert verify_step(restricted, K_value=None).evidence.numeric_max_abs_error < 1e-40


def test_points_cover_every_index_pair_and_extreme_logits():
    envs = environments(PointSpec(free_indices=(i, j)))
    Ks = {env.K for env in envs}
    assert Ks == {2, 3, 5, 8}
    pairs_at_8 = {(env.scalars[i], env.scalars[j]) for env in envs if env.K == 8}
    assert len(pairs_at_8) == 64
    assert any(max(abs(v) for v in env.arrays["z"]) > 990 for env in envs)
    assert any(env.scalars[i] == env.scalars[j] for env in envs)


def test_stable_softmax_at_extreme_logits():
    with mpmath.workdps(50):
        probs = stable_softmax([mpmath.mpf(1000), mpmath.mpf(999), mpmath.mpf(-1000)])
        assert abs(mpmath.fsum(probs) - 1) < mpmath.mpf("1e-45")
        assert probs[0] > probs[1] > probs[2] > 0


def test_numeric_derivative_of_sigma_at_extreme_logits():
    with mpmath.workdps(50):
        env = Env(K=3, arrays={"z": [mpmath.mpf(1000), mpmath.mpf(1001), mpmath.mpf(-1000)]},
                  scalars={i: 1, j: 2}, derived=default_derived())
        numeric = evaluate(sp.Derivative(sigma[i], z[j], evaluate=False), env)
        p = stable_softmax(env.arrays["z"])
        assert abs(numeric - (-p[0] * p[1])) < mpmath.mpf("1e-40")


def test_evidence_counts_points():
    d = derive.derive("softmax-jacobian")
    # every (i, j) at K = 2, 3, 5, 8, four logit sets each
    assert d.steps[1].evidence.points == 4 * (4 + 9 + 25 + 64)
