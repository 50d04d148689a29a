"""The numeric evaluator against plain mpmath at random points: constant indices, long sums, the
memoised softmax, numeric derivatives; and the errors it must still raise."""
from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from derive.numeric.state import Env, EvaluationError
from derive.numeric.softmax import default_derived, stable_softmax
from derive.numeric.evaluate import _sum_in_general, compile_expr, evaluate
from derive.symbols import K, i, sigma, y, z

from oracles import cross_entropy_mp, softmax_mp

N = 12


def _close(a, b, digits=45):
    return abs(a - b) <= mpmath.mpf(10) ** -digits * max(1, abs(a), abs(b))


def _point(seed, n=N, spread=5.0):
    rng = random.Random(seed)
    logits = [mpmath.mpf(rng.uniform(-spread, spread)) for _ in range(n)]
    targets = [mpmath.mpf(rng.uniform(0.05, 1.0)) for _ in range(n)]
    return logits, targets, Env(K=n, arrays={"z": logits, "y": targets}, derived=default_derived())


def _loss(n=N):
    return -sp.Add(*[y[r] * sp.log(sigma[r]) for r in range(1, n + 1)])


@pytest.mark.parametrize("seed", range(6))
def test_constant_indices_pick_the_right_entries(seed):
    """Every entry of a written-out tree, each at a different constant index, against plain mpmath."""
    logits, targets, env = _point(seed)
    probs = softmax_mp(logits)
    rng = random.Random(100 + seed)
    for _ in range(20):
        a, b, c = (rng.randrange(N) for _ in range(3))
        expr = y[a + 1] * sp.log(sigma[b + 1]) + z[c + 1] ** 2 - 3 * sp.exp(z[a + 1] - z[b + 1])
        expected = targets[a] * mpmath.log(probs[b]) + logits[c] ** 2 - 3 * mpmath.exp(logits[a] - logits[b])
        assert _close(evaluate(expr, env), expected)


@pytest.mark.parametrize("seed", range(4))
def test_long_sums_match_plain_mpmath(seed):
    """A sum of K terms (the loss), and one that cancels to almost nothing, at 50 digits."""
    logits, targets, env = _point(seed)
    assert _close(evaluate(_loss(), env), cross_entropy_mp(logits, targets))
    # e^z_1 + ... + e^z_K - e^z_1 - ... - e^z_K + z_1 * 10^-30, unevaluated: it cancels to the tiny
    # leftover, which only a sum rounded once (not term by term at 50 digits) gets to 50 digits
    exps = [sp.exp(z[r]) for r in range(1, N + 1)]
    terms = exps + [-e for e in exps] + [z[1] * sp.Rational(1, 10**30)]
    cancelling = sp.Add(*terms, evaluate=False)
    assert len(cancelling.args) == 2 * N + 1
    assert _close(evaluate(cancelling, env), logits[0] / mpmath.mpf(10) ** 30, digits=75)


@pytest.mark.parametrize("digits", [15, 50, 101])
def test_a_sum_of_numbers_is_mpmaths_fsum_bit_for_bit(digits):
    """Three or more terms that are all numbers: the same value, to the last bit, as mpmath.fsum of the
    terms at the working precision (the evaluator adds their raw values as fsum does)."""
    logits, _targets, env = _point(2)
    terms = [sp.exp(z[1]), -z[2] / 3, z[3] * sp.Rational(1, 10**20), sp.log(sp.Integer(7))]
    with mpmath.workdps(digits):
        values = [evaluate(term, env) for term in terms]
        got = evaluate(sp.Add(*terms, evaluate=False), env)
        assert got._mpf_ == mpmath.fsum(values)._mpf_ and type(got) is mpmath.mpf
    # a term that is not an mpf after two that are (an index): left to right, the numbers before it kept
    with_index = Env(K=N, arrays=env.arrays, scalars={i: 3}, derived=default_derived())
    assert evaluate(sp.Add(z[1], z[2], i, evaluate=False), with_index) == (logits[0] + logits[1]) + 3


def test_sums_of_other_kinds_are_added_in_order():
    """Sums with Python ints (indices, K) or matrices in them take the left-to-right path."""
    logits, targets, env = _point(1)
    with_index = Env(K=N, arrays=env.arrays, scalars={i: 3}, derived=default_derived())
    assert evaluate(sp.Add(i, K, 2, i, evaluate=False), with_index) == 3 + N + 2 + 3
    assert evaluate(z[i + 1] + z[i] + z[K], with_index) == mpmath.fsum([logits[3], logits[2], logits[N - 1]])
    probs = softmax_mp(logits)
    vectors = [sp.MatrixSymbol(name, N, 1) for name in ("y", "z", "sigma")]
    total = evaluate(sp.MatAdd(*vectors), env)
    assert isinstance(total, mpmath.matrix) and (total.rows, total.cols) == (N, 1)
    assert all(_close(total[r], targets[r] + logits[r] + probs[r]) for r in range(N))


@pytest.mark.parametrize("seed", range(4))
def test_derivative_of_the_loss_against_finite_differences(seed):
    """d L / d z_c by the evaluator (mpmath.diff) against an independent central difference and
    against sigma_c * sum(y) - y_c."""
    logits, targets, env = _point(seed)
    c = random.Random(seed).randrange(N)
    numeric = evaluate(sp.Derivative(_loss(), z[c + 1], evaluate=False), env)
    with mpmath.workdps(80):
        h = mpmath.mpf(10) ** -25
        up = cross_entropy_mp([v + h if r == c else v for r, v in enumerate(logits)], targets)
        down = cross_entropy_mp([v - h if r == c else v for r, v in enumerate(logits)], targets)
        difference = (up - down) / (2 * h)
    assert _close(numeric, difference, digits=40)
    closed_form = softmax_mp(logits)[c] * mpmath.fsum(targets) - targets[c]
    assert _close(numeric, closed_form)


def test_softmax_entry_derivatives_and_jacobian():
    logits, _targets, env = _point(7)
    p = softmax_mp(logits)
    for r, c in [(0, 0), (0, 5), (N - 1, 3), (4, 4)]:
        numeric = evaluate(sp.Derivative(sigma[r + 1], z[c + 1], evaluate=False), env)
        assert _close(numeric, p[r] * ((1 if r == c else 0) - p[c]))
    jacobian = evaluate(sp.Derivative(sp.MatrixSymbol("sigma", N, 1), sp.MatrixSymbol("z", N, 1), evaluate=False), env)
    for r in range(N):
        for c in range(N):
            assert _close(jacobian[r, c], p[r] * ((1 if r == c else 0) - p[c]))


def test_memoised_softmax_is_recomputed_at_each_precision():
    """The exponentials are memoised per precision: a value from 15 digits is never reused at 50."""
    rng = random.Random(3)
    with mpmath.workdps(15):
        low = [mpmath.mpf(rng.uniform(-3, 3)) for _ in range(N)]
        stable_softmax(low)
    with mpmath.workdps(60):
        fresh = softmax_mp(low)
        again = stable_softmax(low)
        assert all(_close(a, b, digits=55) for a, b in zip(again, fresh))
        shifted = stable_softmax([v + 1000 for v in low])  # same differences, other arguments
        assert all(_close(a, b, digits=55) for a, b in zip(shifted, fresh))


def test_changing_a_point_scalar_recomputes_what_depends_on_it():
    """sigma = softmax(z / T) read at T, then at another T: never the stale value."""
    T = sp.Symbol("T", positive=True)
    logits = [mpmath.mpf(v) for v in (0.3, -1.2, 2.0)]
    env = Env(K=3, arrays={"z": logits}, scalars={T: mpmath.mpf(1)},
              derived={"sigma": lambda e: stable_softmax([v / e.scalars[T] for v in e.array("z")])})
    assert _close(evaluate(sigma[1], env), softmax_mp(logits)[0])
    hotter = env.with_scalar(T, mpmath.mpf(4))
    assert _close(evaluate(sigma[1], hotter), softmax_mp([v / 4 for v in logits])[0])
    k = sp.Symbol("k", integer=True)
    bound = env.with_scalar(k, 2)  # a Sum's dummy: the memo is shared, not recomputed
    assert bound.memo is env.memo


def test_sums_bind_their_index_term_by_term_and_only_inside():
    """A Sum rebinds its index in one child point (not a copy per term): nested sums, an inner
    bound that reads the outer index, a reused index and a Sum over one of the point's own scalars
    (which a derived array reads) all give plain mpmath's values, and the point is left unchanged."""
    logits, targets, env = _point(3)
    k, m = sp.Symbol("k", integer=True), sp.Symbol("m", integer=True)
    with mpmath.workdps(50):
        nested = evaluate(sp.Sum(z[k] * sp.Sum(y[m] * z[m], (m, 1, k)), (k, 1, K)), env)
        plain = mpmath.mpf(0)
        for a in range(N):
            inner = mpmath.mpf(0)
            for b in range(a + 1):
                inner += targets[b] * logits[b]
            plain += logits[a] * inner
        assert nested == plain
        reused = evaluate(sp.Sum(z[k] * sp.Sum(y[k], (k, 1, 3)), (k, 1, 2)), env)
        assert _close(reused, (logits[0] + logits[1]) * mpmath.fsum(targets[:3]))
    assert k not in env.scalars and m not in env.scalars
    with pytest.raises(EvaluationError, match="already bound"):
        env.with_scalar(k, 1).with_index(k)
    n = sp.Symbol("n", integer=True)  # sigma reads n: every term needs its own sigma
    masked = Env(K=3, arrays={"z": logits[:3]}, scalars={n: 3},
                 derived={"sigma": lambda e: stable_softmax(e.array("z")[:e.scalars[n]])})
    assert _close(evaluate(sp.Sum(sigma[1], (n, 1, 3)), masked),
                  sum(softmax_mp(logits[:count])[0] for count in (1, 2, 3)))


@pytest.mark.parametrize("seed", range(3))
def test_a_sum_of_entries_equals_the_general_sum_exactly(seed):
    """sum_k y_k adds the entries without binding k: the same value to the last digit, and the
    same errors for a range beyond the array or a matrix."""
    logits, targets, env = _point(seed)
    k = sp.Symbol("k", integer=True)
    env = env.with_scalar(i, 5)
    with mpmath.workdps(50):
        for expr in (sp.Sum(y[k], (k, 1, K)), sp.Sum(sigma[k], (k, 1, K)), sp.Sum(z[k], (k, 2, i)),
                     sp.Sum(y[k], (k, i, 3)), sp.Sum(y[i], (i, 1, 4))):
            value = evaluate(expr, env)
            assert value == _sum_in_general(expr)(env)
        in_order = mpmath.mpf(0)
        for value in targets:
            in_order += value
        assert evaluate(sp.Sum(y[k], (k, 1, K)), env) == in_order
    W = sp.IndexedBase("W")
    env = Env(K=2, arrays={"W": mpmath.matrix([[1, 2], [3, 4]]), "z": [mpmath.mpf(1), mpmath.mpf(2)]})
    for expr in (sp.Sum(z[k], (k, 1, 3)), sp.Sum(z[k], (k, 0, 2)), sp.Sum(W[k], (k, 1, 2))):
        for compiled in (compile_expr(expr), _sum_in_general(expr)):
            with pytest.raises(EvaluationError, match="out of range"):
                compiled(env)


@pytest.mark.parametrize("expr", [y[0], y[N + 1], sigma[0], sigma[N + 1], z[-1]])
def test_constant_index_out_of_range_raises(expr):
    _logits, _targets, env = _point(0)
    with pytest.raises(EvaluationError, match="out of range"):
        evaluate(expr, env)
    with pytest.raises(EvaluationError, match="out of range"):  # also inside a sum and a derivative
        evaluate(sp.Derivative(expr * z[1] + z[2] + z[3], z[1], evaluate=False), env)


def test_index_errors_on_matrices_and_symbolic_indices():
    W = sp.IndexedBase("W")
    env = Env(K=2, arrays={"W": mpmath.matrix([[1, 2], [3, 4]]), "z": [mpmath.mpf(1), mpmath.mpf(2)]},
              scalars={i: 3})
    assert evaluate(W[2, 1], env) == 3
    for expr in (W[3, 1], W[0, 1], z[i], z[i - 3]):
        with pytest.raises(EvaluationError, match="out of range"):
            evaluate(expr, env)
    with pytest.raises(EvaluationError, match="not an integer"):
        evaluate(z[sp.Rational(3, 2)], env)
    with pytest.raises(EvaluationError, match="no value for 'x'"):
        evaluate(sp.IndexedBase("x")[1], env)
    compiled = compile_expr(sp.IndexedBase("x")[0])  # errors come when run, as before: compiling succeeds
    with pytest.raises(EvaluationError, match="no value for 'x'"):
        compiled(env)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("spread", [3.0, 1000.0])
def test_log_softmax_path_matches_the_log_of_sigma(seed, spread):
    """log sigma_k through the derived log-sum-exp array equals log of the softmax, also at |z| ~ 1000."""
    from derive.numeric.softmax import log_softmax_derived
    logits, targets, _env = _point(seed, spread=spread)
    fast = Env(K=N, arrays={"z": logits, "y": targets}, derived=log_softmax_derived())
    probs = softmax_mp(logits)
    for k in range(N):
        assert _close(evaluate(sp.log(sigma[k + 1]), fast), mpmath.log(probs[k]))
    loss = _loss()
    assert _close(evaluate(loss, fast), cross_entropy_mp(logits, targets))
    with pytest.raises(EvaluationError):
        evaluate(sp.log(sigma[N + 1]), fast)


def test_numeric_derivatives_shared_across_index_assignments_keep_each_entry():
    """The verifier's points share numeric derivatives across assignments of i, j (Env.across_indices):
    d sigma_i / d z_j reads i and the position reads j, so every entry must still get its own value;
    dL/dz_k, which reads neither, is computed once per point."""
    from derive.numeric.points import PointSpec, environments
    from derive.symbols import j, k
    spec = PointSpec(free_indices=(i, j))
    envs = environments(spec, Ks=(4,))
    jacobian = compile_expr(sp.Derivative(sigma[i], z[j]))
    for env in envs:
        probs = stable_softmax(env.array("z"))
        a, b = env.scalars[i] - 1, env.scalars[j] - 1
        assert _close(jacobian(env), probs[a] * ((1 if a == b else 0) - probs[b]), digits=40)
    loss = -sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K))
    gradient = compile_expr(sp.Derivative(loss, z[j]))
    first, *_ = envs
    cached_before = len(first.across_indices)
    values = {(env.scalars[i], env.scalars[j]): gradient(env) for env in envs[:16]}
    assert len(first.across_indices) == cached_before + 4  # one per z_j, not one per (i, j)
    assert values[(1, 2)] == values[(3, 2)] and values[(1, 2)] != values[(1, 3)]


def test_a_derived_array_cannot_read_an_index_it_did_not_declare():
    """Derived arrays are computed without the shared indices, so one that reads i fails loudly
    instead of giving every assignment the value of the first."""
    reads_i = {"w": lambda env: [env.scalars[i]] * env.K}
    env = Env(K=3, arrays={"z": [mpmath.mpf(0)] * 3}, scalars={i: 2}, derived=reads_i,
              entry_indices=frozenset({i}), across_indices={})
    with pytest.raises(KeyError):
        env.array("w")


def test_a_sum_without_a_free_index_is_computed_once_per_point_and_precision():
    """sum_k e^{z_k} is kept in the point's memo: the same value at every index assignment, recomputed at
    another precision or once an entry changes; a sum reading i (even only inside a derivative, which
    SymPy's free_symbols leaves out) or a scalar is computed at each call."""
    from derive.numeric.evaluate import _closed
    k = sp.Symbol("k", integer=True, positive=True)
    T = sp.Symbol("T", positive=True)
    denominator = sp.Sum(sp.exp(z[k]), (k, 1, K))
    logits, _targets, env = _point(5)
    run = compile_expr(denominator)
    with mpmath.workdps(50):
        assert _close(run(env), mpmath.fsum(mpmath.exp(v) for v in logits))
        assert run(env) is run(env)  # kept, not recomputed
    with mpmath.workdps(100):
        assert _close(run(env), mpmath.fsum(mpmath.exp(v) for v in logits), digits=95)
    changed = env.with_entry("z", (0,), logits[0] + 1)
    assert _close(run(changed), mpmath.fsum(mpmath.exp(v) for v in [logits[0] + 1, *logits[1:]]))
    assert _closed(denominator) and _closed(sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K)))
    for open_sum in (sp.Sum(sp.Derivative(sigma[k], z[i]), (k, 1, K)), sp.Sum(z[k] * z[i], (k, 1, K)),
                     sp.Sum(z[k] / T, (k, 1, K))):
        assert not _closed(open_sum)


def test_a_sum_is_compiled_once_per_process_and_each_compilation_gives_its_own_values():
    """Answers repeat their sums: an equal sum, built anew, gets the closure already compiled, and that
    closure still computes from each point it is given (nothing of the first point is kept in it)."""
    k = sp.Symbol("k", integer=True, positive=True)
    first = compile_expr(sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K)))
    again = compile_expr(sp.Sum(y[k] * sp.log(sigma[k]), (k, 1, K)))
    assert again is first
    for seed in (1, 2):
        logits, targets, env = _point(seed)
        with mpmath.workdps(50):
            probs = softmax_mp(logits)
            assert _close(again(env), mpmath.fsum(t * mpmath.log(p) for t, p in zip(targets, probs)))


@pytest.mark.parametrize("number", [sp.Rational(1, 3), sp.Rational(-7, 10), sp.Float("0.1", 30), sp.Integer(3) ** 40])
def test_a_number_compiled_at_low_precision_is_exact_at_the_precision_it_is_used_at(number):
    """The verifier compiles some trees outside mpmath.workdps(50) (a derivation's defined loss) and
    evaluates them inside: eps/3 baked at 53 bits was 1e-17 off and failed label smoothing at K = 3."""
    with mpmath.workdps(15):
        run = compile_expr(number)
    with mpmath.workdps(50):
        exact = mpmath.mpf(number.p) / number.q if number.is_Rational else mpmath.mpf(str(number.evalf(60)))
        assert run(Env(K=2)) == exact


def _batch_point(seed, rows=4, classes=8):
    """Y and Z as matrices, log P derived row by row (a batch's loss reads N K of them)."""
    from derive.numeric.softmax import stable_log_softmax
    from derive.numeric.state import RowsMatrix
    rng = random.Random(seed)
    targets = mpmath.matrix([[mpmath.mpf(rng.uniform(0.05, 1)) for _ in range(classes)] for _ in range(rows)])
    logits = mpmath.matrix([[mpmath.mpf(rng.uniform(-3, 3)) for _ in range(classes)] for _ in range(rows)])
    def log_probs(env):
        values = env.array("Z")
        return RowsMatrix([stable_log_softmax([values[e, c] for c in range(classes)]) for e in range(rows)])
    return Env(K=classes, arrays={"Y": targets, "Z": logits}, derived={"log_P": log_probs})


def test_a_long_sum_of_products_of_entries_is_the_sum_of_its_terms_bit_for_bit():
    """A loss of N K terms -Y_nk log P_nk / N read table by table (its leading -Y_nk / N kept between
    evaluations) is exactly fsum of its terms evaluated one by one: at two precisions, with Z moved,
    and with other targets (the kept products are made again)."""
    P, Y = sp.IndexedBase("P"), sp.IndexedBase("Y")
    loss = sp.Add(*[-Y[e, c] * sp.log(P[e, c]) / 4 for e in range(1, 5) for c in range(1, 9)])
    compiled = compile_expr(loss)
    one_by_one = lambda env: mpmath.fsum([evaluate(term, env) for term in loss.args])
    env = _batch_point(0)
    others = Env(K=8, arrays={**env.arrays, "Y": _batch_point(1).arrays["Y"]}, derived=env.derived)
    for digits in (50, 112):
        with mpmath.workdps(digits):
            for point in (env, env.with_entry("Z", (2, 5), mpmath.mpf("0.25")), others, env):
                assert compiled(point) == one_by_one(point)
    assert compiled(env) != compiled(others)


def test_a_long_sum_of_entries_falls_back_to_its_terms_where_the_tables_do_not_serve():
    """P given as an array (its own logs, term by term), and an index beyond the arrays (its error)."""
    P, Y = sp.IndexedBase("P"), sp.IndexedBase("Y")
    env = _batch_point(2)
    given = Env(K=8, arrays={**env.arrays, "P": mpmath.matrix(4, 8) + mpmath.mpf("0.125")}, derived=env.derived)
    loss = sp.Add(*[-Y[e, c] * sp.log(P[e, c]) / 4 for e in range(1, 5) for c in range(1, 9)])
    assert evaluate(loss, given) == mpmath.fsum([evaluate(term, given) for term in loss.args])
    assert evaluate(loss, given) != evaluate(loss, env)
    beyond = loss + Y[5, 1] * sp.log(P[5, 1])
    with pytest.raises(EvaluationError, match="out of range"):
        evaluate(beyond, env)


@pytest.mark.parametrize("digits, spread", [(15, 3.0), (50, 3.0), (50, 1000.0), (112, 5.0)])
def test_log_softmax_gives_the_numbers_of_its_plain_operations(digits, spread):
    """stable_log_softmax by libmp is bit for bit max, fsum of the memoised shifted exps, one log
    and K subtractions, ties included; values that are not mpf's take those operations."""
    from derive.numeric.softmax import _exp, stable_log_softmax
    rng = random.Random(digits)
    with mpmath.workdps(digits):
        logits = [mpmath.mpf(rng.uniform(-spread, spread)) for _ in range(40)]
        for values in (logits, logits + logits[:5], [logits[0]]):
            top = max(values)
            shift = top + mpmath.log(mpmath.fsum(_exp(v, top) for v in values))
            assert [v._mpf_ for v in stable_log_softmax(values)] == [(v - shift)._mpf_ for v in values]
        assert stable_log_softmax([1, 2])[1] == 2 - (2 + mpmath.log(mpmath.exp(-1) + 1))


def test_an_entry_reads_its_index_as_bound_at_the_point_whatever_its_kind():
    """y_i with i bound to an int, to a whole mpf, to K's value through K: the same entry; bound to a
    fraction, or not bound at all, the evaluator's own errors."""
    logits, targets, env = _point(3)
    entry = compile_expr(y[i])
    for bound in (2, mpmath.mpf(2), sp.Integer(2)):
        assert entry(Env(K=N, arrays=env.arrays, scalars={i: bound}, derived=default_derived())) == targets[1]
    assert compile_expr(y[K])(env) == targets[N - 1]
    with pytest.raises(EvaluationError, match="not an integer"):
        entry(Env(K=N, arrays=env.arrays, scalars={i: mpmath.mpf(2.5)}, derived=default_derived()))
    with pytest.raises(EvaluationError, match="no value for symbol i"):
        entry(Env(K=N, arrays=env.arrays, scalars={}, derived=default_derived()))
    with pytest.raises(EvaluationError, match="out of range"):
        entry(Env(K=N, arrays=env.arrays, scalars={i: N + 1}, derived=default_derived()))
