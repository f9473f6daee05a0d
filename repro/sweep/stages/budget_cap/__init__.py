"""A sweep kept to a budget (`repro sweep FILE --max-gpu-hours H`): the runs that would pass it held (stage.py)."""
