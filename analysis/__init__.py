"""Analysis: run directories (or the W&B API) -> one pandas frame -> the paper's tables (Markdown + CSV) and
figures (PNG). Nothing here trains; everything reads records the training core wrote."""
