"""Untrusted text -> SymPy: screening, an LALR grammar, and a Transformer over a whitelist."""
