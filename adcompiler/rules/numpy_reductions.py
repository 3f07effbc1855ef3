"""Adjoint rules for NumPy (reductions)."""
