"""Passes through a model that leave it untouched, for the meta-gradient engine (repro.meta).

Virtual passes (the look-ahead gradient, the meta batch, the JVP) never touch the model's parameters or
buffers: they go through torch.func.functional_call, where BatchNorm layers in train mode get `None`
running statistics (they normalise with batch statistics either way, and `None` skips the running-stat
update) and every other buffer is cloned. Each pass runs in the model's current train/eval mode, and the
JVP replays the RNG state of the train forward so that dropout masks agree with it.

The JVP uses torch.autograd.forward_ad dual tensors as the parameters of a functional_call: measured on
CPU it is ~25% faster than torch.func.jvp around the same call, and with virtual buffers it cannot touch
the module's running statistics (the pitfall of dual tensors on the module itself).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd import forward_ad
from torch.func import functional_call

Params = dict[str, Tensor]
Buffers = dict[str, "Tensor | None"]


def trainable_parameters(model: nn.Module) -> Params:
    """The parameters theta of the look-ahead: those that require grad (frozen ones stay constants)."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def virtual_buffers(model: nn.Module) -> Buffers:
    """Buffers for a pass that must not change the model: None for BatchNorm running statistics in train
    mode (the output does not depend on them), clones for everything else."""
    buffers: Buffers = {}
    for module_name, module in model.named_modules():
        batchnorm_in_train_mode = isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training
        for buffer_name, buffer in module.named_buffers(recurse=False):
            name = f"{module_name}.{buffer_name}" if module_name else buffer_name
            buffers[name] = None if batchnorm_in_train_mode else buffer.clone()
    return buffers


def forward(model: nn.Module, params: dict, buffers: Buffers, x: Tensor) -> Tensor:
    """The model's output with `params` and `buffers` in place of its own (those not given are its own)."""
    return functional_call(model, {**params, **buffers}, (x,))


class RngState:
    """The global RNG state at one moment (CPU, and the CUDA device of the batch), to replay a forward."""

    def __init__(self, device: torch.device) -> None:
        self.cpu = torch.get_rng_state()
        self.cuda_device = (device.index or 0) if device.type == "cuda" else None
        if self.cuda_device is not None:
            self.cuda = torch.cuda.get_rng_state(self.cuda_device)

    @contextmanager
    def replayed(self) -> Iterator[None]:
        """Run a block from this RNG state and leave the global RNG as it was before the block."""
        devices = [self.cuda_device] if self.cuda_device is not None else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.cpu)
            if self.cuda_device is not None:
                torch.cuda.set_rng_state(self.cuda, self.cuda_device)
            yield


def _log_prob_tangent(model: nn.Module, primals: Params, tangents: Params, buffers: Buffers, x: Tensor) -> Tensor:
    """The forward-mode pass: tangent of log_softmax(f(x; theta)) with theta carrying `tangents`."""
    with forward_ad.dual_level():
        duals = {name: forward_ad.make_dual(primals[name], tangents[name]) for name in primals}
        log_probs = F.log_softmax(forward(model, duals, buffers, x), dim=1)
        tangent = forward_ad.unpack_dual(log_probs).tangent
    return torch.zeros_like(log_probs) if tangent is None else tangent


_compiled_log_prob_tangent: Callable[..., Tensor] | None = None


def _compiled() -> Callable[..., Tensor]:
    global _compiled_log_prob_tangent
    if _compiled_log_prob_tangent is None:
        pin_inductor_cpu_isa()
        _compiled_log_prob_tangent = torch.compile(_log_prob_tangent)
    return _compiled_log_prob_tangent


def pin_inductor_cpu_isa() -> None:
    """Put the CPU vector ISA into Inductor's cache key, so that no compiled kernel is reused under another one.

    Inductor picks the ISA of its CPU kernels from ATEN_CPU_CAPABILITY, but (torch 2.14) leaves that variable out
    of its cache key: a compiled JVP with dropout cached under AVX512 and loaded under ATEN_CPU_CAPABILITY=avx2, or
    the reverse, returned NaN or 1e37 or crashed the allocator (measured on this project's CI machine). Pinning
    `cpp.simdlen` to the width of the ISA Inductor would pick anyway changes only the key, not the code. A value the
    user set is kept."""
    from torch._inductor import config  # deferred: Inductor is heavy, needed when a JVP is compiled only

    try:
        from torch._inductor.cpu_vec_isa import pick_vec_isa  # deferred: Inductor (above)
    except ImportError:  # torch 2.4 (pyproject's lowest) kept it in codecache
        from torch._inductor.codecache import pick_vec_isa  # deferred: Inductor (above)

    if config.cpp.simdlen is None:
        config.cpp.simdlen = pick_vec_isa().bit_width()


def _autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The dtype of the autocast region the caller is in on this device type, or None outside one."""
    kind = device.type
    try:
        return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else None
    except TypeError:  # torch < 2.4 has no device-type argument
        enabled = torch.is_autocast_cpu_enabled() if kind == "cpu" else torch.is_autocast_enabled()
        return (
            (torch.get_autocast_cpu_dtype() if kind == "cpu" else torch.get_autocast_gpu_dtype()) if enabled else None
        )


def log_prob_jvp(
    model: nn.Module, params: Params, x: Tensor, tangents: list[Tensor], *, compile: bool = False
) -> Tensor:
    """Directional derivative (n, C) of log_softmax(f(x; theta)) along `tangents` (one per entry of
    `params`), at `params`, without touching the model's buffers.

    compile=True runs the pass through torch.compile; off by default. The first call per model, shape and
    mode compiles (seconds to a minute). Measured on CPU: the JVP ~1.8x faster on the small CNN but only
    ~1.1x on ResNet18, where in float32 it was also less accurate (3e-3 relative to the float64 JVP, eager
    float32: 1e-6; in float64 compiled and eager agree to 1e-14). Compiled random ops draw other numbers than
    eager ones, so with dropout the compiled JVP no longer replays the train forward's masks."""
    primals = {name: p.detach() for name, p in params.items()}
    tangent_dict = dict(zip(primals, tangents))
    args = (model, primals, tangent_dict, virtual_buffers(model), x)
    autocast_dtype = _autocast_dtype(x.device)
    with warnings.catch_warnings():
        # torch's first forward-AD use scripts its JVP decompositions and warns that jit.script is deprecated.
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
        if compile and autocast_dtype is not None:
            # The compiled forward-mode pass under bf16 autocast with channels_last fails (CUDA, torch 2.11; CPU,
            # torch 2.14: "expected m1 and m2 to have the same dtype", with autocast entered outside or inside the
            # compiled function): autocast casts the primals but not the tangents of a traced matmul. The compiled
            # JVP therefore runs in float32 (the rest of the step stays bf16); compiled fp32 is its fast form anyway.
            with torch.autocast(device_type=x.device.type, enabled=False):
                tangent = _compiled()(*args)
        else:
            tangent = (_compiled() if compile else _log_prob_tangent)(*args)
    # Under autocast the tangent may be bfloat16: the label and weight meta-gradients are formed in float32 (or
    # float64 when the model is; never lower).
    return tangent.to(torch.promote_types(tangent.dtype, torch.float32))
