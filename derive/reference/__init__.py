"""NumPy reference implementations of forward and backward passes, one module per derivation.

Convention: `derive/reference/<derivation name with - replaced by _>.py` defines plain NumPy
functions (`forward(...)`, `backward(...)`, and whatever the derivation needs). Documents show the
module's source verbatim; tests run the same functions and compare them with the symbolic result
and with finite differences, so the code a reader copies is the code that was checked.
"""
