"""Adjoint rules for NumPy (elementwise)."""
