"""SymPy helpers every stage shares: named rewrites, index analysis, per-shape templates, the exact zero test."""
