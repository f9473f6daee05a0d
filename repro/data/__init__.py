"""Data: digits (embedded default), CIFAR-10/100 (torchvision layout, never downloads), MNIST-1D, splits, noise,
batches. Each name is imported from the module that defines it, so that a light module here (sizes.py, the noise
models' declarations) is read without torch:

- datasets.py: `load_dataset`, `digits`, `DATASET_NAMES`; arrays.py: `ArrayDataset`; cifar.py, mnist1d.py: the loaders
- splits.py: `make_split` (the meta/train split); loader.py: `BatchLoader`
- noise/: the label noise models (`inject_noise`, `transition_matrix`, ... in noise/apply.py; `describes_noise` and
  the registry, torch-free, in noise/__init__.py); cifar_n.py, simulated_annotators.py: the annotators' labels
- sizes.py: a run's sample counts from its config alone (no data loaded, no torch)
"""
