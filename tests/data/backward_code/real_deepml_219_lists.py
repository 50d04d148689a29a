# Re-expressed from https://www.eetcode.com/deepml/219 (softmax derivative with Python lists and math.exp).
import math


def softmax_derivative(logits):
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    s = [e / total for e in exps]
    n = len(s)
    jacobian = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                jacobian[i][j] = s[i] * (1 - s[i])
            else:
                jacobian[i][j] = -s[i] * s[j]
    return jacobian
