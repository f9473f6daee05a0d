"""Label noise models (`noise.kind`), injected into the training part only; meta and test labels stay clean.

Each model is one registered class (registry.py: `NoiseModel`, `register_noise_model`) that declares its `noise.*`
keys and answers the questions below; the built-in ones are synthetic.py (`none`, `uniform`, `exact_fraction`) and
annotator_noise.py (`cifar_n`: a CIFAR-N file's human labels; `annotators`: simulated annotators). These functions are
the package's public face: each looks the run's model up by `noise.kind` and asks it.

- here, from a config alone and without torch: `describes_noise`: whether there is noise at all;
  `transition_reads_clean_labels`; `noise_options`: the keys of a `noise` node (filled into the config's schema
  when this package is imported, which is why importing it must stay light: `repro tables` and `repro ledger` do);
- apply.py, with tensors: `inject_noise`: the given labels; `transition_matrix`: the model's P(given | true);
  `actual_noise_rate`: the expected share of given labels that differ from the true ones; `load_file_noise`.
"""

from __future__ import annotations

from typing import Any, Mapping

from repro.conf.schema import NOISE_OPTIONS
from repro.data.noise import annotator_noise as _annotator_noise  # noqa: F401  (registers cifar_n, annotators)
from repro.data.noise import synthetic as _synthetic  # noqa: F401  (registers none, uniform, exact_fraction)
from repro.data.noise.registry import NOISE_MODELS, NoiseModel, noise_model, noise_model_class, register_noise_model
from repro.lazy_names import lazy_names

__all__ = [
    "NOISE_MODELS",
    "NoiseModel",
    "actual_noise_rate",
    "corrupted_count",
    "describes_noise",
    "inject_exact_fraction_noise",
    "inject_noise",
    "inject_uniform_noise",
    "load_file_noise",
    "noise_model",
    "noise_model_class",
    "noise_options",
    "register_noise_model",
    "transition_matrix",
    "transition_reads_clean_labels",
]


def noise_options(node: Any, key: str = "noise") -> type:
    """The declaration of a run's `noise` node: the keys of the noise model its `kind` names (a config error naming
    `<key>.kind` when it names none). The config's schema reads it through `NOISE_OPTIONS`, filled below."""
    return noise_model_class(node.get("kind") if isinstance(node, Mapping) else None, key=f"{key}.kind").Options


NOISE_OPTIONS.fill(noise_options)


def describes_noise(noise_cfg: Mapping[str, Any]) -> bool:
    """Whether the config asks for any label noise (a file of human labels always does)."""
    return noise_model(noise_cfg).describes_noise()


def transition_reads_clean_labels(noise_cfg: Mapping[str, Any]) -> bool:
    """Whether the model's known T is counted from clean labels (annotators' noise) rather than known from its
    parameters (the synthetic models): a method that uses it then uses those clean labels."""
    return noise_model_class(noise_cfg.get("kind", "none")).annotations


# The torch-side names, importable from here as before (`from repro.data.noise import inject_noise`) but defined in
# torch modules: a module-level __getattr__ (PEP 562) imports their module on first access, so that importing the
# package (which `describes_noise` and the config's noise keys need, in `repro tables` and `repro ledger` too) loads
# no torch. The project's own modules import these from their defining modules.
_TORCH_SIDE = {
    "actual_noise_rate": "repro.data.noise.apply",
    "inject_noise": "repro.data.noise.apply",
    "load_file_noise": "repro.data.noise.apply",
    "transition_matrix": "repro.data.noise.apply",
    "check_classes": "repro.data.noise.checks",
    "check_inputs": "repro.data.noise.checks",
    "on_cpu": "repro.data.noise.checks",
    "corrupted_count": "repro.data.noise.synthetic_tensors",
    "inject_exact_fraction_noise": "repro.data.noise.synthetic_tensors",
    "inject_uniform_noise": "repro.data.noise.synthetic_tensors",
}

__getattr__, __dir__ = lazy_names(globals(), _TORCH_SIDE)
