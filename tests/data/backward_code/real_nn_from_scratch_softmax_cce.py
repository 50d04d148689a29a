# Re-expressed from Guigui14460/neural-network-from-scratch,
# src/neural_networks/losses/softmax_categorical_crossentropy.py: the combined softmax + cross-entropy
# backward (dvalues are the softmax outputs; one-hot targets turned into labels first).
import numpy as np


class SoftmaxCategoricalCrossentropy:
    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs /= samples
