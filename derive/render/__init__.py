"""Printing and documents: notation-aware LaTeX, Jinja2 templates, writers."""
