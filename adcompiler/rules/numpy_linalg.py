"""Adjoint rules for NumPy (linalg)."""
