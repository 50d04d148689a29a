"""Decide the truth of every entry of real_formulas.jsonl by numbers, without the project's code.

Every entry's meaning is transcribed by hand below as a Python function of a random point
(logits z, targets y, upstream g, weights W, input x, batch X and Y). Each function returns the
author's claimed value in the layout of the target (matrices: row = output index, column =
input index; weights: class x feature), with NaN where the author claims nothing (the other
case of a two-case formula, the elided entries of a matrix with dots). Derivatives the author
leaves symbolic are the numeric ones below. The target itself is a complex-step derivative
of its definition (central differences of one for the Hessian), never a closed form.
An entry is correct when every claimed entry matches at every point; a derivation's first
wrong line is the first text line holding a claim that does not. The script prints counts and
exits 1 when a decided truth differs from the stored one.
"""
import collections
import json
import sys
import zlib
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("real_formulas.jsonl")
SIZES = (2, 3, 4, 5)
POINTS_PER_SIZE = 3
FEATURES, BATCH = 3, 4
STEP = 1e-30          # complex step: exact to rounding, no cancellation
HESSIAN_STEP = 1e-5   # central difference of the complex-step gradient
RTOL, ATOL, HESSIAN_ATOL = 1e-7, 1e-9, 1e-6


def softmax(z):
    """Softmax of a real or complex vector (shifted by the real maximum, as the complex step needs)."""
    e = np.exp(z - z.real.max())
    return e / e.sum()


def complex_grad(f, v):
    """Gradient of the scalar f at the real array v by the complex step."""
    v = np.asarray(v, float)
    out = np.empty(v.shape)
    for idx in np.ndindex(v.shape):
        w = v.astype(complex)
        w[idx] += 1j * STEP
        out[idx] = f(w).imag / STEP
    return out


def complex_jacobian(f, v):
    """Jacobian J[a, b] = d f_a / d v_b of the vector function f at the real vector v."""
    cols = []
    for b in range(len(v)):
        w = np.asarray(v, float).astype(complex)
        w[b] += 1j * STEP
        cols.append(f(w).imag / STEP)
    return np.array(cols).T


class Point:
    """One random test point; attributes named as the transcriptions use them."""

    def __init__(self, rng, K, soft_targets, linear):
        self.K, self.D, self.N = K, FEATURES, BATCH
        self.W = rng.normal(0, 1, (K, self.D))
        self.x = rng.normal(0, 1, self.D)
        self.b = rng.normal(0, 1, K)
        self.z = self.W @ self.x + self.b if linear else rng.normal(0, 1.5, K)
        self.c = int(rng.integers(K))
        self.y = np.eye(K)[self.c]
        if soft_targets:
            self.y = rng.dirichlet(np.ones(K))
        self.g = rng.normal(0, 1, K)
        self.T = rng.uniform(0.25, 4.0)
        self.eps = rng.uniform(0.05, 0.3)
        self.X = rng.normal(0, 1, (self.N, self.D))
        self.Yc = rng.integers(K, size=self.N)
        self.Y = np.eye(K)[self.Yc]
        self.Z = self.X @ self.W.T + self.b
        self.P = np.array([softmax(row) for row in self.Z])
        self.s = softmax(self.z)
        self.E = np.exp(self.z)
        self.S = self.E.sum()
        # derivatives an author leaves symbolic (d p_k / d z_i, d log p_k / d z_i, d lse / d z_i)
        self.J = complex_jacobian(softmax, self.z)
        self.JL = complex_jacobian(lambda w: np.log(softmax(w)), self.z)
        self.glse = complex_grad(lambda w: np.log(np.exp(w).sum()), self.z)


def ce(z, y):
    return -(y * np.log(softmax(z))).sum()


def truth(target, P, notation):
    """The target's value at P, from its definition only."""
    name, _, part = target.partition(":")
    if name == "softmax-jacobian":
        return P.J
    if name == "log-softmax-jacobian":
        return P.JL
    if name == "cross-entropy-gradient":
        return complex_grad(lambda w: ce(w, P.y), P.z)
    if name == "softmax-vjp":
        return complex_grad(lambda w: (P.g * softmax(w)).sum(), P.z)
    if name == "temperature-softmax-jacobian":
        return complex_jacobian(lambda w: softmax(w / P.T), P.z)
    if name == "label-smoothing-gradient":
        q = (1 - P.eps) * P.y + P.eps / P.K
        return complex_grad(lambda w: ce(w, q), P.z)
    if name == "logsumexp-gradient":
        return P.glse
    if name == "cross-entropy-hessian":
        grad = lambda w: complex_grad(lambda u: ce(u, P.y), w)
        cols = [(grad(P.z + HESSIAN_STEP * e) - grad(P.z - HESSIAN_STEP * e)) / (2 * HESSIAN_STEP)
                for e in np.eye(P.K)]
        return np.array(cols).T
    if name == "linear-softmax-cross-entropy":
        if part in ("", "W"):
            return complex_grad(lambda W: ce(W @ P.x + P.b, P.y), P.W)
        if part == "b":
            return complex_grad(lambda b: ce(P.W @ P.x + b, P.y), P.b)
        return complex_grad(lambda x: ce(P.W @ x + P.b, P.y), P.x)
    if name == "batched-linear-softmax-cross-entropy":
        scale = 1.0 if notation.get("reduction") == "sum" else 1.0 / P.N

        def loss(W=P.W, b=P.b):
            return scale * sum(ce(W @ P.X[n] + b, P.Y[n]) for n in range(P.N))
        if part in ("", "W"):
            return complex_grad(lambda W: loss(W=W), P.W)
        return complex_grad(lambda b: loss(b=b), P.b)
    raise ValueError(f"unknown target {target}")


# ---- helpers the transcriptions use -------------------------------------------------------
def d(a, b):
    return 1.0 if a == b else 0.0


def M(P, f):
    """K x K matrix from f(row, column); the author's own letters name the parameters."""
    return np.array([[f(r, c) for c in range(P.K)] for r in range(P.K)], float)


def V(P, f):
    return np.array([f(i) for i in range(P.K)], float)


def Dg(P, f):
    """Only the diagonal is claimed (a formula for the case i = j)."""
    m = np.full((P.K, P.K), np.nan)
    for i in range(P.K):
        m[i, i] = f(i)
    return m


def Off(P, f):
    """Only the off-diagonal entries are claimed (a formula for the case i != j)."""
    m = np.full((P.K, P.K), np.nan)
    for r in range(P.K):
        for c in range(P.K):
            if r != c:
                m[r, c] = f(r, c)
    return m


def Entry(P, r, c, value):
    m = np.full((P.K, P.K), np.nan)
    m[r, c] = value
    return m


def only(P, keep, values):
    """Keep the vector entries where keep(i) holds (a formula stated for some i only)."""
    return np.array([values[i] if keep(i) else np.nan for i in range(P.K)])


def outer_diag(P):
    return np.diag(P.s) - np.outer(P.s, P.s)


def Shown(P, entries):
    """A matrix that shows only some entries (dots elsewhere): {(row, column): value}."""
    m = np.full((P.K, P.K), np.nan)
    for (r, c), value in entries.items():
        m[r, c] = value
    return m


# ---- transcriptions, one per entry: the author's claims as values --------------------------
# Each returns a list of claims (one per expression the entry asserts equal to its left side).
def _ce_steps_oi(P):
    """The usual chain for dL/do_i (p/o/y notation), expression by expression."""
    s, y, J, JL, K = P.s, P.y, P.J, P.JL, P.K
    return [
        V(P, lambda i: -sum(y[k] * JL[k, i] for k in range(K))),
        V(P, lambda i: -sum(y[k] / s[k] * J[k, i] for k in range(K))),
        V(P, lambda i: -y[i] * (1 - s[i]) - sum(y[k] / s[k] * (-s[k] * s[i]) for k in range(K) if k != i)),
        V(P, lambda i: -y[i] * (1 - s[i]) + sum(y[k] * s[i] for k in range(K) if k != i)),
        V(P, lambda i: -y[i] + y[i] * s[i] + sum(y[k] * s[i] for k in range(K) if k != i)),
        V(P, lambda i: s[i] * y.sum() - y[i]),
        P.s - P.y,
    ]


FORMULAS = {
    "mse945871-1": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    "mse945871-2": lambda P: [Off(P, lambda j, i: -P.s[i] * P.s[j])],
    "mse945871-4": lambda P: [P.s - P.y],
    "manong-1": lambda P: [M(P, lambda j, i: P.s[i] * (1 - P.s[i]) if i == j else -P.s[i] * P.s[j])],
    "manong-3": lambda P: [P.s - P.y],
    # w_ij joins input i to class j; the target's layout is [class, input]
    "sse235528-1": lambda P: [np.array([[(-P.y[j] / P.s[j]) * P.s[j] * (1 - P.s[j]) * P.x[i]
                                         for i in range(P.D)] for j in range(P.K)])],
    "mse3058580-1": lambda P: [M(P, lambda i, j: P.s[i] * (1 - P.s[j]) if i == j else -P.s[j] * P.s[i])],
    "mse3058580-2": lambda P: [M(P, lambda i, j: P.s[i] * (1 - P.s[i]) if i == j else -P.s[i] * P.s[j])],
    "mnn-3": lambda P: [
        Shown(P, {(0, 0): P.s[0] - P.s[0] * P.s[0], (0, 1): -P.s[0] * P.s[1], (0, P.K - 1): -P.s[0] * P.s[-1],
                  (1, 0): P.s[1] * P.s[0], (1, 1): P.s[1] - P.s[0] * P.s[1], (1, P.K - 1): -P.s[0] * P.s[-1],
                  (P.K - 1, 0): P.s[-1] * P.s[0], (P.K - 1, 1): -P.s[-1] * P.s[1],
                  (P.K - 1, P.K - 1): P.s[-1] - P.s[-1] * P.s[-1]}),
        np.diag(P.s) - np.outer(P.s, P.s)],
    "mnn-4": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    "ningyu-3": lambda P: [M(P, lambda j, k: P.s[j] * (1 - P.s[j]) if k == j else -P.s[j] * P.s[k])],
    "ningyu-5": lambda P: [P.s - P.y],
    "jishuzhan1-1": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    "jishuzhan1-2": lambda P: [Off(P, lambda i, j: -P.s[i] * P.s[j])],
    "jishuzhan1-3": lambda P: [M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    "jishuzhan1-4": lambda P: [V(P, lambda j: -sum(P.y[i] / P.s[i] * P.J[i, j] for i in range(P.K)))],
    "jishuzhan1-5": lambda P: [V(P, lambda j: -sum(P.y[i] / P.s[i] * P.s[i] * (d(i, j) - P.s[j]) for i in range(P.K))),
                               V(P, lambda j: -sum(P.y[i] * (d(i, j) - P.s[j]) for i in range(P.K)))],
    "jishuzhan2-1": lambda P: [Dg(P, lambda i: (P.E[i] * P.S - P.E[i] * P.E[i]) / P.S ** 2),
                               Dg(P, lambda i: P.E[i] * (P.S - P.E[i]) / P.S ** 2)],
    "jishuzhan2-2": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    "jishuzhan2-3": lambda P: [Off(P, lambda i, k: (0 * P.S - P.E[i] * P.E[k]) / P.S ** 2),
                               Off(P, lambda i, k: -P.E[i] * P.E[k] / P.S ** 2),
                               Off(P, lambda i, k: -P.s[i] * P.s[k])],
    "zakariapz-1": lambda P: [M(P, lambda j, i: P.s[j] * (d(i, j) - P.s[i]))],
    "sunhaozhe-1": lambda P: [M(P, lambda i, k: P.J[i, k]),
                              M(P, lambda i, k: (d(i, k) * P.E[i] * P.S - P.E[k] * P.E[i]) / P.S ** 2)],
    "sunhaozhe-4": lambda P: [M(P, lambda i, k: P.s[k] * (1 - P.s[k]) if i == k else -P.s[k] * P.s[i])],
    "askswarm-1": lambda P: [M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    "askswarm-2": lambda P: [P.s - P.y],
    "ase35741-1": lambda P: [V(P, lambda j: sum(-P.y[k] / P.s[k] * P.J[k, j] for k in range(P.K)))],
    "thunfisch-1": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    "grahamco-1": lambda P: [np.diagflat(P.s.reshape(-1, 1)) - np.dot(P.s.reshape(-1, 1), P.s.reshape(-1, 1).T)],
    "vsedov-1": lambda P: [np.diagflat(P.s.reshape(-1, 1)) + np.dot(-P.s.reshape(-1, 1), P.s.reshape(-1, 1).T)],
    "vsedov-2": lambda P: [np.diagflat(P.s.reshape(-1, 1)) - np.dot(P.s.reshape(-1, 1), P.s.reshape(-1, 1).T)],
    # mattpetersen: 0-based s_0 .. s_n with n = K - 1
    "mattpetersen-3": lambda P: [Shown(P, {
        (r, c): (P.s[r] - P.s[r] ** 2 if r == c else -P.s[r] * P.s[c])
        for r in (0, 1, P.K - 1) for c in (0, 1, P.K - 1)})],
    "mattpetersen-4": lambda P: [np.diag(P.s) - P.s.reshape(1, -1).T @ P.s.reshape(1, -1)],
    "mattpetersen-5": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    "mattpetersen-7": lambda P: [np.diag(P.s) - P.s.reshape(1, -1).T @ P.s.reshape(1, -1)],
    "mattpetersen-8": lambda P: [P.s - P.y],
    "hoadm-1": lambda P: [P.s - P.y],
    "hoadm-2": lambda P: [P.s - P.y],
    "yanfenglee-1": lambda P: [M(P, lambda j, i: P.s[i] * (1 - P.s[i]) if i == j else -P.s[i] * P.s[j])],
    "telhc-1": lambda P: [M(P, lambda i, j: P.J[i, j]), M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    "freelw-1": lambda P: [
        only(P, lambda i: i != P.c, np.array([
            # c1 e^{x_4} / (x_1 x_2^2) with x_1 = c1/sum, x_2 = sum, x_4 = Z_i - max
            (lambda m, tot: np.exp(P.z[P.c] - m) * np.exp(P.z[i] - m)
             / ((np.exp(P.z[P.c] - m) / tot) * tot ** 2))(P.z.max(), np.exp(P.z - P.z.max()).sum())
            for i in range(P.K)])),
        only(P, lambda i: i != P.c, np.exp(P.z - P.z.max()) / np.exp(P.z - P.z.max()).sum())],
    "purepisces-1": lambda P: [only(P, lambda i: i == P.c, v) for v in (
        V(P, lambda i: -sum(P.y[k] * P.JL[k, i] for k in range(P.K))),
        V(P, lambda i: -P.y[i] * (1 - P.s[i])),
        P.s - P.y,
        P.s - 1)],
    "purepisces-2": lambda P: [only(P, lambda i: i != P.c, v) for v in (
        V(P, lambda i: -sum(P.y[k] * P.JL[k, i] for k in range(P.K))),
        V(P, lambda i: -P.y[i] * (-P.s[i])),
        P.s,
        P.s - 0)],
    "purepisces-3": lambda P: [Dg(P, lambda i: 1 / P.s[i] * P.J[i, i]),
                               Dg(P, lambda i: 1 / P.s[i] * P.s[i] * (1 - P.s[i])),
                               Dg(P, lambda i: 1 - P.s[i])],
    "purepisces-4": lambda P: [Off(P, lambda k, i: 1 / P.s[k] * P.J[k, i]),
                               Off(P, lambda k, i: 1 / P.s[k] * -P.s[k] * P.s[i]),
                               Off(P, lambda k, i: -P.s[i])],
    "purepisces-5": lambda P: [P.s - P.y],
    "purepisces-6": lambda P: [np.array([
        [P.s[0] * (1 - P.s[0]), -P.s[0] * P.s[1], -P.s[0] * P.s[2]],
        [-P.s[0] * P.s[1], P.s[1] * (1 - P.s[1]), -P.s[1] * P.s[2]],
        [-P.s[0] * P.s[2], -P.s[1] * P.s[2], P.s[2] * (1 - P.s[2])]])],
    "purepisces-7": lambda P: [Entry(P, 0, 0, v) for v in (
        (P.E[0] * P.S - P.E[0] * P.E[0]) / (P.S * P.S),
        P.E[0] / P.S * (P.S - P.E[0]) / P.S,
        P.s[0] * (1 - P.s[0]))],
    "purepisces-8": lambda P: [Entry(P, 0, 1, v) for v in (
        (0 * P.S - P.E[0] * P.E[1]) / P.S ** 2,
        -(P.E[0] / P.S) * (P.E[1] / P.S),
        -P.s[0] * P.s[1])],
    "lexai-1": lambda P: [P.s * (P.g - np.dot(P.s, P.g))],
    "mindbento-1": lambda P: [V(P, lambda i: P.s[i] * (P.g[i] - np.dot(P.s, P.g)))],
    "ivanukr-1": lambda P: [(lambda s, dout: s * (dout - np.sum(dout * s, axis=1, keepdims=True)))(
        P.s[None, :], P.g[None, :])[0]],
    "xinghaow99-1": lambda P: [P.s * (P.g - (P.g * P.s).sum(axis=-1))],
    "iamtarun-1": lambda P: [np.diag(P.s * (1 - P.s))],
    "sumansudhir-1": lambda P: [P.s * (1 - P.s)],
    "barryhan-1": lambda P: [Dg(P, lambda i: (P.E[i] * P.S - P.E[i] * P.E[i]) / P.S ** 2),
                             Dg(P, lambda i: P.s[i] - P.s[i] ** 2),
                             Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    "barryhan-2": lambda P: [Off(P, lambda i, j: -P.E[i] * P.E[j] / P.S ** 2), Off(P, lambda i, j: -P.s[i] * P.s[j])],
    "barryhan-3": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    "sse360450-1": lambda P: [M(P, lambda i, j: P.s[j] * (1 - P.s[i]) if i == j else -P.s[j] * P.s[i])],
    "sse360450-2": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i])), Dg(P, lambda i: P.s[i] - P.s[i] ** 2)],
    "sse360450-3": lambda P: [M(P, lambda i, j: (P.S * d(i, j) * P.E[i] - P.E[i] * P.E[j]) / P.S ** 2)],
    "sse360450-4": lambda P: [Off(P, lambda i, j: (P.S * 0 - P.E[i] * P.E[j]) / P.S ** 2),
                              Off(P, lambda i, j: -(P.E[i] / P.S) * (P.E[j] / P.S))],
    "sse360450-5": lambda P: [Dg(P, lambda i: (P.S * P.E[i] - P.E[i] * P.E[i]) / P.S ** 2),
                              Dg(P, lambda i: (P.E[i] / P.S) * ((P.S - P.E[i]) / P.S))],
    "ecomnet-2": lambda P: [P.s - P.y],
    "ecomnet-3": lambda P: [P.s - P.y],
    "jiongjiongai-1": lambda P: [
        M(P, lambda i, j: (P.E[j] * P.S - P.E[j] * P.E[j]) / P.S ** 2 if i == j else -P.E[i] * P.E[j] / P.S ** 2),
        M(P, lambda i, j: P.s[j] * (1 - P.s[j]) if i == j else -P.s[i] * P.s[j])],
    "compphysics-1": lambda P: [M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    "mse4258008-2": lambda P: [Dg(P, lambda i: 1 - np.exp(np.log(P.s[i])))],
    "mse4258008-3": lambda P: [np.diag(1 - np.exp(np.log(P.s)))],
    "mse4513826-1": lambda P: [P.s - 1, P.E / P.S - 1],
    "returnn-1": lambda P: [M(P, lambda i, j: d(i, j) - P.s[j])],
    "arxiv2002-1": lambda P: [P.s - P.y],
    "arxiv2002-2": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    # rows of W are classes j; the asker's p is the TRUE class's probability
    "mse1804041-1": lambda P: [np.array([(P.s[P.c] - 1) * P.x if j == P.c else np.full(P.D, np.nan)
                                         for j in range(P.K)])],
    "mse1804041-2": lambda P: [np.array([P.s[P.c] * P.x if j != P.c else np.full(P.D, np.nan)
                                         for j in range(P.K)])],
    "mse1804041-3": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    # the author's W is d x K (transposed); dW comes back transposed to class x feature
    "igorino-1": lambda P: [((P.X.T @ (P.P - P.Y)) / P.N).T],
    "xoyoon2-1": lambda P: [_xoyoon2(P)],
    "pmtk3-1": lambda P: [M(P, lambda c1, c2: P.s[c1] * (d(c1, c2) - P.s[c2]))],
    "infinitelexicon-1": lambda P: [P.E / P.S, P.s],
    "mse2416837-1": lambda P: [Off(P, lambda k, j: -P.E[k] * P.E[j] / P.S ** 2)],
    "mse2416837-2": lambda P: [Dg(P, lambda k: P.E[k] * (P.S - P.E[k]) / P.S ** 2)],
    "mse2416837-3": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i])), Off(P, lambda i, j: -P.s[i] * P.s[j])],
    "lsestrict-1": lambda P: [P.s],
    "lsestrict-2": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    "lsestrict-3": lambda P: [P.E / P.S],
    "sse409658-1": lambda P: [P.E / P.S],
    "mathworkslse-1": lambda P: [(P.S * np.diag(P.E) - np.outer(P.E, P.E)) / P.S ** 2],
    "mse2060944-1": lambda P: [P.s - P.y],
    "mse2060944-2": lambda P: [(P.s - P.y) * 1, P.s - P.y],
    "mse2060944-3": lambda P: [np.outer(P.s - P.y, P.x)],
    "mse2060944-4": lambda P: [np.outer((np.outer(P.s, np.ones(P.K)) - np.eye(P.K)) @ P.y, P.x),
                               np.outer(P.s - P.y, P.x)],
    "lynx-1": lambda P: [M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    "lynx-2": lambda P: [np.diag(P.s) - np.outer(P.s, P.s)],
    "lynx-3": lambda P: [V(P, lambda j: P.s[j] - d(j, P.c))],
    "lynx-4": lambda P: [P.s - np.eye(P.K)[P.c]],
    "heiqu-3": lambda P: [M(P, lambda i, j: d(i, j) * P.s[i] - P.s[i] * P.s[j])],
    "x35yao-1": lambda P: [(P.P - P.Y).T @ P.X / P.N],
    "x35yao-2": lambda P: [sum(P.P[n] - P.Y[n] for n in range(P.N)) / P.N],
    "lizhenping-1": lambda P: [M(P, lambda i, j: P.s[i] * (1 - P.s[i]) if i == j else -P.s[i] * P.s[j])],
    # s is the softmax of the upstream gradient delta, as the code computes it
    "divyanshu-1": lambda P: [(lambda s: M(P, lambda i, j: s[i] - s[i] * s[j] if i == j else -s[i] * s[j]))(softmax(P.g))],
    "dani2442-1": lambda P: [P.s * (P.g - (P.s * P.g).sum())],
    "jpark7ca-1": lambda P: [V(P, lambda i: sum(-P.y[k] / P.s[k] * P.J[k, i] for k in range(P.K))), P.s - P.y],
    "blatherstrike-1": lambda P: [Dg(P, lambda i: (P.E[i] * P.S - P.E[i] * P.E[i]) / P.S ** 2),
                                  Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    "blatherstrike-2": lambda P: [Off(P, lambda i, j: (0 * P.S - P.E[i] * P.E[i]) / P.S ** 2),
                                  Off(P, lambda i, j: -P.s[i] * P.s[j])],
    "mathzsolution-1": lambda P: [Dg(P, lambda i: P.s[i] * (1 - P.s[i]))],
    "mathzsolution-2": lambda P: [Off(P, lambda j, i: -P.s[i] * P.s[j])],
    "mathzsolution-3": lambda P: [
        V(P, lambda i: -(P.y[i] * (1 - P.s[i]) + sum(-P.s[k] * P.y[k] for k in range(P.K) if k != i))),
        V(P, lambda i: P.s[i] * P.y[i] - P.y[i] + sum(P.s[k] * P.y[k] for k in range(P.K) if k != i)),
        V(P, lambda i: np.dot(P.s, P.y) - P.y[i])],
    "mathzsolution-4": lambda P: [P.s - P.y],
    "geekanswers-1": lambda P: [M(P, lambda j, i: P.J[j, i])],
    "geekanswers-2": lambda P: [M(P, lambda j, i: d(i, j) * P.E[j] / P.S + P.E[j] * (-P.E[i] / P.S ** 2))],
    "mmimom-1": lambda P: [(np.diag(P.s) - np.outer(P.s, P.s)) @ P.g],
    "autograd-1": lambda P: [1.0 * 1.0 * np.exp(P.z - np.log(np.exp(P.z).sum()))],
    "eidosian-1": lambda P: [V(P, lambda k: -d(P.c, k) + P.s[k])],
    "coral-1": lambda P: [M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    "coral-2": lambda P: [np.diag(P.s) @ (np.eye(P.K) - P.s[None, :])],
    "coral-3": lambda P: [P.g[None, :] @ (np.diag(P.s) @ (np.eye(P.K) - P.s[None, :]))],
    "mse3058580-3": lambda P: [M(P, lambda i, j: P.J[i, i])],
    "sse235528-3": lambda P: [Dg(P, lambda j: P.J[j, j])],
    "triton-3": lambda P: [M(P, lambda l, j: (d(l, j) * P.E[l] * P.S - P.E[l] * P.E[j]) / P.S ** 2)],
    "purepisces-11": lambda P: [P.s - P.y],
}


def _xoyoon2(P):
    """The file's code run as written (scores = our logits rows, reg = 0), transposed to class x feature."""
    scores = P.Z
    unnormalized_probs = np.exp(scores)
    num_batch, y_batch = P.N, P.Yc
    du = np.ones(unnormalized_probs.shape)
    du = du / np.sum(unnormalized_probs, axis=1)[:, np.newaxis]
    du[range(num_batch), y_batch] -= 1 / unnormalized_probs[range(num_batch), y_batch]
    dscores = du * np.exp(scores)
    return (P.X.T @ dscores / num_batch).T


# derivations: {entry: {text line (1-based): claims on that line}}
DERIVATIONS = {
    "mse945871-3": {
        2: lambda P: [V(P, lambda i: -(P.y[i] * (1 - P.s[i]) + sum(-P.s[k] * P.y[k] for k in range(P.K) if k != i)))],
        3: lambda P: [V(P, lambda i: P.s[i] * P.y[i] - P.y[i] + sum(P.s[k] * P.y[k] for k in range(P.K) if k != i))],
        4: lambda P: [V(P, lambda i: np.dot(P.s, P.y) - P.y[i])],
    },
    "mse945871-5": {1: _ce_steps_oi},
    "manong-2": {
        2: lambda P: _ce_steps_oi(P)[0:1],
        3: lambda P: _ce_steps_oi(P)[1:2],
        4: lambda P: _ce_steps_oi(P)[2:3],
        5: lambda P: _ce_steps_oi(P)[4:5],
        6: lambda P: _ce_steps_oi(P)[5:6],
    },
    "sse235528-2": {1: lambda P: [Dg(P, f) for f in (
        lambda b: (P.E[b] * P.S - P.E[b] ** 2) / P.S ** 2,
        lambda b: P.E[b] / P.S - P.E[b] ** 2 / P.S ** 2,
        lambda b: P.s[b] - P.s[b] ** 2,
        lambda b: P.s[b] - P.s[b] ** 2,
        lambda b: P.s[b] * (1 - P.s[b]))]},
    "mnn-1": {1: lambda P: [Dg(P, f) for f in (
        lambda i: (P.E[i] * P.S - P.E[i] * P.E[i]) / P.S ** 2,
        lambda i: P.E[i] * (P.S - P.E[i]) / P.S ** 2,
        lambda i: P.E[i] / P.S * (P.S - P.E[i]) / P.S,
        lambda i: P.s[i] * (1 - P.s[i]),
        lambda i: P.s[i] - P.s[i] * P.s[i])]},
    "mnn-2": {1: lambda P: [Off(P, lambda i, k: (0 - P.E[i] * P.E[k]) / P.S ** 2), Off(P, lambda i, k: -P.s[i] * P.s[k])]},
    "ningyu-1": {1: lambda P: [Dg(P, f) for f in (
        lambda j: (P.E[j] * P.S - P.E[j] * P.E[j]) / P.S ** 2,
        lambda j: P.E[j] / P.S - (P.E[j] / P.S) ** 2,
        lambda j: P.s[j] - P.s[j] ** 2,
        lambda j: P.s[j] * (1 - P.s[j]))]},
    "ningyu-2": {1: lambda P: [Off(P, lambda j, k: -(P.E[j] * P.E[k]) / P.S ** 2), Off(P, lambda j, k: -P.s[j] * P.s[k])]},
    "ningyu-4": {1: lambda P: [_ce_steps_oi(P)[n] for n in (0, 1, 2, 3, 4, 5, 6)]},
    "walkerwzy-1": {
        3: lambda P: [Entry(P, 0, 0, 1 / P.S * P.E[0] + (-P.E[0] / P.S ** 2) * P.E[0])],
        4: lambda P: [Entry(P, 0, 0, 1 / P.S * P.E[0] + P.E[0] * (-1 / P.S ** 2) * P.E[0])],
        5: lambda P: [Entry(P, 0, 0, P.s[0] - P.s[0] ** 2)],
        6: lambda P: [Entry(P, 0, 0, P.s[0] * (1 - P.s[0]))],
    },
    "zakariapz-2": {1: lambda P: [
        V(P, lambda i: sum(-P.y[j] / P.s[j] * P.J[j, i] for j in range(P.K))),
        V(P, lambda i: sum(-P.y[j] / P.s[j] * P.s[j] * (d(i, j) - P.s[i]) for j in range(P.K))),
        V(P, lambda i: sum(P.y[j] * (P.s[i] - d(i, j)) for j in range(P.K)))]},
    "zakariapz-3": {1: lambda P: [Dg(P, f) for f in (
        lambda j: P.J[j, j],
        lambda j: P.J[j, j],
        lambda j: P.E[j] / P.S - P.E[j] / P.S ** 2 * P.E[j],
        lambda j: P.s[j] - P.s[j] ** 2,
        lambda j: P.s[j] * (1 - P.s[j]))]},
    "zakariapz-4": {1: lambda P: [Off(P, f) for f in (
        lambda j, i: P.J[j, i],
        lambda j, i: P.E[j] * (-P.S ** -2 * P.E[i]),
        lambda j, i: -P.E[j] * P.S ** -2 * P.E[i],
        lambda j, i: -P.s[j] * P.s[i])]},
    "sunhaozhe-2": {1: lambda P: [Dg(P, f) for f in (
        lambda k: (P.E[k] * P.S - P.E[k] * P.E[k]) / P.S ** 2,
        lambda k: P.E[k] / P.S * (P.S - P.E[k]) / P.S,
        lambda k: P.s[k] * (1 - P.s[k]))]},
    "sunhaozhe-3": {1: lambda P: [Off(P, f) for f in (
        lambda i, k: (0 * P.S - P.E[k] * P.E[i]) / P.S ** 2,
        lambda i, k: -P.E[k] * P.E[i] / (P.S * P.S),
        lambda i, k: -P.s[k] * P.s[i])]},
    "sunhaozhe-5": {1: lambda P: [
        V(P, lambda k: -sum(P.y[i] * P.JL[i, k] for i in range(P.K))),
        V(P, lambda k: -sum(P.y[i] * (1 / P.s[i]) * P.J[i, k] for i in range(P.K))),
        V(P, lambda k: -sum(P.y[i] / P.s[i] * P.J[i, k] for i in range(P.K))),
        V(P, lambda k: -P.y[k] * (1 - P.s[k]) + sum(P.y[i] * P.s[k] for i in range(P.K) if i != k)),
        V(P, lambda k: -P.y[k] + sum(P.y[i] * P.s[k] for i in range(P.K))),
        P.s - P.y]},
    "mattpetersen-1": {3: lambda P: [Dg(P, lambda i: (P.S * P.E[i] - P.E[i] * P.E[i]) / P.S ** 2)],
                       4: lambda P: [Dg(P, lambda i: P.s[i] - P.s[i] ** 2)]},
    "mattpetersen-2": {3: lambda P: [Off(P, lambda i, j: (P.S * 0 - P.E[i] * P.E[j]) / P.S ** 2)],
                       4: lambda P: [Off(P, lambda i, j: -P.s[i] * P.s[j])]},
    # row vectors: y / s is element-wise, s^T s the outer product
    "mattpetersen-6": {
        3: lambda P: [(-(P.y / P.s))[None, :] @ (np.diag(P.s) - np.outer(P.s, P.s))],
        6: lambda P: [(P.y / P.s)[None, :] @ np.outer(P.s, P.s) - (P.y / P.s)[None, :] @ np.diag(P.s)],
        8: lambda P: [P.y[None, :] @ np.tile(P.s, (P.K, 1)) - P.y],
        9: lambda P: [P.s - P.y],
    },
    "yanfenglee-2": {n + 1: (lambda m: lambda P: [_ce_steps_oi(P)[m]])(m)
                     for n, m in enumerate((1, 2, 3, 4, 5, 6))},
    "telhc-2": {
        2: lambda P: [M(P, lambda i, j: P.J[j, j]),
                      M(P, lambda i, j: (d(i, j) * P.E[i] * P.S - P.E[j] * P.E[i]) / P.S ** 2)],
        3: lambda P: [M(P, lambda i, j: (d(i, j) * P.E[i] * P.S - P.E[j] * P.E[i]) / P.S ** 2)],
        4: lambda P: [M(P, lambda i, j: P.E[i] / P.S * (d(i, j) * P.S - P.E[j]) / P.S)],
        5: lambda P: [M(P, lambda i, j: P.s[i] * (d(i, j) - P.s[j]))],
    },
    "triton-1": {5: lambda P: [Off(P, lambda l, j: P.J[l, j])],
                 7: lambda P: [Off(P, lambda l, j: -P.E[l] * P.E[j] / P.S ** 2)],
                 9: lambda P: [Off(P, lambda l, j: -P.s[l] * P.s[j])]},
    "triton-2": {5: lambda P: [Dg(P, lambda j: P.J[j, j])],
                 7: lambda P: [Dg(P, lambda j: (P.E[j] * P.S - P.E[j] * P.E[j]) / P.S ** 2)],
                 9: lambda P: [Dg(P, lambda j: P.s[j] - P.s[j] ** 2)]},
    "purepisces-9": {
        2: lambda P: [(-(P.y / P.s))[None, :] @ P.J],
        # a 3 x 1 column times a 3 x 3 matrix, as typed: numpy refuses the shapes
        3: lambda P: [-(P.y / P.s).reshape(3, 1) @ np.array([
            [P.s[0] * (1 - P.s[0]), -P.s[0] * P.s[1], -P.s[0] * P.s[2]],
            [-P.s[1] * P.s[0], P.s[1] * (1 - P.s[1]), -P.s[1] * P.s[2]],
            [-P.s[2] * P.s[0], -P.s[2] * P.s[1], P.s[2] * (1 - P.s[2])]])],
        9: lambda P: [-(P.y - P.s * P.y.sum())],
        10: lambda P: [P.s - P.y],
    },
    "purepisces-10": {n: (lambda P: [V(P, lambda i: -sum(P.y[k] * P.JL[k, i] for k in range(P.K)))]) for n in (2, 3, 4, 5)},
    "ecomnet-1": {1: lambda P: [
        V(P, lambda i: sum(-P.y[j] / P.s[j] * P.J[j, i] for j in range(P.K))),
        V(P, lambda i: sum(-P.y[j] / P.s[j] * P.J[j, i] for j in range(P.K) if j != i) + (P.s[i] - 1) * P.y[i]),
        V(P, lambda i: sum(P.s[i] * P.y[j] for j in range(P.K) if j != i) + (P.s[i] - 1) * P.y[i])]},
    "mse4258008-1": {
        1: lambda P: [Dg(P, lambda i: 1 - P.glse[i])],
        3: lambda P: [Dg(P, lambda i: 1 - 1 / np.exp(P.z - P.z.max()).sum() * np.exp(P.z[i] - P.z.max()))],
        5: lambda P: [Dg(P, lambda i: 1 - np.exp(P.z[i] - P.z.max()) / np.exp(P.z - P.z.max()).sum())],
        7: lambda P: [Dg(P, lambda i: 1 - P.s[i])],
    },
    "mse3789676-1": {1: lambda P: [V(P, e) for e in (
        lambda i: -sum(P.y[j] * P.JL[j, i] for j in range(P.K)),
        lambda i: -sum(P.y[j] * P.JL[j, i] for j in range(P.K)),
        lambda i: -sum(P.y[j] / P.s[j] * P.J[j, i] for j in range(P.K)),
        lambda i: -P.y[i] / P.s[i] * P.J[i, i] - sum(P.y[j] / P.s[j] * P.J[j, i] for j in range(P.K) if j != i),
        lambda i: -P.y[i] / P.s[i] * P.s[i] * (1 - P.s[i]) - sum(P.y[j] / P.s[j] * (-P.s[j] * P.s[i]) for j in range(P.K) if j != i),
        lambda i: -P.y[i] + P.y[i] * P.s[i] + sum(P.y[j] * P.s[i] for j in range(P.K) if j != i),
        lambda i: -P.y[i] + sum(P.y[j] * P.s[i] for j in range(P.K)),
        lambda i: -P.y[i] + P.s[i] * P.y.sum(),
        lambda i: P.s[i] - P.y[i])]},
    "heiqu-1": {2: lambda P: [Dg(P, f) for f in (
        lambda i: (P.E[i] * P.S - P.E[i] * P.E[i]) / P.S ** 2,
        lambda i: P.E[i] / P.S - P.E[i] / P.S * P.E[i] / P.S,
        lambda i: P.s[i] - P.s[i] * P.s[i])]},
    "heiqu-2": {2: lambda P: [Off(P, lambda i, j: (0 - P.E[i] * P.E[j]) / P.S ** 2), Off(P, lambda i, j: -P.s[i] * P.s[j])]},
    "returnn-2": {
        1: lambda P: [V(P, lambda j: sum(-P.y[i] * P.JL[i, j] for i in range(P.K)))],
        3: lambda P: [V(P, lambda j: sum(-P.y[i] * d(i, j) + P.y[i] * P.s[j] for i in range(P.K))),
                      V(P, lambda j: -P.y[j] + P.y.sum() * P.s[j]),
                      V(P, lambda j: P.s[j] - P.y[j])],
    },
}

# sizes an entry is stated for (a concrete K, or a matrix whose shown corners need K >= 3)
SIZES_FOR = {
    "sse235528-2": (3,), "walkerwzy-1": (3,), "purepisces-6": (3,), "purepisces-7": (3,),
    "purepisces-8": (3,), "purepisces-9": (3,), "mnn-3": (4, 5), "mattpetersen-3": (3, 4, 5),
    "ecomnet-1": (10,), "ecomnet-2": (10,), "ecomnet-3": (10,),
}
LINEAR = ("linear-softmax-cross-entropy",)


def claims_agree(claims, expected, atol):
    """True when every claimed (non-NaN) entry of every claim matches; a shape error disagrees."""
    for claim in claims:
        claim = np.asarray(claim, float)
        if claim.shape != expected.shape:
            claim = claim.reshape(expected.shape) if claim.size == expected.size else None
        if claim is None:
            return False
        mask = ~np.isnan(claim)
        if not np.allclose(claim[mask], expected[mask], rtol=RTOL, atol=atol):
            return False
    return True


def points(entry):
    """Seeded points for an entry: several K, one-hot targets, and soft ones when the source allows."""
    rng = np.random.default_rng(zlib.crc32(entry["id"].encode()))
    notation = entry["notation"]
    soft = notation.get("y_kind") == "distribution"
    linear = entry["target"].split(":")[0] in LINEAR
    for K in SIZES_FOR.get(entry["id"], SIZES):
        for n in range(POINTS_PER_SIZE):
            yield Point(rng, K, soft and n > 0, linear)


def line_ok(claims_at, entry):
    atol = HESSIAN_ATOL if entry["target"] == "cross-entropy-hessian" else ATOL
    for P in points(entry):
        expected = truth(entry["target"], P, entry["notation"])
        try:
            claims = claims_at(P)
        except ValueError:  # numpy refused the shapes as typed
            return False
        if not claims_agree(claims, expected, atol):
            return False
    return True


def decide(entry):
    """(truth, first wrong line or None) computed from the transcription."""
    if entry["kind"] == "formula":
        return ("correct" if line_ok(FORMULAS[entry["id"]], entry) else "incorrect"), None
    lines = DERIVATIONS[entry["id"]]
    for number in sorted(lines):
        if not line_ok(lines[number], entry):
            return "incorrect", number
    return "correct", None


def main():
    entries = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = [e["id"] for e in entries
               if e["id"] not in (FORMULAS if e["kind"] == "formula" else DERIVATIONS)]
    if missing:
        print("no transcription for:", ", ".join(missing))
        return 1
    disagreements = []
    counts = collections.Counter()
    for e in entries:
        got, line = decide(e)
        stored_line = e.get("first_wrong_line")
        if got != e["truth"] or (e["kind"] == "derivation" and line != stored_line):
            disagreements.append(f"{e['id']}: stored {e['truth']} (line {stored_line}), computed {got} (line {line})")
        counts[(e["kind"], got)] += 1
    for (kind, verdict), n in sorted(counts.items()):
        print(f"{kind:10} {verdict:9} {n}")
    print(f"entries {len(entries)}, sources {len({e['source_url'] for e in entries})}")
    for line in disagreements:
        print("DISAGREE", line)
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
