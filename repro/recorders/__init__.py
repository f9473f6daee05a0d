"""What every run records, whatever its method: the registry of the recorders every run has (registry.py), the
memorisation pass (memorisation.py), what the T estimate keeps of its network (transition_estimate.py) and an
estimated T's check (transition_check.py, torch-free; transition_record.py builds the record from the tensor).

Nothing is imported here: the table notes and `repro sweep status` read the checks' records through
transition_check.py without loading torch, which the recorders themselves need."""
