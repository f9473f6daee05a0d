"""Label trajectories on disk (filled in with the 5-fold protocol)."""
