"""The online softmax: the running maximum and running sum over blocks give the softmax exactly (induction on blocks).

Blocks: block t holds the logits k = B_{t-1} + 1, ..., B_t (B_T = K). The recurrence is
m_t = max(m_{t-1}, max of block t), l_t = l_{t-1} e^{m_{t-1} - m_t} + Sum_{k in block t} e^{z_k - m_t},
and the output accumulator of FlashAttention o_t = o_{t-1} e^{m_{t-1} - m_t} + Sum_{k in block t} e^{z_k - m_t} v_k.
Induction on t shows l_t = Sum_{k <= B_t} e^{z_k - m_t} and o_t = Sum_{k <= B_t} e^{z_k - m_t} v_k;
after the last block, e^{z_i - m_T} / l_T = sigma_i and o_T / l_T = Sum_k sigma_k v_k. For a concrete K
the recurrence is unrolled with one logit per block (m_t = max(m_{t-1}, z_t)). SymPy proves every
step at both sizes: for symbolic K, l_t and o_t stand for their recurrence, hypothesis or base case.
"""
from __future__ import annotations

import dataclasses

import mpmath
import sympy as sp

from ..model import Assumption, Derivation, Rule, Semantics, Step, SymbolRole
from ..symbols import K, i, k, sigma, z
from ..algebra import rewrites
from .common import Chain, probs_definitions_layer, require
from .roles import CLASSES, LOGITS, PROBS

NAME = "online-softmax"
TITLE = "The online softmax: running maximum, running sum and the rescaled output accumulator"
DESCRIPTION = ("m_t = max(m_{t-1}, block max), l_t = l_{t-1} e^{m_{t-1} - m_t} + sum e^{z_k - m_t}: "
               "e^{z_i - m_T} / l_T = sigma_i by induction on blocks; o_T / l_T = sum_k sigma_k v_k")
MAX_CONCRETE_K = 8  # the unrolled recurrence nests K deep

m = sp.IndexedBase("m")  # running maximum after block t
ell = sp.IndexedBase("ell")  # running sum after block t (printed \ell)
o = sp.IndexedBase("o")  # running output accumulator after block t (unnormalised)
v = sp.IndexedBase("v")  # values (one column of V)
B = sp.IndexedBase("B")  # B_t: index of the last logit of block t
t = sp.Symbol("t", integer=True, positive=True)  # block index
T = sp.Symbol("T", integer=True, positive=True)  # number of blocks

SYMBOLS = (PROBS, LOGITS, SymbolRole("running-max", "m", "running maximum m_t"),
           SymbolRole("running-sum", "ell", "running sum l_t"), SymbolRole("accumulator", "o", "output accumulator o_t"),
           SymbolRole("values", "v", "values v_k"), SymbolRole("block-ends", "B", "last index of each block"),
           SymbolRole("blocks", "T", "number of blocks"), CLASSES)
ASSUMPTIONS = (Assumption("block-ends", sp.And(sp.Le(B[t - 1] + 1, B[t]), sp.Eq(B[T], K))),)
LATER_BLOCK = sp.Ge(t, 2)


def _block(body, first, last) -> sp.Expr:
    """Sum_{k = first}^{last} body(k)."""
    return sp.Sum(body(k), (k, first, last))


def _term(index, block, *, with_values):
    """e^{z_index - m_block} (times v_index for the output accumulator)."""
    weight = sp.exp(z[index] - m[block])
    return weight * v[index] if with_values else weight


def _invariant(block, *, with_values):
    """What l_t (o_t) equals: Sum_{k=1}^{B_t} e^{z_k - m_t} (v_k)."""
    return _block(lambda c: _term(c, block, with_values=with_values), 1, B[block])


def _rescale_into_sums(expr: sp.Expr) -> sp.Expr:
    """c Sum_k f(k) -> Sum_k c f(k), then e^{a} e^{b} -> e^{a + b}: the old terms at the new maximum."""
    def absorb(product: sp.Mul) -> sp.Expr:
        sums = [f for f in product.args if isinstance(f, sp.Sum)]
        if len(sums) != 1:
            return product
        outside = sp.Mul(*[f for f in product.args if f is not sums[0]])
        return sp.Sum(sp.powsimp(outside * sums[0].function), *sums[0].limits)
    return expr.replace(lambda e: isinstance(e, sp.Mul) and any(isinstance(f, sp.Sum) for f in e.args), absorb)


def _join_adjacent_sums(expr: sp.Expr) -> sp.Expr:
    """Sum_{k=a}^{b} f + Sum_{k=b+1}^{c} f -> Sum_{k=a}^{c} f (one range split in two)."""
    sums = [s for s in sp.Add.make_args(expr) if isinstance(s, sp.Sum) and len(s.limits) == 1]
    for first in sums:
        for second in sums:
            (var, low, high), (var2, low2, high2) = first.limits[0], second.limits[0]
            if first is not second and var == var2 and first.function == second.function and low2 == high + 1:
                rest = [s for s in sp.Add.make_args(expr) if s is not first and s is not second]
                return sp.Add(sp.Sum(first.function, (var, low, high2)), *rest)
    return expr


def _induction(lhs_base, *, with_values: bool) -> list:
    """Base case (block 1, by definition) and the step t - 1 -> t for t >= 2."""
    name = "o" if with_values else "l"
    quantity = "accumulator" if with_values else "running-sum"  # the facts name the quantity
    base = Step(lhs=lhs_base[1], rhs=_invariant(1, with_values=with_values), rule=Rule.DEFINITION,
                note=f"block 1: {name}_1 is the sum over the first block at its own maximum m_1",
                facts=(f"base-case-{quantity}",))
    recurrence = lhs_base[t - 1] * sp.exp(m[t - 1] - m[t]) + _block(lambda c: _term(c, t, with_values=with_values),
                                                                    B[t - 1] + 1, B[t])
    chain = Chain(lhs_base[t], recurrence, f"the recurrence for {name}_t", rule=Rule.DEFINITION,
                  facts=(f"recurrence-{quantity}",))
    chain.steps[0] = dataclasses.replace(chain.steps[0], condition=LATER_BLOCK)  # l_0, m_0 do not exist
    chain.then(lambda e: e.xreplace({lhs_base[t - 1]: _invariant(t - 1, with_values=with_values)}),
               Rule.INDUCTION_HYPOTHESIS, f"the induction hypothesis for {name}_(t-1)", condition=LATER_BLOCK,
               facts=(f"hypothesis-{quantity}",))
    chain.then(_rescale_into_sums, Rule.RESCALE, "e^{z_k - m_(t-1)} e^{m_(t-1) - m_t} = e^{z_k - m_t}",
               condition=LATER_BLOCK, facts=(f"rescale-{quantity}",))
    chain.then(_join_adjacent_sums, Rule.JOIN_SUMS, "the first t - 1 blocks and block t: k = 1..B_t",
               condition=LATER_BLOCK, facts=(f"join-blocks-{quantity}",))
    return [base, *chain.steps]


def _normalised(numerator, *, with_values: bool) -> Chain:
    """After the last block: numerator / l_T with l_T (and o_T) replaced by their invariants, B_T = K."""
    lhs = numerator / ell[T]
    result = "output" if with_values else "probs"  # the facts name the result
    chain = Chain(lhs, lhs.xreplace({ell[T]: _invariant(T, with_values=False),
                                     o[T]: _invariant(T, with_values=True)}),
                  "the invariants after the last block T", rule=Rule.INDUCTION_HYPOTHESIS,
                  facts=(f"invariants-after-last-block-{result}",))
    chain.then(lambda e: e.xreplace({B[T]: K}), Rule.ASSUMPTION, "the last block ends at K: B_T = K",
               facts=(f"last-block-ends-at-K-{result}",))
    chain.then(lambda e: rewrites.pull_constants_out_of_sums(sp.expand(e, power_exp=True)), Rule.SHIFT_INVARIANCE,
               "e^{z_k - m_T} = e^{z_k} e^{-m_T}; the factor e^{-m_T} cancels", facts=(f"e-minus-m-T-cancels-{result}",))
    if with_values:
        chain.then(lambda e: e.replace(lambda s: isinstance(s, sp.Mul) and any(isinstance(f, sp.Sum) for f in s.args)
                                       and any(isinstance(f, sp.Pow) and f.exp == -1 for f in s.args),
                                       _denominator_into_sum), Rule.LINEARITY, "divide every term of the sum",
                   facts=("divide-every-term",))
        chain.then(_recognise_probs, Rule.SUBSTITUTE_SOFTMAX, "recognise sigma_k = e^{z_k} / sum_l e^{z_l}",
                   facts=("recognise-softmax-weights",))
    else:
        chain.then(lambda e: rewrites.substitute_softmax(e, indices=(i,)), Rule.SUBSTITUTE_SOFTMAX,
                   "recognise sigma_i = e^{z_i} / sum_k e^{z_k}", facts=("online-softmax-is-exact",))
    return chain


_l = sp.Symbol("l", integer=True, positive=True)  # the denominator's dummy once it sits inside a sum over k


def _denominator_into_sum(product: sp.Mul) -> sp.Expr:
    """Sum_k f(k) / Sum_k g(k) -> Sum_k f(k) / Sum_l g(l): every term divided (the dummy renamed first)."""
    numerator = next(f for f in product.args if isinstance(f, sp.Sum))
    outside = (product / numerator).replace(lambda e: isinstance(e, sp.Sum) and e.limits[0][0] == k,
                                            lambda e: e.xreplace({k: _l}))
    return sp.Sum(outside * numerator.function, *numerator.limits)


def _recognise_probs(expr: sp.Expr) -> sp.Expr:
    """e^{z_k} / Sum_l e^{z_l} -> sigma_k inside the sum over k."""
    total = sp.Sum(sp.exp(z[_l]), (_l, 1, K))
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.function.has(total),
                        lambda e: sp.Sum(sp.cancel(e.function.subs(sp.exp(z[k]), sigma[k] * total)), *e.limits))


# --- numeric meaning: the recurrence itself, run block by block in mpmath --------------------------

def _blocks(env):
    ends = [int(end) for end in env.array("B")]
    return list(zip([0] + ends[:-1], ends))


def _running(env, *, with_values: bool):
    """(m_t, l_t or o_t) for every block, by the recurrence (m_0 = -inf, l_0 = o_0 = 0)."""
    logits, values = env.array("z"), env.array("v")
    top, total, out = mpmath.ninf, mpmath.mpf(0), []
    tops = []
    for first, last in _blocks(env):
        new_top = max(top, *logits[first:last])
        rescale = mpmath.exp(top - new_top) if top != mpmath.ninf else mpmath.mpf(0)
        block = mpmath.fsum(mpmath.exp(logits[c] - new_top) * (values[c] if with_values else 1)
                            for c in range(first, last))
        top, total = new_top, total * rescale + block
        tops.append(top)
        out.append(total)
    return tops, out


def _random_split(rng, logits, sizes):
    """Block ends: T - 1 distinct cut points in 1..K-1, then K (a new split at every point)."""
    count, blocks = len(logits), sizes[T]
    cuts = sorted(rng.sample(range(1, count), blocks - 1))
    return {"B": [mpmath.mpf(end) for end in cuts + [count]], "v": [mpmath.mpf(rng.uniform(-2, 2)) for _ in logits]}


def _one_per_block(rng, logits, sizes):
    return {"B": [mpmath.mpf(end) for end in range(1, len(logits) + 1)],
            "v": [mpmath.mpf(rng.uniform(-2, 2)) for _ in logits]}


def _unrolled_meaning(expr, _n):
    """For proofs at a concrete K: l_x and o_x are their unrolled recurrences (one logit per block)."""
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base in (ell, o) and e.indices[0].is_Integer,
                        lambda e: _unrolled(int(e.indices[0]), with_values=e.base == o))


def _recurrence(block, *, with_values: bool) -> sp.Expr:
    """The definition of l_block (o_block): l_{block-1} e^{m_{block-1} - m_block} + the sum over the block."""
    running = o if with_values else ell
    return running[block - 1] * sp.exp(m[block - 1] - m[block]) + _block(
        lambda c: _term(c, block, with_values=with_values), B[block - 1] + 1, B[block])


def _induction_meaning(expr, _n):
    """For proofs at symbolic K, what l and o stand for in each part of the induction.

    l_t (o_t): its recurrence (the definition, t >= 2); l_(t-1): the induction hypothesis; l_1: the
    recurrence with l_0 = 0 (the base case); l_T: what the induction proves, then B_T = K (the
    assumption). Only these four names occur in the steps. The maxima m_t stay free symbols: the
    identities (e^{a} e^{b} = e^{a + b}) hold for any m_t, so max is never needed."""
    defined = expr.xreplace({ell[t]: _recurrence(t, with_values=False), o[t]: _recurrence(t, with_values=True)})
    known = {running[block]: _invariant(block, with_values=running == o)
             for running in (ell, o) for block in (1, t - 1, T)}
    return defined.xreplace(known).xreplace({B[T]: K})


def _split_at_last_block(summation: sp.Sum) -> sp.Expr:
    """Sum_{k=1}^{B_t} f -> Sum_{k=1}^{B_(t-1)} f + Sum_{k=B_(t-1)+1}^{B_t} f (true for any B, Karr's convention)."""
    (dummy, low, high), = summation.limits
    if low != 1 or high != B[t]:
        return summation
    return sp.Sum(summation.function, (dummy, 1, B[t - 1])) + sp.Sum(summation.function, (dummy, B[t - 1] + 1, B[t]))


def _sum_normal_form(expr, _n):
    """Sums over blocks in one form: exponentials split (e^{z_k - m_t} = e^{z_k} e^{-m_t}), factors free
    of k pulled out, every sum up to B_t split at B_(t-1). Each rewrite is an identity, so equal
    normal forms prove the sides equal; the zero test then sees the sums as equal leaves."""
    expr = expr.replace(lambda e: isinstance(e, sp.Sum),
                        lambda e: sp.Sum(sp.expand(e.function, power_exp=True), *e.limits))
    expr = expr.replace(lambda e: isinstance(e, sp.Sum) and len(e.limits) == 1, _split_at_last_block)
    return rewrites.pull_constants_out_of_sums(expr)


def _semantics(*, split, blocks) -> Semantics:
    concrete = split is _one_per_block
    return Semantics(arrays=split, sizes=lambda count: {T: blocks(count)}, index_ranges={t: T},
                     # Concrete K: the unrolled recurrence is explicit. Symbolic K: l_t and o_t by the
                     # induction (_induction_meaning); every step is then an identity in exponentials
                     # and sums over blocks, proved exactly; the 50-digit numbers at random block
                     # splits check the same steps against the recurrence run with max.
                     layers=((("ell", "o"), _unrolled_meaning if concrete else _induction_meaning),
                             probs_definitions_layer()),
                     refold=None if concrete else _sum_normal_form,
                     derived={"m": lambda env: _running(env, with_values=False)[0],
                              "ell": lambda env: _running(env, with_values=False)[1],
                              "o": lambda env: _running(env, with_values=True)[1]})


SYMBOLIC_SEMANTICS = _semantics(split=_random_split, blocks=lambda count: min(count, 4))
CONCRETE_SEMANTICS = _semantics(split=_one_per_block, blocks=lambda count: count)


def build_symbolic() -> Derivation:
    running_sum, accumulator = _induction(ell, with_values=False), _induction(o, with_values=True)
    # Both base cases first: the documents show block 1 once, then the induction step of each quantity.
    steps = [running_sum[0], accumulator[0], *running_sum[1:], *accumulator[1:]]
    probs = _normalised(sp.exp(z[i] - m[T]), with_values=False)
    output = _normalised(o[T], with_values=True)
    steps += probs.steps + output.steps
    return Derivation(name=NAME, title=TITLE, K=None, symbols=SYMBOLS, assumptions=ASSUMPTIONS, steps=tuple(steps),
                      result=probs.current, result_lhs=probs.lhs, semantics=SYMBOLIC_SEMANTICS,
                      results=(("running-sum", ell[t], _invariant(t, with_values=False)),
                               ("accumulator", o[t], _invariant(t, with_values=True)),
                               ("output", output.lhs, output.current)))


# --- concrete K: one logit per block, the recurrence unrolled ------------------------------------

def _unrolled(size: int, *, with_values: bool) -> sp.Expr:
    """l_K (o_K) written out: l_1 = e^{z_1 - m_1} (v_1), l_t = l_{t-1} e^{m_{t-1} - m_t} + e^{z_t - m_t} (v_t)."""
    total = _term(1, 1, with_values=with_values)
    for step in range(2, size + 1):
        total = total * sp.exp(m[step - 1] - m[step]) + _term(step, step, with_values=with_values)
    return total


def _expanded_parts(expr: sp.Expr, *, factor: sp.Expr = sp.Integer(1)) -> sp.Expr:
    """Numerator and denominator each multiplied by `factor` and expanded, exponentials combined."""
    numerator, denominator = sp.fraction(expr)
    return sp.powsimp(sp.expand(numerator * factor)) / sp.powsimp(sp.expand(denominator * factor))


def _unrolled_chain(numerator, size: int, *, with_values: bool) -> Chain:
    lhs = numerator / ell[size]
    result = "output" if with_values else "probs"  # the facts name the result
    unrolled = {ell[size]: _unrolled(size, with_values=False), o[size]: _unrolled(size, with_values=True)}
    chain = Chain(lhs, lhs.xreplace(unrolled), "the recurrence unrolled over the K blocks of one logit",
                  rule=Rule.DEFINITION, facts=(f"unrolled-{result}",))
    chain.then(lambda e: _expanded_parts(e), Rule.RESCALE,
               "expand: e^{z_k - m_(t-1)} e^{m_(t-1) - m_t} = e^{z_k - m_t}, down to the last maximum m_K",
               facts=(f"expand-to-last-maximum-{result}",))
    chain.then(lambda e: _expanded_parts(e, factor=sp.exp(m[size])), Rule.SHIFT_INVARIANCE,
               "multiply above and below by e^{m_K}: e^{z_k - m_K} e^{m_K} = e^{z_k}", facts=(f"times-e-m-K-{result}",))
    return chain


def _recognise_written_out(expr: sp.Expr, size: int) -> sp.Expr:
    """(e^{z_1} v_1 + ...) / (e^{z_1} + ...) -> sigma_1 v_1 + ...: e^{z_r} = sigma_r S in the numerator."""
    numerator, denominator = sp.fraction(expr)
    total = sp.Add(*[sp.exp(z[r]) for r in range(1, size + 1)])
    require(sp.expand(denominator - total) == 0, "the denominator is e^{z_1} + ... + e^{z_K}")
    # xreplace replaces all at once: the e^{z_r} inside the new factors S stay as they are.
    replaced = sp.expand(numerator).xreplace({sp.exp(z[r]): sigma[r] * total for r in range(1, size + 1)})
    return sp.Add(*[term / total for term in sp.Add.make_args(replaced)])


def build_concrete(size: int) -> Derivation:
    from ..errors import UsageError
    from ..symbols import explicit_softmax
    if size > MAX_CONCRETE_K:
        raise UsageError(f"{NAME} takes a concrete K of at most {MAX_CONCRETE_K}, not {size}")
    probs = sp.Matrix([sigma[r] for r in range(1, size + 1)])
    chains = [_unrolled_chain(sp.exp(z[r] - m[size]), size, with_values=False) for r in range(1, size + 1)]
    lhs = sp.Matrix([c.lhs for c in chains])
    steps = [Step(lhs=lhs, rhs=sp.Matrix([c.steps[n].rhs for c in chains]), rule=c0.rule, note=c0.note, facts=c0.facts)
             for n, c0 in enumerate(chains[0].steps)]
    explicit = explicit_softmax(size)
    recognised = sp.Matrix([c.current for c in chains]).xreplace(dict(zip(explicit, probs)))
    steps.append(Step(lhs=lhs, rhs=recognised, rule=Rule.SUBSTITUTE_SOFTMAX,
                      note="recognise sigma_r = e^{z_r} / (e^{z_1} + ... + e^{z_K})",
                      facts=("recognise-sigma-written-out",)))
    output = _unrolled_chain(o[size], size, with_values=True)
    output.then(lambda e: _recognise_written_out(e, size), Rule.SUBSTITUTE_SOFTMAX,
                "divide every term and recognise sigma_r = e^{z_r} / (e^{z_1} + ... + e^{z_K})",
                facts=("recognise-weights-written-out",))
    steps += output.steps
    return Derivation(name=NAME, title=TITLE, K=size, symbols=SYMBOLS, assumptions=(), steps=tuple(steps),
                      result=recognised, result_lhs=lhs, semantics=CONCRETE_SEMANTICS,
                      results=(("output", output.lhs, output.current),))
