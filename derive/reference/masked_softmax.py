"""The causally masked softmax and its backward pass in NumPy: masked logits get
exactly zero gradient."""
import numpy as np


def causal_mask(K, n):
    """M_k = 0 for keys k <= n (1-based), -inf after: query n does not see later
    keys."""
    return np.where(np.arange(1, K + 1) <= n, 0.0, -np.inf)


def forward(z, M):
    """softmax(z + M); the maximum of the visible logits is subtracted (exp(-inf) = 0
    stays 0)."""
    shifted = z + M
    e = np.exp(shifted - np.max(shifted))
    return e / e.sum()


def jacobian(sigma):
    """sigma_i (delta_ij - sigma_j): the unmasked formula; masked rows and columns
    are 0."""
    return np.diag(sigma) - np.outer(sigma, sigma)


def backward(z, M, g):
    """dL/dz = sigma * (g - <g, sigma>): 0 where sigma is 0, i.e. at every masked
    logit."""
    s = forward(z, M)
    return s * (g - np.dot(g, s))
