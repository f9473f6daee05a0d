"""W&B, the run's second sink: the tracker that never kills training (tracker.py), what a run's page holds
(wandb_page.py), the end of a run in one place (wandb_end.py: summary, charts and figures, artifacts and lineage),
its end-of-run charts (wandb_charts.py) and the run's W&B identity (wandb_run.py)."""
