"""softmax-derive: softmax gradients derived by SymPy, every displayed step verified.

Import cost matters for the CLI, so the heavy modules load on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"


def derive(name, K=None, D=None, N=None):
    """See derive.api.derive."""
    from .api import derive as _derive
    return _derive(name, K, D, N)


def available():
    from .api import available as _available
    return _available()
