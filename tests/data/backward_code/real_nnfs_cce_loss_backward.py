# Re-expressed from Graham-CO/ai_ml_python, chapter_9/cat_cross_ent_loss_deriv.py (nnfs): the loss's own
# backward, the gradient with respect to the predicted probabilities, not the logits.
import numpy as np


class Loss_CategoricalCrossentropy:
    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])
        if len(y_true.shape) == 1:
            y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues
        self.dinputs = self.dinputs / samples
