"""W&B, the run's second sink: the tracker that never kills training (tracker.py), what a run's page holds
(wandb_page.py), its end-of-run charts (wandb_charts.py) and the run's W&B identity and lineage (wandb_run.py)."""
