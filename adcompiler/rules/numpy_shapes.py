"""Adjoint rules for NumPy (shapes)."""
