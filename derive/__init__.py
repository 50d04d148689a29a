"""softmax-derive: softmax gradients derived by SymPy, every displayed step verified.

Import cost matters for the CLI, so the heavy modules load on first use. In Jupyter, a Derivation
displays itself through formatters registered with IPython here (derive.render.notebook), so the
data model never imports rendering.
"""
from __future__ import annotations

import sys

__version__ = "0.1.0"


def derive(name, K=None, D=None, N=None):
    """See derive.api.derive."""
    from .api import derive as _derive
    return _derive(name, K, D, N)


def available():
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
