"""Maintenance scripts (run as files); a package so tests/test_layout.py can import import_graph."""
