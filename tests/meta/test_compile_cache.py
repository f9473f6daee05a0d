"""The compiled JVP stays right when runs with different CPU vector kernels share one Inductor cache.

Inductor picks its CPU ISA from ATEN_CPU_CAPABILITY but (torch 2.14) left it out of its cache key: a JVP compiled
under AVX2 and then loaded with ATEN_CPU_CAPABILITY=default crashed, and AVX512 then AVX2 gave a 0.38 relative
error. repro.meta.virtual.pin_inductor_cpu_isa puts the ISA into the key; without it this test fails on an x86 CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

PROBE = """
import torch, torch.nn as nn
torch.set_num_threads(1)
from repro.meta.virtual import log_prob_jvp, trainable_parameters
torch.manual_seed(0)
# Dropout(0) in train mode: Inductor emits its random kernels, yet the right answer is the eager one.
model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Dropout(0.0), nn.Linear(144, 5))
x = torch.randn(6, 1, 6, 6)
params = trainable_parameters(model)
tangents = [torch.randn_like(p) for p in params.values()]
eager = log_prob_jvp(model, params, x, tangents)
compiled = log_prob_jvp(model, params, x, tangents, compile=True)
print(((compiled - eager).norm() / eager.norm()).item())
"""

# One capability pair: the machine's widest kernels fill the cache, then the plain ones read it. Both failures above
# were a cache filled by a wider ISA and read by a narrower one; the widest-to-plainest pair is the one every x86
# machine with vector kernels can run, and a key without the ISA fails it.
WIDE = {"AVX512": "avx512", "AVX2": "avx2"}


@pytest.mark.slow
@pytest.mark.e2e
def test_compiled_jvp_is_right_under_each_cpu_capability_sharing_one_cache(tmp_path):
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in WIDE:
        pytest.skip(f"needs an x86 CPU with AVX2 or AVX512 kernels to switch between (torch chose {capability})")
    for forced in (WIDE[capability], "default"):
        env = {
            **os.environ,
            "ATEN_CPU_CAPABILITY": forced,
            "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor"),
            "OMP_NUM_THREADS": "1",
        }
        result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True)
        assert result.returncode == 0, (
            f"ATEN_CPU_CAPABILITY={forced}: exit {result.returncode}\n{result.stderr[-2000:]}"
        )
        relative_error = float(result.stdout.strip().splitlines()[-1])
        assert relative_error < 1e-5, f"ATEN_CPU_CAPABILITY={forced}: compiled JVP off by {relative_error:.3g}"


@pytest.mark.slow  # Inductor compiles a probe per vector ISA: seconds of CPU
def test_the_pin_finds_inductors_isa_where_torch_2_4_kept_it(monkeypatch):
    """pyproject allows torch 2.4, whose Inductor had pick_vec_isa in codecache (cpu_vec_isa came in 2.5)."""
    import torch._inductor
    from torch._inductor import codecache, config

    from repro.meta.virtual import pin_inductor_cpu_isa

    # The module is gone, as on torch 2.4: importing it, or taking it from the package, fails.
    monkeypatch.delattr(torch._inductor, "cpu_vec_isa", raising=False)
    monkeypatch.setitem(sys.modules, "torch._inductor.cpu_vec_isa", None)
    with config.patch({"cpp.simdlen": None}):  # as before the first compile of the process
        chosen = codecache.pick_vec_isa().bit_width()
        pin_inductor_cpu_isa()
        assert config.cpp.simdlen == chosen
