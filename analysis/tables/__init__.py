"""The tables: each sweep file's cells (analysis/sweeps.py) filled from the run frame (analysis/collect.py),
beside the paper's numbers; Markdown + CSV."""
