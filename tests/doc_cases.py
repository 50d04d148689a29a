"""Which sizes the documents tests use per derivation: a K the derivation supports."""
from __future__ import annotations

from derive import engine

CORE = ("softmax-jacobian", "log-softmax-jacobian", "cross-entropy-gradient")
# Concrete-size PDFs beyond the core ones: a few, to keep the suite fast on two cores.
CONCRETE_PDF = {("linear-softmax-cross-entropy", "en"), ("sigmoid-logistic-gradient", "en"),
                ("cross-entropy-hessian", "zh"), ("softmax-vjp", "zh")}


def small_K(name: str, K: int = 3) -> int:
    """K itself if the derivation supports it, else its one fixed K (sigmoid-logistic-gradient: 2)."""
    entry = engine.lookup(name)
    return K if entry.supports_K(K) else entry.fixed_K


def compile_cases() -> list[tuple[str, int | None, str]]:
    """Every derivation symbolic in en and zh; concrete for the core ones and CONCRETE_PDF."""
    cases = []
    for name in engine.names():
        for lang in ("en", "zh"):
            cases.append((name, None, lang))
            if name in CORE or (name, lang) in CONCRETE_PDF:
                cases.append((name, small_K(name), lang))
    return cases


def katex_sizes(name: str) -> list[int | None]:
    """Symbolic and a small K for every derivation; a big (elided) K for the core ones too."""
    sizes = [None, small_K(name, 3)]
    return sizes + [9] if name in CORE else sizes
