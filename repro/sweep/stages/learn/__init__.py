"""Learned labels (`learn:` on a row or a column): the 5-fold protocol's fold runs, then the final replay run."""
