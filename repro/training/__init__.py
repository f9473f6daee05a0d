"""What one run trains with and how it steps: the experiment built from a config (experiment.py), the lr schedule
(schedule.py), the hardware keys (hardware.py), evaluation, the device-side epoch totals (steptotals.py), the
progress line and the tuning stage's resolution (tuning.py)."""
