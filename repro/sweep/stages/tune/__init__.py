"""The tuning stage (`tune:`): a grid or successive halving of tuning runs, the winner a tuned run trains with."""
