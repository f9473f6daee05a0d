"""Label noise models (`noise.kind`), injected into the training part only; meta and test labels stay clean.

- `uniform` (the paper, Sec. 3.5, and Meta-Weight-Net, setting A): each label becomes a uniformly random class
  with probability `fraction`; the random class may equal the true one.
- `exact_fraction` (Data Parameters, setting B; apple/ml-data-parameters, dataset/cifar_dataset.py,
  `corrupt_fraction_of_data`): exactly floor(fraction * n) training samples are chosen and their labels permuted
  among themselves (a uniformly random permutation, which may map a label to itself or to another of its class).
- `cifar_n` (real human noise, repro/data/cifar_n.py): the given labels of the training part are a CIFAR-N file's
  human labels (`noise.file`, `noise.type`); its T and rate are the empirical ones of the run's training part.
- `annotators` (SIMULATED annotators, repro/data/simulated_annotators.py): the same, from three seeded annotators
  with class-confusion matrices, for data without a CIFAR-N file (the digits demo).

Every model answers the same questions: `inject_noise` (the given labels), `transition_matrix` (the model's
P(given | true)) and `actual_noise_rate` (the expected share of given labels that differ from the true ones).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import Tensor

from repro.errors import UserError

NOISE_KINDS = ("none", "uniform", "exact_fraction", "cifar_n", "annotators")
# Models whose given labels are annotators' labels (a CIFAR-N file, or simulated annotators): no fraction; which
# labels change is the annotations' answer, so their T and rate are the empirical ones of the run's training part.
ANNOTATION_KINDS = ("cifar_n", "annotators")

__all__ = [
    "NOISE_KINDS",
    "actual_noise_rate",
    "describes_noise",
    "load_file_noise",
    "transition_reads_clean_labels",
    "corrupted_count",
    "inject_exact_fraction_noise",
    "inject_noise",
    "inject_uniform_noise",
    "transition_matrix",
]


def describes_noise(noise_cfg: Mapping[str, Any]) -> bool:
    """Whether the config asks for any label noise (a file of human labels always does)."""
    kind, fraction, _ = _parse(noise_cfg)
    return kind in ANNOTATION_KINDS or (kind != "none" and fraction > 0.0)


def transition_reads_clean_labels(noise_cfg: Mapping[str, Any]) -> bool:
    """Whether the model's known T is counted from clean labels (a file's human noise) rather than known from its
    parameters (the synthetic models): a method that uses it then uses those clean labels."""
    return _parse(noise_cfg)[0] in ANNOTATION_KINDS


def load_file_noise(noise_cfg: Mapping[str, Any], targets: Tensor, num_classes: int) -> Any:
    """The annotators' labels (repro.data.cifar_n.HumanNoise) of the whole training set `targets` (a CIFAR-N file's,
    checked against them, or simulated ones); None for the models that draw their noise in `inject_noise`."""
    kind, _, _ = _parse(noise_cfg)
    if kind not in ANNOTATION_KINDS:
        return None
    if kind == "annotators":
        from repro.data.simulated_annotators import simulated_noise

        return simulated_noise(noise_cfg, targets, num_classes)
    from repro.data.cifar_n import load_human_noise

    return load_human_noise(noise_cfg, targets)


def inject_noise(
    noise_cfg: Mapping[str, Any], targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None
) -> tuple[Tensor, Tensor]:
    """(given_targets, noisy_mask) for the run's `noise` config; a copy of `targets` when there is no noise.
    `human`: for noise=cifar_n, the file's labels already aligned with `targets` (repro.data.cifar_n.HumanNoise);
    loaded here (and checked against `targets`) when not given."""
    kind, fraction, seed = _parse(noise_cfg)
    if kind in ANNOTATION_KINDS:
        targets, selected = _check_inputs(targets, 0.0, num_classes, among)
        if human is None:
            human = load_file_noise(noise_cfg, targets, num_classes)
        given = torch.where(selected.to(targets.device), human.given.to(targets.device), targets)
        return given, given != targets
    if kind == "none" or fraction == 0.0:
        return targets.clone(), torch.zeros_like(targets, dtype=torch.bool)
    inject = inject_uniform_noise if kind == "uniform" else inject_exact_fraction_noise
    return inject(targets, fraction=fraction, num_classes=num_classes, seed=seed, among=among)


def inject_uniform_noise(
    targets: Tensor, *, fraction: float, num_classes: int, seed: int, among: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Return (noisy_targets, noisy_mask); `targets` itself is left untouched (it is the record of true classes).

    Random numbers are drawn for *all* samples from a generator seeded by `seed`, then applied only to
    `among` (global indices, or a boolean mask; None = all samples). So the noise on sample i depends only
    on the seed, not on which fold's meta set was excluded. `noisy_mask` marks labels that actually changed;
    its expected rate over `among` is `fraction * (num_classes - 1) / num_classes`.
    """
    targets, selected = _check_inputs(targets, fraction, num_classes, among)
    generator = torch.Generator().manual_seed(int(seed))
    flip = torch.rand(targets.numel(), generator=generator) < fraction
    random_class = torch.randint(0, num_classes, (targets.numel(),), generator=generator)
    replace = (flip & selected).to(targets.device)
    noisy_targets = torch.where(replace, random_class.to(targets.device), targets)
    return noisy_targets, noisy_targets != targets


def inject_exact_fraction_noise(
    targets: Tensor, *, fraction: float, num_classes: int, seed: int, among: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Data Parameters' noise: permute the labels of exactly `corrupted_count(fraction, n)` of the n samples in
    `among` among themselves. Returns (noisy_targets, noisy_mask) like `inject_uniform_noise`.

    The chosen subset is the k samples of `among` with the smallest of n_all seeded uniform keys (drawn for all
    samples, so a sample's key does not depend on the split); the permutation comes from the same generator.
    Their code takes the first k images of CIFAR's (arbitrary) file order instead; the distribution is the same.
    """
    targets, selected = _check_inputs(targets, fraction, num_classes, among)
    chosen, shuffled = _exact_draws(fraction, seed, selected)
    noisy_targets = targets.clone()
    noisy_targets[chosen.to(targets.device)] = targets[shuffled.to(targets.device)]
    return noisy_targets, noisy_targets != targets


def corrupted_count(fraction: float, n: int) -> int:
    """How many of n samples the exact-fraction model corrupts: floor(fraction * n), as their np.floor does
    (rounded to 9 decimals first so 0.3 * 10 = 2.9999... counts 3). Refuses a count below 2, where a permutation
    cannot change any label."""
    k = int(math.floor(round(float(fraction) * n, 9)))
    if fraction > 0 and k < 2:
        raise UserError(
            f"noise.kind=exact_fraction with noise.fraction={fraction} corrupts floor({fraction} x {n}) = {k} of the "
            f"{n} training samples, and a permutation of fewer than 2 labels changes none: the requested noise "
            f"cannot be made. Use noise.fraction >= {2 / max(n, 1):.3g} on this data (or more training samples), "
            "or noise=uniform."
        )
    return k


def transition_matrix(
    noise_cfg: Mapping[str, Any],
    num_classes: int,
    *,
    targets: Tensor | None = None,
    among: Tensor | None = None,
    given: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """The noise model's (C, C) row-stochastic matrix T[i, j] = P(given label j | true class i) over the noised
    (training) samples. Contract (kept stable for loss correction): float `dtype` on the CPU, rows sum to 1,
    identity for noise=none or fraction 0.

    - uniform: T = (1 - f) I + f / C (every entry; the redraw may hit the true class), independent of the data.
    - exact_fraction: with `targets` (the true training targets) and `among` (the run's training part), exact in
      expectation over the permutation given the run's chosen subset S (the same seeded choice as the injection):
      a sample of class i is in S with probability s_i / N_i (s_i: class-i samples in S, N_i: in the training
      part), and a sample in S receives the label of a uniformly random member of S (itself included), class j
      with probability s_j / m (m = |S|). So T[i, j] = (s_i / N_i) s_j / m + (1 - s_i / N_i) [i == j]. Without
      `targets`, the expectation over S with balanced classes (s_i / N_i = f, s_j / m = 1 / C): the same matrix
      as uniform, (1 - f) I + f / C.
    - cifar_n: the empirical T of the run's training part, from `targets` and the run's `given` labels (both, or
      neither: then over the whole file, before a run).
    """
    kind, fraction, seed = _parse(noise_cfg)
    C = _check_classes(num_classes)
    eye = torch.eye(C, dtype=torch.float64)
    if kind in ANNOTATION_KINDS:
        return _empirical_transition(noise_cfg, C, targets, among, given).to(dtype)
    if kind == "none" or fraction == 0.0:
        return eye.to(dtype)
    if kind == "uniform" or targets is None:
        return ((1 - fraction) * eye + fraction / C).to(dtype)
    true, selected = _check_inputs(_on_cpu(targets), fraction, C, among)
    subset, _ = _exact_draws(fraction, seed, selected)
    class_counts = torch.bincount(true[selected], minlength=C).double()
    subset_counts = torch.bincount(true[subset], minlength=C).double()
    in_subset = subset_counts / class_counts.clamp(min=1)  # s_i / N_i (0 for a class absent from training)
    receive = subset_counts / subset_counts.sum()  # s_j / m
    return (in_subset[:, None] * receive[None, :] + (1 - in_subset)[:, None] * eye).to(dtype)


def actual_noise_rate(
    noise_cfg: Mapping[str, Any],
    num_classes: int,
    *,
    targets: Tensor | None = None,
    among: Tensor | None = None,
    given: Tensor | None = None,
) -> float:
    """The expected fraction of training labels that differ from the true ones: 1 - sum_i prior_i T[i, i], with the
    class priors of the training part (`targets`/`among`) or balanced classes. uniform: fraction * (C - 1) / C
    (0.36 on CIFAR-10 at 40%, whatever the priors); exact_fraction: (m / n) (1 - sum_j (s_j / m)^2)."""
    C = _check_classes(num_classes)
    T = transition_matrix(noise_cfg, C, targets=targets, among=among, given=given, dtype=torch.float64)
    if targets is None and str(noise_cfg.get("kind")) in ANNOTATION_KINDS:
        targets = _file_labels(noise_cfg)[0]
    if targets is None:
        prior = torch.full((C,), 1.0 / C, dtype=torch.float64)
    else:
        true, selected = _check_inputs(_on_cpu(targets), 0.0, C, among)
        counts = torch.bincount(true[selected], minlength=C).double()
        prior = counts / counts.sum().clamp(min=1)
    return float(1.0 - (prior * T.diagonal()).sum())


# -- helpers ---------------------------------------------------------------------------------------------------
def _empirical_transition(
    noise_cfg: Mapping[str, Any], num_classes: int, targets: Tensor | None, among: Tensor | None, given: Tensor | None
) -> Tensor:
    """T[i, j] = share of the (selected) samples of true class i given label j; identity row for an absent class."""
    if given is None and targets is None and _parse(noise_cfg)[0] == "annotators":
        from repro.data.simulated_annotators import DEFAULT_RATES, confusion_matrices

        rates = tuple(float(r) for r in (noise_cfg.get("rates") or DEFAULT_RATES))  # before a run: their mean
        return confusion_matrices(num_classes, rates, int(noise_cfg.get("seed", 0))).mean(0)
    if given is None and targets is not None:
        # The run's training set may be a data.subset of the file's images (or of the simulated annotators' draw):
        # only the run's own given labels, aligned before the subset was cut, fit its targets.
        raise ValueError("the empirical T of annotators' labels over a run's targets needs that run's given labels")
    if given is None:
        targets, given = _file_labels(noise_cfg)
    true, selected = _check_inputs(_on_cpu(targets), 0.0, num_classes, among)
    given = _on_cpu(given).long()
    counts = torch.zeros(num_classes, num_classes, dtype=torch.float64)
    counts.index_put_(
        (true[selected], given[selected]), torch.ones(int(selected.sum()), dtype=torch.float64), accumulate=True
    )
    rows = counts.sum(dim=1, keepdim=True)
    eye = torch.eye(num_classes, dtype=torch.float64)
    return torch.where(rows > 0, counts / rows.clamp(min=1), eye)


def _file_labels(noise_cfg: Mapping[str, Any]) -> tuple[Tensor, Tensor]:
    """(clean, annotated) labels of a whole label file, before a run (nothing to align them with yet)."""
    from repro.data.cifar_n import load_human_noise

    human = load_human_noise(noise_cfg, None)
    return human.clean, human.given


def _exact_draws(fraction: float, seed: int, selected: Tensor) -> tuple[Tensor, Tensor]:
    """(chosen, shuffled): the global indices whose labels the exact-fraction model replaces, and, position by
    position, the indices whose labels they receive (a permutation of `chosen`)."""
    k = corrupted_count(fraction, int(selected.sum()))
    generator = torch.Generator().manual_seed(int(seed))
    keys = torch.rand(selected.numel(), generator=generator)
    keys[~selected] = math.inf
    chosen = torch.argsort(keys, stable=True)[:k]
    return chosen, chosen[torch.randperm(k, generator=generator)]


def _on_cpu(targets: Any) -> Any:
    return targets.cpu() if isinstance(targets, Tensor) else targets


def _parse(noise_cfg: Mapping[str, Any]) -> tuple[str, float, int]:
    kind = str(noise_cfg.get("kind", "none"))
    if kind not in NOISE_KINDS:
        raise UserError(
            f"noise.kind={kind!r} is not known; use one of {', '.join(NOISE_KINDS)} "
            "(noise=none, noise=uniform, noise=exact_fraction or noise=cifar_n)."
        )
    if kind in ANNOTATION_KINDS:
        return kind, 0.0, int(noise_cfg.get("seed", 0))
    fraction = noise_cfg.get("fraction", 0.0)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise UserError(
            f"noise.fraction must be a number in [0, 1); got {fraction!r}. The paper uses 0.2, 0.4, 0.6 and 0.8."
        )
    return kind, float(fraction), int(noise_cfg.get("seed", 0))


def _check_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise UserError(
            f"The noise model needs num_classes >= 2; got {num_classes!r}. Pass the data set's class count."
        )
    return num_classes


def _check_inputs(targets: Tensor, fraction: float, num_classes: int, among: Tensor | None) -> tuple[Tensor, Tensor]:
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.dtype.is_floating_point:
        raise UserError(
            "The noise model needs the training targets as a 1-D integer tensor of class indices; got "
            f"{type(targets).__name__} {getattr(targets, 'shape', '')}. Pass ArrayDataset.targets."
        )
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise UserError(
            f"noise.fraction must be a number in [0, 1); got {fraction!r}. The paper uses 0.2, 0.4, 0.6 and 0.8."
        )
    _check_classes(num_classes)
    targets = targets.long()
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise UserError(
            f"Targets must lie in [0, {num_classes - 1}] for num_classes={num_classes}; found values in "
            f"[{int(targets.min())}, {int(targets.max())}]. Pass the data set's true number of classes."
        )
    return targets, _selection_mask(among, targets.numel())


def _selection_mask(among: Tensor | None, n: int) -> Tensor:
    if among is None:
        return torch.ones(n, dtype=torch.bool)
    among = torch.as_tensor(among).cpu()
    if among.dtype == torch.bool:
        if among.shape != (n,):
            raise UserError(
                f"`among` as a boolean mask must have one entry per sample ({n}); got shape {tuple(among.shape)}. "
                "Pass a mask over the training targets or the split's train_idx."
            )
        return among
    if among.dim() != 1 or among.dtype.is_floating_point:
        raise UserError(
            "`among` must be a 1-D tensor of global sample indices (e.g. the split's train_idx) or a boolean mask."
        )
    if among.numel() and (int(among.min()) < 0 or int(among.max()) >= n):
        raise UserError(f"`among` holds indices outside [0, {n - 1}]: pass global indices into the training targets.")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[among.long()] = True
    return mask
