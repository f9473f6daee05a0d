"""Out-of-sample fold runs (`out_of_sample:`): K cross-validation folds beside a plain run."""
