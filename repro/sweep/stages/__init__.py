"""The sweep protocol's stages, one folder each: tune/ (grid and successive halving), gate/ (the baseline gate),
teachers/ (a student's teacher runs), out_of_sample/ (cross-validation fold runs), tune_from/ (a cell at another
cell's tuned point)."""
