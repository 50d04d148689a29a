"""A worked example at K = 3: a derivation's explicit result at given numbers, checked by finite differences.

The numbers are CS231n's kind: probabilities p = (0.2, 0.3, 0.5) (logits z = log p) and the one-hot
target of class 2, plus what else a derivation takes (an upstream gradient g, a temperature, a
linear layer whose b makes z = log p again, attention's values and dO). The result matrix is the
derivation's own (SymPy's, evaluated at the point); the check differentiates the forward pass
numerically (mpmath.diff), independently of the derivation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mpmath
import sympy as sp

from ..errors import VerificationError
from ..model import Derivation
from .softmax import stable_softmax

PROBS = ("0.2", "0.3", "0.5")
TARGET_CLASS = 2  # 1-based: y = (0, 1, 0)
CLASSES = len(PROBS)
TOLERANCE = mpmath.mpf("1e-20")
PRECISION = 50  # digits: finite differences at this precision agree with the exact result far past TOLERANCE

# The other inputs, as decimal strings (exact in the printed example). Rows of a matrix are tuples.
UPSTREAM = ("1", "2", "3")                                    # g = dL/dsigma
TEMPERATURE = "2"
SMOOTHING = "0.1"
# W x = 0 for every input here, so b = log p gives z = log p and sigma = p again: round numbers throughout.
WEIGHTS = (("2", "1"), ("1", "0.5"), ("-2", "-1"))           # W: K x D, D = 2
INPUT = ("1", "-2")                                           # x
BATCH_INPUTS = (("1", "-2"), ("-0.5", "1"))                   # X: N x D, N = 2; row 1 is x
BATCH_TARGETS = (("0", "1", "0"), ("1", "0", "0"))            # Y: N x K
SCORE_PROBS = (PROBS, ("0.1", "0.6", "0.3"))                  # attention: S = log of these rows
VALUES = (("1", "0"), ("0", "1"), ("1", "-1"))                # V: keys x D
UPSTREAM_OUTPUT = (("1", "-1"), ("0.5", "2"))                 # dO: queries x D
MASK_KEEPS = 2                                                # masked-softmax: classes 1..n kept, n = 2
MASK_LOGITS = ("0.4", "0.6", "0.5")                           # z = log of these; the mask drops the last


def _mp(value):
    """Decimal strings (nested in tuples) -> mpf (in lists)."""
    return [_mp(v) for v in value] if isinstance(value, tuple) else mpmath.mpf(value)


def _matmul(a: list[list], b: list[list]) -> list[list]:
    return [[mpmath.fsum(a[r][m] * b[m][c] for m in range(len(b))) for c in range(len(b[0]))] for r in range(len(a))]


def _transpose(a: list[list]) -> list[list]:
    return [list(column) for column in zip(*a)]


def _rows(flat: list, columns: int) -> list[list]:
    return [flat[start:start + columns] for start in range(0, len(flat), columns)]


def _cross_entropy(logits, targets):
    return -mpmath.fsum(t * mpmath.log(p) for t, p in zip(targets, stable_softmax(logits)) if t)


def _masked_softmax(logits):
    """Softmax of z + M, M_k = -inf for k > n: the masked entries are exactly 0 and the rest renormalised."""
    kept = stable_softmax(logits[:MASK_KEEPS])
    return kept + [mpmath.mpf(0)] * (len(logits) - MASK_KEEPS)


@dataclass(frozen=True)
class Setting:
    """One derivation's example: the inputs (name -> value), the variable it differentiates by and the forward pass.

    `forward(variables, inputs)` gives the outputs at the flat variables (a scalar loss: one output);
    `derived(inputs)` adds what the result is written in (sigma, P, O, ...). `shown` names the inputs the
    document lists, in order; `order` 2 means the result is a Hessian of the single output.
    """

    inputs: Callable[[], dict]
    variable: str
    forward: Callable[[list, dict], list]
    derived: Callable[[dict], dict]
    shown: tuple[str, ...]
    order: int = 1


def _logits_inputs(**extra) -> Callable[[], dict]:
    def build():
        probs = _mp(PROBS)
        return {"z": [mpmath.log(p) for p in probs], "y": [mpmath.mpf(int(r == TARGET_CLASS)) for r in range(1, 4)],
                **{name: _mp(value) for name, value in extra.items()}}
    return build


def _probs(inputs: dict) -> dict:
    return {"sigma": stable_softmax(inputs["z"])}


def _temperature_inputs() -> dict:
    inputs = _logits_inputs(T=TEMPERATURE)()
    return {**inputs, "z": [inputs["T"] * v for v in inputs["z"]]}  # z = T log p: sigma = softmax(z / T) = p


def _linear_inputs() -> dict:
    """W and x as given; b = log p - W x (= log p), so z = W x + b = log p and sigma = p again."""
    inputs = _logits_inputs(W=WEIGHTS, x=INPUT)()
    wx = _matmul(inputs["W"], [[v] for v in inputs["x"]])
    return {**inputs, "b": [z - row[0] for z, row in zip(inputs["z"], wx)]}


def _linear_logits(weights: list[list], inputs: dict) -> list:
    return [mpmath.fsum(w * x for w, x in zip(row, inputs["x"])) + b for row, b in zip(weights, inputs["b"])]


def _batched_inputs() -> dict:
    """X's first row is x, with the same b as the single example: its probabilities are p."""
    inputs = _linear_inputs()
    return {"X": _mp(BATCH_INPUTS), "Y": _mp(BATCH_TARGETS), "W": inputs["W"], "b": inputs["b"]}


def _batched_probs(weights: list[list], inputs: dict) -> list[list]:
    logits = _matmul(inputs["X"], _transpose(weights))
    return [stable_softmax([v + b for v, b in zip(row, inputs["b"])]) for row in logits]


def _batched_loss(flat: list, inputs: dict) -> list:
    probs = _batched_probs(_rows(flat, len(inputs["W"][0])), inputs)
    per_example = [-mpmath.fsum(t * mpmath.log(p) for t, p in zip(ts, ps) if t) for ts, ps in zip(inputs["Y"], probs)]
    return [mpmath.fsum(per_example) / len(per_example)]


def _attention_inputs() -> dict:
    return {"S": [[mpmath.log(p) for p in row] for row in _mp(SCORE_PROBS)], "V": _mp(VALUES),
            "dO": _mp(UPSTREAM_OUTPUT)}


def _attention_output(scores: list[list], inputs: dict) -> list[list]:
    return _matmul([stable_softmax(row) for row in scores], inputs["V"])


def _attention_loss(flat: list, inputs: dict) -> list:
    """L = sum dO * O: its gradient by O is the given dO (the upstream gradient of any loss)."""
    output = _attention_output(_rows(flat, len(inputs["S"][0])), inputs)
    return [mpmath.fsum(d * o for ds, os in zip(inputs["dO"], output) for d, o in zip(ds, os))]


def _attention_derived(inputs: dict) -> dict:
    probs = [stable_softmax(row) for row in inputs["S"]]
    return {"P": probs, "O": _matmul(probs, inputs["V"]), "dP": _matmul(inputs["dO"], _transpose(inputs["V"]))}


def _masked_inputs() -> dict:
    return {**_logits_inputs(g=UPSTREAM)(), "z": [mpmath.log(v) for v in _mp(MASK_LOGITS)]}


def _upstream_loss(probs: Callable[[list], list]) -> Callable[[list, dict], list]:
    """L = sum_k g_k sigma_k: the loss whose gradient by sigma is the given g, so dL/dz is the VJP."""
    return lambda z, inputs: [mpmath.fsum(g * p for g, p in zip(inputs["g"], probs(z)))]


_LOGITS_PROBS_TARGETS = ("z", "sigma", "y")

# name -> what its worked example takes; a derivation not here has none (sigmoid-logistic-gradient is
# K = 2 only; online-softmax proves a recurrence, not a derivative).
SETTINGS: dict[str, Setting] = {
    "softmax-jacobian": Setting(_logits_inputs(), "z", lambda z, _: stable_softmax(z), _probs, ("z", "sigma")),
    "log-softmax-jacobian": Setting(_logits_inputs(), "z", lambda z, _: [mpmath.log(p) for p in stable_softmax(z)],
                                    _probs, ("z", "sigma")),
    "cross-entropy-gradient": Setting(_logits_inputs(), "z", lambda z, i: [_cross_entropy(z, i["y"])], _probs,
                                      _LOGITS_PROBS_TARGETS),
    "cross-entropy-hessian": Setting(_logits_inputs(), "z", lambda z, i: [_cross_entropy(z, i["y"])], _probs,
                                     _LOGITS_PROBS_TARGETS, order=2),
    "softmax-vjp": Setting(_logits_inputs(g=UPSTREAM), "z", _upstream_loss(stable_softmax), _probs,
                           ("z", "sigma", "g")),
    "temperature-softmax-jacobian": Setting(_temperature_inputs, "z",
                                            lambda z, i: stable_softmax([v / i["T"] for v in z]),
                                            lambda i: {"sigma": stable_softmax([v / i["T"] for v in i["z"]])},
                                            ("T", "z", "sigma")),
    "label-smoothing-gradient": Setting(
        _logits_inputs(epsilon=SMOOTHING), "z",
        lambda z, i: [-mpmath.fsum(((1 - i["epsilon"]) * t + i["epsilon"] / len(z)) * mpmath.log(p)
                                   for t, p in zip(i["y"], stable_softmax(z)))],
        _probs, ("z", "sigma", "y", "epsilon")),
    "logsumexp-gradient": Setting(_logits_inputs(), "z", lambda z, _: [mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z))],
                                  _probs, ("z", "sigma")),
    "linear-softmax-cross-entropy": Setting(
        _linear_inputs, "W", lambda w, i: [_cross_entropy(_linear_logits(_rows(w, len(i["x"])), i), i["y"])],
        _probs, ("W", "x", "b", "sigma", "y")),
    "batched-linear-softmax-cross-entropy": Setting(
        _batched_inputs, "W", _batched_loss, lambda i: {"P": _batched_probs(i["W"], i)}, ("X", "W", "b", "P", "Y")),
    "attention-backward": Setting(_attention_inputs, "S", _attention_loss, _attention_derived, ("S", "P", "V", "dO")),
    "masked-softmax": Setting(_masked_inputs, "z", _upstream_loss(_masked_softmax),
                              lambda i: {"sigma": _masked_softmax(i["z"])}, ("z", "sigma", "g")),
}


@dataclass(frozen=True)
class WorkedExample:
    inputs: tuple[tuple[str, object], ...]  # (name, value) in the order shown: mpf, a list, or a list of rows
    result: tuple[tuple, ...]  # rows of the result at the point (a gradient is one column)


def _flat(value) -> list:
    return [v for row in value for v in row] if isinstance(value[0], list) else list(value)


def _lookup(values: dict, name: str, indices: tuple) -> object:
    value = values[name]
    for index in indices:
        value = value[int(index) - 1]
    return value


def _point(expression: sp.Basic, values: dict) -> dict:
    """SymPy symbol -> Float for every indexed entry and scalar of `expression`, looked up by name."""
    point = {}
    for atom in expression.atoms(sp.Indexed):
        point[atom] = sp.Float(mpmath.nstr(_lookup(values, atom.base.name, atom.indices), PRECISION), PRECISION)
    for symbol in expression.free_symbols:
        if isinstance(symbol, sp.Symbol) and symbol.name in values and not isinstance(values[symbol.name], list):
            point[symbol] = sp.Float(mpmath.nstr(values[symbol.name], PRECISION), PRECISION)
    return point


def _numeric(setting: Setting, inputs: dict) -> list[list]:
    """Finite differences of the forward pass: output rows by variable columns, or the Hessian of one output."""
    variables = _flat(inputs[setting.variable])
    n = len(variables)

    def partial(output: int, orders: tuple[int, ...]):
        return mpmath.diff(lambda *v: setting.forward(list(v), inputs)[output], variables, orders)
    unit = [tuple(int(c == s) for s in range(n)) for c in range(n)]
    if setting.order == 2:
        return [[partial(0, tuple(a + b for a, b in zip(unit[r], unit[c]))) for c in range(n)] for r in range(n)]
    outputs = len(setting.forward(variables, inputs))
    return [[partial(r, unit[c]) for c in range(n)] for r in range(outputs)]


def worked_example(derivation: Derivation) -> WorkedExample | None:
    """The derivation's K = 3 result at the example's inputs, after a finite-difference check;
    None for a derivation without an example here."""
    setting = SETTINGS.get(derivation.name)
    if setting is None or derivation.K != CLASSES:
        return None
    with mpmath.workdps(PRECISION):
        inputs = setting.inputs()
        values = {**inputs, **setting.derived(inputs)}
        result = sp.Matrix(derivation.result)
        derived = result.xreplace(_point(result, values))
        entries = [[mpmath.mpf(str(derived[r, c])) for c in range(derived.cols)] for r in range(derived.rows)]
        # Row by row: a Jacobian (outputs x variables), a Hessian, or a scalar's gradient in the result's shape.
        computed, expected = _flat(entries), _flat(_numeric(setting, inputs))
        if len(computed) != len(expected):
            raise VerificationError(f"{derivation.name}: the worked example has {len(expected)} derivatives, "
                                    f"the result {len(computed)} entries")
        worst = max(abs(a - b) for a, b in zip(computed, expected))
        if worst > TOLERANCE:
            raise VerificationError(f"{derivation.name}: the worked example disagrees with finite differences by {worst}")
        return WorkedExample(tuple((name, values[name]) for name in setting.shown),
                             tuple(tuple(row) for row in entries))
