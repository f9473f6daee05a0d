"""Sweeps: a paper table's runs (rows x columns x seeds, and the 5-fold protocol's stages), planned idempotently and
run locally or submitted to SLURM through submitit. `repro sweep FILE` / `repro sweep status FILE` (command.py).

The stages, each in its folder: spec/ (a sweep file read and checked), expand/ (its runs and their dependencies),
plan.py (each run's state in an output root), executors/ (local, SLURM), budget/ (GPU-hours: estimate, calibration,
spend, preflight); run.py, status.py and command.py orchestrate them. Each name is imported from the module that
defines it."""
