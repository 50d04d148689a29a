import torch


def softmax_jacobian(z):
    s = torch.softmax(z, dim=0)
    return torch.diag(s) - torch.outer(s, s)
