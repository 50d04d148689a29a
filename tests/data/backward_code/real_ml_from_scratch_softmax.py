# Re-expressed from eriklindernoren/ML-From-Scratch, mlfromscratch/deep_learning/activation_functions.py
# (see also its issue #71): the softmax "gradient" is p * (1 - p), the Jacobian's diagonal only.
import numpy as np


class Softmax():
    def __init__(self): pass

    def function(self, x):
        e_x = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e_x / np.sum(e_x, axis=-1, keepdims=True)

    def gradient(self, x):
        p = self.function(x)
        return p * (1 - p)
