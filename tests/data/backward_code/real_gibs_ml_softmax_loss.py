# Re-expressed from nasa-gibs/gibs-ml, models/softmax.py: stable scores; the regularisation term is in the
# loss but not in dW (outside what the target models: reg is read as 0).
import numpy as np


def softmax_loss(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probabilities = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    correct_class_probabilities = probabilities[range(num_train), y]
    loss = np.sum(-np.log(correct_class_probabilities)) / num_train
    loss += 0.5 * reg * np.sum(W * W)
    probabilities[range(num_train), y] -= 1
    dW = X.T.dot(probabilities) / num_train
    return loss, dW
