"""The noisy-digits preset under its older name (tests/presets.py holds every preset; import from there)."""

from __future__ import annotations

from presets import NOISY as NOISY_DIGITS
from presets import noisy_digits

__all__ = ["NOISY_DIGITS", "noisy_digits"]
