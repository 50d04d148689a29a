# Re-expressed in NumPy from HomericIntelligence/Odyssey issue #2134: the softmax backward was missing the
# dot-product term of grad_input[i] = s_i * (grad_output[i] - sum_k grad_output[k] * s_k).
import numpy as np


def softmax_backward(grad_output, output):
    return output * grad_output
