"""A sweep file read and checked (structure only): `SweepSpec` and the keys of its rows and columns."""
