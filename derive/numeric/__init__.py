"""High-precision numeric evidence: point state, softmax numerics, the expression compiler, the points to test at."""
