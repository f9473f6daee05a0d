"""Where and how a run computes: device, precision, memory format, compiled JVP, determinism.

Built once per run from the config's top-level keys (`device`, `precision`, `channels_last`, `compile_jvp`,
`deterministic`); the training loop and the methods only call this narrow API, so no hardware detail leaks into
them. Which keys change results (and so enter the run id) is decided in repro/runs/rundir.py: `device` and
`channels_last` do not (float noise only), `precision`, `deterministic` and `compile_jvp` do when not at default.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any, ContextManager, Mapping

import torch
from torch import Tensor, nn

from repro.errors import UserError

# The hardware keys' allowed values are declared in repro/conf/schema.py (checked when the config loads); their
# defaults are what config.yaml says (a missing key, e.g. in an old run's config, means the default).
DEFAULTS: dict[str, Any] = {
    "device": "auto",
    "precision": "fp32",
    "channels_last": "auto",
    "compile_jvp": False,
    "deterministic": False,
}
# cuBLAS needs a fixed workspace to give the same bits twice (CUDA docs, "Results reproducibility").
CUBLAS_WORKSPACE = ":4096:8"
# Keep the uint8 images on the GPU when they take at most this share of its free memory.
IMAGES_ON_DEVICE_SHARE = 0.25


def _bool_or_auto(value: Any, *, auto: bool) -> bool:
    return auto if value == "auto" else bool(value)


@dataclass(frozen=True)
class Hardware:
    """The resolved hardware settings of one run."""

    device: torch.device
    precision: str = "fp32"
    channels_last: bool = False
    compile_jvp: bool = False
    deterministic: bool = False

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], *, require_device: bool = True) -> Hardware:
        """Resolve `auto` values (the values were checked when the config loaded); with `require_device`, refuse what
        cannot run here (device=cuda without a GPU): what the machine a run starts on decides, not the config."""
        get = lambda k: cfg.get(k, DEFAULTS[k])  # noqa: E731
        device_name = str(get("device")).lower()
        if device_name == "cuda" and require_device and not torch.cuda.is_available():
            raise UserError(
                "device=cuda was asked for but torch sees no CUDA GPU (torch "
                f"{torch.__version__}, built for CUDA {torch.version.cuda}). Run `repro doctor` to see "
                "why, or use device=auto / device=cpu."
            )
        if device_name == "auto":
            device_name = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(device_name)
        return cls(
            device=device,
            precision=str(get("precision")).lower(),
            # auto: on for both devices. On CUDA it is the fast format of cuDNN; on one CPU thread (torch 2.14,
            # oneDNN) it was measured faster too: the digits SmallCNN's training step 1.4x and its look-ahead meta
            # step 1.25x, the whole 126-run demo 0.75 of the time; the CIFAR networks' steps 0.94-1.20x (docs/gpu.md).
            channels_last=_bool_or_auto(get("channels_last"), auto=True),
            compile_jvp=bool(get("compile_jvp")),
            deterministic=bool(get("deterministic")),
        )

    # ------------------------------------------------------------------------------------------ process state

    def apply(self) -> None:
        """Set the process-wide flags this run needs (call before building the model).

        deterministic: torch's deterministic algorithms, cuDNN without autotuning, the cuBLAS workspace setting
        (read when cuBLAS starts, so set it before the first matmul of the process). Otherwise cuDNN autotunes
        convolutions on CUDA (`cudnn.benchmark`), which picks the fastest kernel per shape."""
        if self.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        if torch.are_deterministic_algorithms_enabled() != self.deterministic:
            # Only on a change: the call imports torch._inductor (about a second of CPU in every run's process).
            torch.use_deterministic_algorithms(self.deterministic)
        torch.backends.cudnn.deterministic = self.deterministic
        torch.backends.cudnn.benchmark = self.device.type == "cuda" and not self.deterministic
        if self.deterministic and self.device.type == "cuda":
            _check_cublas_is_deterministic(self.device)

    # ------------------------------------------------------------------------------------------ per step

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return torch.bfloat16 if self.precision == "bf16" else None

    def autocast(self) -> ContextManager[None]:
        """bf16 autocast for forwards (and the JVP) with precision=bf16, nothing otherwise. Parameters, their
        gradients, the optimizer and the label parametrisations stay float32."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """Move the model to the device, in channels_last when asked; in deterministic mode on CUDA, swap layers
        that have no deterministic CUDA backward for equivalent ones that do."""
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        if self.deterministic and self.device.type == "cuda":
            replace_nondeterministic_pools(model)
        return model

    def prepare_batch(self, x: Tensor) -> Tensor:
        """A batch on the device (asynchronously: no host sync), in the model's memory format."""
        x = x.to(self.device, non_blocking=True)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def place_images(self, images: Tensor) -> Tensor:
        """The data set's uint8 images on the GPU when they fit (then cropping, flipping, normalising and
        evaluation run there, with no host round trip per batch); on the CPU otherwise."""
        if self.device.type != "cuda":
            return images
        free, _ = torch.cuda.mem_get_info(self.device)
        if images.numel() * images.element_size() > IMAGES_ON_DEVICE_SHARE * free:
            return images
        return images.to(self.device)

    def describe(self) -> dict[str, Any]:
        """The resolved settings, for the run's provenance record."""
        return {
            "device": str(self.device),
            "precision": self.precision,
            "channels_last": self.channels_last,
            "compile_jvp": self.compile_jvp,
            "deterministic": self.deterministic,
        }


def _check_cublas_is_deterministic(device: torch.device) -> None:
    """torch reads CUBLAS_WORKSPACE_CONFIG once per process, at its first matrix product; in deterministic mode every
    later one raises a RuntimeError if the setting was missing then. `apply` sets it, which is in time for a process
    that trains one run; one that ran a matrix product before (several runs in one process, the first of them not
    deterministic) would fail at the run's first step with torch's message. One tiny product here says why, before
    any work, in a UserError that names the fix. (torch 2.11 with CUDA 13 raises nothing here: the probe passes.)"""
    try:
        probe = torch.ones(2, 2, device=device)
        probe @ probe
    except RuntimeError as exc:
        if "CUBLAS_WORKSPACE_CONFIG" not in str(exc):
            raise
        raise UserError(
            "deterministic=true on CUDA needs CUBLAS_WORKSPACE_CONFIG set before the process's first matrix product, "
            "and this process already ran one without it (torch reads the setting once). Start the run in a fresh "
            f"process, or `export CUBLAS_WORKSPACE_CONFIG={CUBLAS_WORKSPACE}` before starting it."
        ) from None


class DeterministicAdaptiveAvgPool2d(nn.Module):
    """AdaptiveAvgPool2d for outputs that evenly divide the input (the case of every model here), as an
    avg_pool2d, whose CUDA backward is deterministic; adaptive pooling's is not (and raises in deterministic
    mode). Same numbers: the adaptive windows are then exactly the avg_pool2d windows."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        out_h, out_w = _pair(self.output_size, x)
        height, width = x.shape[-2:]
        if height % out_h or width % out_w:
            return nn.functional.adaptive_avg_pool2d(x, self.output_size)
        if (out_h, out_w) == (1, 1):  # torch computes this case as a mean; keep its exact numbers
            return x.mean(dim=(-2, -1), keepdim=True)
        kernel = (height // out_h, width // out_w)
        return nn.functional.avg_pool2d(x, kernel_size=kernel, stride=kernel)


def _pair(size: Any, x: Tensor) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    return (x.shape[-2] if h is None else int(h), x.shape[-1] if w is None else int(w))


def replace_nondeterministic_pools(model: nn.Module) -> None:
    """Swap every AdaptiveAvgPool2d of `model` for `DeterministicAdaptiveAvgPool2d` (in place)."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.AdaptiveAvgPool2d):
            setattr(model, name, DeterministicAdaptiveAvgPool2d(child.output_size))
        else:
            replace_nondeterministic_pools(child)


def index_add_rows_(target: Tensor, index: Tensor, source: Tensor) -> Tensor:
    """target[index[i]] += source[i] for every i (duplicates add up): the sparse label update.

    CUDA's index_add_ adds duplicates with atomics (order, so the last bits, vary run to run); in deterministic
    mode on CUDA this uses index_put_(accumulate=True), whose CUDA kernel sorts the indices and adds each row's
    duplicates in order. Everywhere else it is index_add_ itself, so CPU results do not change."""
    if target.is_cuda and torch.are_deterministic_algorithms_enabled():
        return target.index_put_((index,), source.to(target.dtype), accumulate=True)
    return target.index_add_(0, index, source)
