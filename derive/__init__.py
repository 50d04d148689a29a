"""softmax-derive: softmax gradients derived by SymPy, every displayed step verified.

Import cost matters for the CLI, so the heavy modules load on first use. In Jupyter, a Derivation
displays itself through formatters registered with IPython here (derive.render.notebook), so the
data model never imports rendering.
"""
from __future__ import annotations

import sys

__version__ = "0.1.0"


def derive(name, K=None, D=None, N=None):
    """Derive the named softmax gradient with SymPy and verify every step; return the Derivation.

    Takes `name`, one of the names `available()` lists; `K`, the number of classes: None or
    "symbolic" (indexed symbols, sums over k = 1..K) or an integer 2..512 (explicit vectors and
    matrices); `D` (input features) and `N` (batch size) for the linear-layer derivations, only
    with a concrete K (omitted: 2). Returns a frozen `derive.model.Derivation`: `.steps` (each a
    Step with lhs, rhs, rule and `.evidence`: symbolic True or None, numeric_max_abs_error,
    points), `.result_lhs = .result` (a SymPy expression; an explicit Matrix for a concrete K) and
    `.results`, a mapping name -> Result(lhs, rhs) for derivations with several results.
    Raises `derive.errors.UsageError` for an unknown name or a bad size,
    `derive.errors.SizeLimitError` for a size that derivation does not yet do in seconds (its
    FAST_SIZES; `softmax-derive list` and the README give them), and
    `derive.errors.VerificationError` if a step failed its own check (a bug: never returned).
    Derivations are cached: the same arguments give the same object.

    >>> import derive
    >>> derive.derive("softmax-jacobian").result
    (KroneckerDelta(i, j) - sigma[j])*sigma[i]
    >>> derive.derive("cross-entropy-gradient", 2).result
    Matrix([
    [sigma[1] - y[1]],
    [sigma[2] - y[2]]])
    >>> derive.derive("cross-entropy-gradient").results["general"].rhs
    sigma[i]*Sum(y[k], (k, 1, K)) - y[i]
    """
    from .api import derive as _derive
    return _derive(name, K, D, N)


def available():
    """Every derivation as (name, one-line description), in display order; takes nothing, raises nothing.

    >>> import derive
    >>> derive.available()[0][0]
    'softmax-jacobian'
    """
    from .api import available as _available
    return _available()


def load_ipython_extension(shell) -> None:
    """`%load_ext derive`, and what `import derive` does inside IPython: display a Derivation as
    LaTeX (the steps in one aligned display) and Markdown (the document). Registered by the class's
    dotted name, so rendering loads on the first display, not at import."""
    formatters = shell.display_formatter.formatters
    formatters["text/latex"].for_type_by_name("derive.model", "Derivation", _notebook_latex)
    formatters["text/markdown"].for_type_by_name("derive.model", "Derivation", _notebook_markdown)


def _notebook_latex(derivation) -> str:
    from .render.notebook import derivation_latex
    return derivation_latex(derivation)


def _notebook_markdown(derivation) -> str:
    from .render.notebook import derivation_markdown
    return derivation_markdown(derivation)


def _register_in_running_ipython() -> None:
    ipython = sys.modules.get("IPython")  # never imported here: a plain script does not pay for it
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        load_ipython_extension(shell)


_register_in_running_ipython()
