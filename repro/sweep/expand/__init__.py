"""A sweep's runs and their dependencies: every override composed and checked, each run resolved once."""
