"""Reproduction suite for "Learning Soft Labels via Meta Learning" (Vyas, Saxena, Voice, 2020)."""

__version__ = "0.1.0"
