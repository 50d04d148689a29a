"""The online softmax of FlashAttention in NumPy: one pass over blocks, a running
max, sum and output."""
import numpy as np


def forward(z, v, block_ends):
    """softmax(z) and softmax(z) @ v from blocks z[start:end] (block_ends ascending,
    the last = len(z)).

    After each block the earlier sum and output are rescaled by e^{m_old - m_new},
    which is at most 1, so no exponent is ever positive: |z| ~ 1000 cannot overflow."""
    z, v = np.asarray(z, dtype=float), np.asarray(v, dtype=float)
    top, total, out = -np.inf, 0.0, np.zeros(v.shape[1:])
    start = 0
    for end in block_ends:
        new_top = max(top, z[start:end].max())
        rescale = np.exp(top - new_top)  # e^{-inf} = 0 before the first block
        weights = np.exp(z[start:end] - new_top)
        total = total * rescale + weights.sum()
        out = out * rescale + weights @ v[start:end]
        top, start = new_top, end
    return np.exp(z - top) / total, out / total


def backward(z, v, g):
    """dL/dz for L = <g, softmax(z) @ v> (the softmax VJP with upstream v @ g),
    computed directly."""
    s = np.exp(z - np.max(z))
    s /= s.sum()
    upstream = np.asarray(v, dtype=float) @ g
    return s * (upstream - s @ upstream)
