"""The NumPy reference modules with Chinese docstrings and comments, shown in Chinese documents (same code)."""
