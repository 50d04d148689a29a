# Re-expressed from SumanSudhir/Advanced-Topics-in-Machine-Learning-EE782, Assignment1/Softmax.py:
# __init__ reads an undefined name and backward reads an attribute that is never set.
import torch


class Softmax:

    def __init__(self):
        self.output = output
        self.gradInput = None

    def forward(self, input):
        self.output = torch.exp(input) / torch.sum(torch.exp(input), dim=0)
        return self.output

    def backward(self, input, gradOutput, alpha=None):
        self.gradInput = self.gradOutput.clone()
        self.gradInput[input] = self.forward(input) * (1 - self.forward(input))
        return self.gradInput
