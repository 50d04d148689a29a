"""Log-softmax forward pass and its Jacobian, in NumPy."""
import numpy as np


def forward(z):
    """log sigma = z - logsumexp(z), computed stably via max(z)."""
    shifted = z - np.max(z)
    return shifted - np.log(np.exp(shifted).sum())


def jacobian(log_sigma):
    """d log sigma_i / d z_j = delta_ij - sigma_j, i.e. I - 1 sigma^T."""
    sigma = np.exp(log_sigma)
    return np.eye(sigma.size) - np.outer(np.ones_like(sigma), sigma)


def backward(log_sigma, grad_log_sigma):
    """dL/dz from dL/dlog sigma: g - sigma * sum(g)."""
    return grad_log_sigma - np.exp(log_sigma) * grad_log_sigma.sum()
