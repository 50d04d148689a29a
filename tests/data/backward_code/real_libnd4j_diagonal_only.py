# Re-expressed in NumPy from deeplearning4j/libnd4j issue #440: the softmax derivative implemented as
# output * (1 - output) "for the diagonal", missing the sum and the i != j case.
import numpy as np


def softmax_backward(output, grad_output):
    return grad_output * output * (1 - output)
