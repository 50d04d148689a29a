import torch


class CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets):
        probs = torch.softmax(logits, dim=-1)
        ctx.save_for_backward(probs, targets)
        return -(targets * probs.log()).sum()

    @staticmethod
    def backward(ctx, grad_output):
        probs, targets = ctx.saved_tensors
        return probs - targets, None
