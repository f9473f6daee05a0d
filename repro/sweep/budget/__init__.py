"""What a sweep costs in GPU-hours: the estimate, the calibration it is priced from, spend so far, preflight."""
