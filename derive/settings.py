"""The numbers every stage agrees on: working precision, tolerances, seeds, shared assumption ids.

Defined once, here, below every stage (it imports nothing of ours), so parse, engine, verify and
check read the same values instead of keeping copies.
"""
from __future__ import annotations

# mpmath working precision of every numeric check (the verifier's and the checker's).
PRECISION_DIGITS = 50
# Numeric derivatives at 50 digits are good to ~40 digits; 1e-25 leaves a wide margin while
# catching any real mistake (a wrong step is off by O(sigma) or more). A string: mpmath.mpf(TOLERANCE).
TOLERANCE = "1e-25"
# Seeds of the random test points: the verifier's and the checker's. Two streams on purpose, so a
# change to one (more points, other K) does not move the other's points and counterexamples.
VERIFY_SEED = 20261124
CHECK_SEED = 5
# The id of the assumption sum_k y_k = 1 (rows of Y for a batch): steps cite it in `uses`, the
# verifier and the checker then put the targets on the simplex.
TARGETS_SUM_TO_ONE = "targets-sum-to-one"
# At most this many worker processes for `verify` and `generate --all` (never more than the cores):
# their (derivation, K) jobs are independent. 1: everything in the one process.
PARALLEL_JOBS = 2
