"""The symbols a derivation uses and the role each plays; documents and notation key on the roles."""
from __future__ import annotations

from ..model import SymbolRole

PROBS = SymbolRole("probs", "sigma", "softmax outputs (probabilities)")
LOGITS = SymbolRole("logits", "z", "logits (inputs of the softmax)")
TARGETS = SymbolRole("targets", "y", "targets (a distribution over the K classes)")
LOSS = SymbolRole("loss", "L", "cross-entropy loss")
CLASSES = SymbolRole("classes", "K", "number of classes")

PROBS_AND_LOGITS = (PROBS, LOGITS, CLASSES)
WITH_TARGETS = (PROBS, LOGITS, TARGETS, LOSS, CLASSES)
