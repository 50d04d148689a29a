"""High-precision numeric evidence: an evaluator for our SymPy trees and the points to test at."""
