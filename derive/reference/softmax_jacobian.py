"""Softmax forward pass and its Jacobian, in NumPy."""
import numpy as np


def forward(z):
    """sigma = softmax(z); subtract max(z) first so exp never overflows."""
    e = np.exp(z - np.max(z))
    return e / e.sum()


def jacobian(sigma):
    """d sigma_i / d z_j = sigma_i (delta_ij - sigma_j), i.e. diag(sigma) - sigma
    sigma^T."""
    return np.diag(sigma) - np.outer(sigma, sigma)


def backward(sigma, grad_sigma):
    """dL/dz from dL/dsigma without forming the K x K matrix: sigma * (g - <g,
    sigma>)."""
    return sigma * (grad_sigma - np.dot(grad_sigma, sigma))
