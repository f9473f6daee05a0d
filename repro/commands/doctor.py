"""`repro doctor`: is this environment ready to train? torch, torchvision, CUDA, GPU, cuDNN, W&B, SLURM, the data root.

Exit 0 when a run can start here (what is only nice to have, e.g. a GPU on a laptop or SLURM, is reported but not
required unless asked with --require-gpu / --require-slurm), 1 when something required is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from repro.data.published import NAMES, fetch_command, lands_as, missing
from repro.tracking.wandb_dirs import cramped_home_directories

WHEN_INTERRUPTED = "nothing was changed; run it again."  # what an interruption leaves (repro/cli.py)

OK, WARN, FAIL = "ok", "warn", "FAIL"
CIFAR = ("cifar10", "cifar100")  # a CIFAR run needs one of them; CIFAR-N's label files come on top
SINFO_TIMEOUT_S = 10


@dataclass
class Check:
    name: str
    state: str  # ok | warn | FAIL
    detail: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", help="the directory you pass as data.root (CIFAR in torchvision layout)")
    parser.add_argument("--require-gpu", action="store_true", help="fail when torch sees no CUDA GPU")
    parser.add_argument("--require-slurm", action="store_true", help="fail when SLURM cannot be reached")


def check_torch() -> list[Check]:
    import torch  # deferred: the check is whether it imports; `repro doctor --help` loads none

    checks = [Check("torch", OK, f"{torch.__version__} (built for CUDA {torch.version.cuda or 'none: CPU only'})")]
    major_minor = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
    if major_minor < (2, 4):
        checks[0] = Check("torch", FAIL, f"{torch.__version__}: this project needs torch >= 2.4")
    return checks


def _load_torchvision_ops() -> str:
    """Import torchvision and run one of its compiled ops: a torchvision built for another torch fails here."""
    import torch  # deferred: as above
    import torchvision  # deferred: as above

    torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    return torchvision.__version__


def _torch_torchvision_wants() -> str | None:
    """The torch requirement in torchvision's own metadata (e.g. '==2.13.0'), or None where a site build has none."""
    try:
        wanted = [r for r in metadata.requires("torchvision") or [] if r.split()[0].split("=")[0] == "torch"]
    except metadata.PackageNotFoundError:
        return None
    return wanted[0][len("torch") :].strip(" ()") if wanted else None


def check_torchvision() -> list[Check]:
    import torch  # deferred: as above

    fix = (
        "install the torchvision built for this torch (pip: the release paired with torch "
        f"{torch.__version__.split('+')[0]}, from the same index as torch; a cluster: the site's module)"
    )
    try:
        version = _load_torchvision_ops()
    except Exception as exc:  # ImportError, or RuntimeError 'operator torchvision::nms does not exist'
        return [
            Check(
                "torchvision",
                FAIL,
                f"does not load beside torch {torch.__version__}: {type(exc).__name__}: {exc}; {fix}",
            )
        ]
    wants = _torch_torchvision_wants()
    if wants and wants.startswith("==") and wants[2:] != torch.__version__.split("+")[0]:
        return [
            Check(
                "torchvision",
                FAIL,
                f"{version} was built for torch {wants[2:]}, but torch is {torch.__version__}; {fix}",
            )
        ]
    return [Check("torchvision", OK, version)]


def check_cuda(require: bool) -> list[Check]:
    import torch  # deferred: as above

    if not torch.cuda.is_available():
        why = (
            "torch is a CPU-only build; install the site's CUDA torch"
            if torch.version.cuda is None
            else "no GPU visible (CUDA_VISIBLE_DEVICES, driver, or not on a GPU node)"
        )
        return [Check("cuda", FAIL if require else WARN, f"not available: {why}; runs use the CPU")]
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    checks = [Check("cuda", OK, f"CUDA {torch.version.cuda}, {len(names)} GPU(s): {', '.join(names)}")]
    try:
        torch.ones(1, device="cuda").add_(1).item()
    except Exception as exc:  # a broken driver shows here, not in is_available()
        return [Check("cuda", FAIL, f"a GPU is listed but a kernel failed: {exc}")]
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    checks.append(Check("cudnn", OK if cudnn else WARN, str(cudnn) if cudnn else "not available"))
    bf16 = torch.cuda.is_bf16_supported()
    checks.append(
        Check(
            "bf16",
            OK if bf16 else WARN,
            "supported (precision=bf16)" if bf16 else "not supported by this GPU: keep precision=fp32",
        )
    )
    return checks


def check_wandb() -> list[Check]:
    try:
        import wandb  # noqa: F401  deferred: the check is whether it imports
    except Exception as exc:
        return [Check("wandb", WARN, f"cannot import ({exc}); use tracker=none")]
    key = os.environ.get("WANDB_API_KEY")
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    logged_in = bool(key) or (netrc.exists() and "api.wandb.ai" in netrc.read_text(errors="ignore"))
    mode = os.environ.get("WANDB_MODE", "offline (the default here)")
    if logged_in:
        return [Check("wandb", OK, f"logged in; mode {mode}")]
    return [
        Check(
            "wandb", OK, f"not logged in: runs log offline (fine; `wandb login` for tracker.mode=online); mode {mode}"
        )
    ]


def check_wandb_room() -> list[Check]:
    """W&B's own directories under a home directory with little room: a table's runs would fill its quota."""
    try:
        cramped = cramped_home_directories()  # asks W&B where its directories are
    except Exception:  # W&B not importable: check_wandb says so
        return []
    if not cramped:
        return [Check("wandb dirs", OK, "W&B's cache, data and artifact directories have room (or are not in $HOME)")]
    where = "; ".join(f"{var}={room.path} ({room.describe()})" for var, room in cramped.items())
    return [
        Check(
            "wandb dirs",
            WARN,
            f"under your home directory with little room: {where}. A table of hundreds of runs adds W&B files "
            "there; export those variables to a scratch or project directory (docs/wandb.md, Files per run).",
        )
    ]


def check_slurm(require: bool) -> list[Check]:
    sinfo = shutil.which("sinfo")
    if sinfo is None:
        return [Check("slurm", FAIL if require else WARN, "sinfo not found: --executor slurm will not work here")]
    try:
        out = subprocess.run([sinfo, "-h", "-o", "%P %a %D"], capture_output=True, text=True, timeout=SINFO_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return [
            Check(
                "slurm",
                FAIL if require else WARN,
                f"sinfo did not answer in {SINFO_TIMEOUT_S} s: the controller is unreachable",
            )
        ]
    if out.returncode != 0:
        return [
            Check(
                "slurm",
                FAIL if require else WARN,
                "sinfo failed: " + " / ".join(line.strip() for line in out.stderr.splitlines() if line.strip())[:300],
            )
        ]
    partitions = [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
    return [Check("slurm", OK, f"reachable; partitions: {', '.join(partitions) or 'none'}")]


def check_data(root: str | None) -> list[Check]:
    """What of CIFAR-10, CIFAR-100 and CIFAR-N the data root holds; what is missing, with the command that fetches
    it. No CIFAR at all fails (a CIFAR run cannot start); a data set missing beside another is a warning."""
    if root is None:
        return [Check("data", OK, f"digits is embedded; CIFAR: `{fetch_command(NAMES, 'DIR')}`, then --data-root DIR")]
    path = Path(root).expanduser()
    absent = missing(path) if path.is_dir() else list(NAMES)
    fetch = f"fetch it: {fetch_command(absent, path)}"
    if not path.is_dir():
        return [Check("data", FAIL, f"{path} is not a directory; {fetch}")]
    found = [name for name in NAMES if name not in absent]
    if not set(found) & set(CIFAR):
        expected = " or ".join(folder for name in CIFAR for folder in lands_as(name))
        return [Check("data", FAIL, f"no CIFAR in {path}: expected {expected} (torchvision layout); {fetch}")]
    if absent:
        return [Check("data", WARN, f"{path}: {', '.join(found)}; missing {', '.join(absent)}: {fetch}")]
    return [Check("data", OK, f"{path}: {', '.join(found)}")]


def run_checks(args: argparse.Namespace) -> list[Check]:
    return [
        *check_torch(),
        *check_torchvision(),
        *check_cuda(args.require_gpu),
        *check_wandb(),
        *check_wandb_room(),
        *check_slurm(args.require_slurm),
        *check_data(args.data_root),
    ]


def run(args: argparse.Namespace) -> int:
    checks = run_checks(args)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{c.state:4}  {c.name:<{width}}  {c.detail}")
    failed = [c.name for c in checks if c.state == FAIL]
    print("not ready: " + ", ".join(failed) if failed else "ready")
    return 1 if failed else 0
