"""Check gradient code (NumPy / PyTorch backward passes) against the proved derivations."""
