"""SLURM: cluster profiles, what SLURM knows of our jobs, the job registry, and job-array submission."""
