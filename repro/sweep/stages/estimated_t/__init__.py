"""The estimated-T hold (`estimated_t:`): the first run of each estimated T records it before the others spend."""
