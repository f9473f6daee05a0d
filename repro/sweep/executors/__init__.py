"""Where planned runs train: here (local.py, up to --jobs at once) or on SLURM (slurm/, submitit job arrays)."""
