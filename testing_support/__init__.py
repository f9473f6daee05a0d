"""What the tests and the benchmarks share, in one package both import by name: stand-ins for what a machine here
lacks, a W&B server on loopback (`wandb_endpoint`, its answers in `wandb_standin_api`) and CIFAR's and CIFAR-N's
files written in their published formats (`published_files`, `published_cifar`); and the slow, obviously-correct
double-backward meta-gradient the one-JVP engine is checked and timed against (`reference_meta`).

It imports no module of the suite (the standard library, numpy, torch; torchvision and wandb where a function needs
them), and nothing of it ships in the installed package (pyproject.toml's package discovery: `repro`, `analysis`):
the public functions that outside checks use are `repro.meta`'s. benchmarks/ holds measurements only, and no test
outside tests/benchmarks/ imports it (tests/project/test_import_paths.py)."""
