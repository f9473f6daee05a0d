"""The run directory and what keeps it sound: its layout and id (rundir.py), one writer at a time (runlock.py),
atomic writes (io.py), checkpoints (checkpoint.py), provenance.json (provenance.py) and `--rerun`'s earlier
attempts (attempts.py). The ground floor: nothing here knows what a run trains."""
