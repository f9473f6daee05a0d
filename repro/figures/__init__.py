"""A run's own figures, drawn by the core: the W&B page's Figure 2 / Figure 4 panels of one run
(repro/tracking/wandb_charts.py). analysis/ draws the paper's figures over many runs with these same panels."""
