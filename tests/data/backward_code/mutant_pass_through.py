import numpy as np


def softmax_vjp(z, g):
    return g
