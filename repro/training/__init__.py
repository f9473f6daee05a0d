"""What one run trains with and how it steps: the experiment built whole from a config (experiment.py) and its parts,
the run's data and split (run_data.py), its batches (batches.py), its optimizer (optimization.py) and lr schedule
(schedule.py: torch-free arithmetic), the hardware keys (hardware.py); evaluation, the device-side epoch totals
(steptotals.py), the progress line, the step kinds a sweep prices (step_cost.py) and the typed seam to the methods and
recorders (protocols.py)."""
