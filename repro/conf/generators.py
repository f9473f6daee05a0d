"""The arguments of the data sets a generator makes (`data.generator`), declared apart from repro/conf/schema.py's
groups: MNIST-1D's (`mnist1d.data.make_dataset`, repro/data/mnist1d.py). Light on purpose, like the schema that uses
it: planning a sweep must not import repro/data/ (torch)."""

from __future__ import annotations

from repro.errors import UserError
from repro.schema import option, schema

__all__ = ["GENERATED_DATA", "Mnist1dGenerator"]


@schema
class Mnist1dGenerator:
    """MNIST-1D's generator arguments (`mnist1d.data.make_dataset`, repro/data/mnist1d.py): the package's
    get_dataset_args() but its download url. repro/conf/data/mnist1d.yaml pins its defaults."""

    num_samples: int = option(ge=20, why="samples of all classes together (train_split of them train, the rest test)")
    train_split: float = option(gt=0, lt=1, why="the share of num_samples that is the training set")
    template_len: int = option(ge=1)
    padding: list[int] = option(ge=0, why="[low, high]: the padding drawn around each template")
    scale_coeff: float = option(ge=0)
    max_translation: int = option(ge=0)
    corr_noise_scale: float = option(ge=0)
    iid_noise_scale: float = option(ge=0)
    shear_scale: float = option(ge=0)
    shuffle_seq: bool = option(why="permute the 40 positions (the same permutation for every sample)")
    final_seq_length: int = option(ge=1, why="the signal's length: data.image_size must equal it")
    seed: int = option(ge=0, why="the generator's seed: which data set (not the run's seed)")

    def check(self) -> None:
        if len(self.padding) != 2 or self.padding[0] > self.padding[1]:
            raise UserError(
                f"data.generator.padding={list(self.padding)} must be two whole numbers [low, high] with low <= high "
                "(mnist1d's default: [36, 60])."
            )


# The data sets made by a generator from data.generator (repro/data/mnist1d.py); the others are read as they are.
GENERATED_DATA = ("mnist1d",)
