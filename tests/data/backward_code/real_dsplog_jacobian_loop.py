# Re-expressed from dsplog/dsplog.com (derivative of softmax notebook): the Jacobian by a double loop.
import numpy as np


def softmax_jacobian_loop(s):
    k = len(s)
    jac = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            if i == j:
                jac[i, j] = s[i] * (1 - s[i])
            else:
                jac[i, j] = -s[i] * s[j]
    return jac
