"""What the figures share: run selection (the configuration with the most finished seeds), the run's data and class
names, and the matplotlib helpers (headless Agg backend, PNG bytes)."""

from __future__ import annotations

import functools
import io
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.collect import DONE  # noqa: E402
from repro.errors import UserError  # noqa: E402
from repro.rundir import RunDir, result_config  # noqa: E402

# Keys of metrics.jsonl rows (repro/recording.py): the share of noisy training samples whose learned label has the
# true class as its top-1 / among its top-5.
NOISE_TOP1_KEY = "noisy_top1_corrected"
NOISE_TOP5_KEY = "noisy_top5_corrected"
COLORS = ("tab:blue", "tab:orange", "tab:green")
DPI = 120


class Skip(Exception):
    """A figure (or panel) has no suitable runs; the message says why."""


# ------------------------------------------------------------------------------------------------ run selection


@dataclass
class RunGroup:
    """Finished runs of one configuration that differ only in their seed."""

    runs: list[RunDir]
    config: dict


def pick_group(frame: pd.DataFrame, *, labels: str, noisy: bool | None) -> RunGroup:
    """The configuration with the most finished seeds among done runs with `method.labels == labels`, a recorded
    label trajectory, and label noise (noisy=True), none (False) or either (None)."""
    done = frame[frame["state"] == DONE] if "method.labels" in frame else frame.iloc[0:0]
    candidates = done[done["method.labels"] == labels] if len(done) else done
    what = f"{labels}-label runs" + {True: " with label noise", False: " without label noise", None: ""}[noisy]
    groups: dict[str, list[tuple[int, RunDir, dict]]] = {}
    for path in candidates["path"]:
        rd = RunDir(Path(path))
        if not (rd.labels_dir / "manifest.json").exists():
            continue
        config = rd.read_config()
        fraction = float((config.get("noise") or {}).get("fraction") or 0.0)
        if noisy is not None and (fraction > 0) != noisy:
            continue
        key_cfg = {k: v for k, v in result_config(config).items() if k != "seed"}
        key = json.dumps(key_cfg, sort_keys=True, default=str)
        groups.setdefault(key, []).append((int(config.get("seed", 0)), rd, config))
    if not groups:
        raise Skip(f"no finished {what} with a label trajectory (method={labels}_labels"
                   f"{', noise.fraction > 0' if noisy else ''}).")
    key = min(groups, key=lambda k: (-len(groups[k]), -int(groups[k][0][2]["optim"]["epochs"]), k))
    members = sorted(groups[key], key=lambda m: (m[0], m[1].run_id))
    return RunGroup([m[1] for m in members], members[0][2])


def group_label(config: dict) -> str:
    data, model = config["data"]["name"], config["model"]["name"]
    noise = float((config.get("noise") or {}).get("fraction") or 0.0)
    return f"{data}, {model}" + (f", {noise:.0%} noise" if noise else "")


# ------------------------------------------------------------------------------------------------ data access


def run_data(config: dict):
    """The run's data exactly as it trained on it (subset, split, noise): images, given and true targets."""
    return _run_data(json.dumps(config, sort_keys=True, default=str))


@functools.lru_cache(maxsize=4)
def _run_data(config_json: str):
    from omegaconf import OmegaConf

    from repro.experiment import load_run_data

    data, _, _ = load_run_data(OmegaConf.create(json.loads(config_json)))
    return data


def class_names(config: dict, num_classes: int) -> list[str]:
    """The data set's class names (e.g. CIFAR-100's), or "class c" when the data cannot be loaded here."""
    try:
        names = _class_names(str(config["data"]["name"]), config["data"].get("root"))
        if len(names) == num_classes:
            return list(names)
    except UserError:
        pass
    return [f"class {c}" for c in range(num_classes)]


@functools.lru_cache(maxsize=4)
def _class_names(name: str, root: str | None) -> tuple[str, ...]:
    from repro.data import load_dataset

    return tuple(load_dataset(name, root)[0].classes)


def _epochs(rd: RunDir) -> int:
    from repro.trajectory import recorded_epochs

    return recorded_epochs(rd)


def _rows(rd: RunDir) -> list[dict]:
    return rd.read_metrics()


def _try_run_data(config: dict):
    try:
        return run_data(config)
    except UserError:
        return None  # e.g. CIFAR not available here: the figure is drawn without images


def _image(data, index: int) -> np.ndarray | None:
    if data is None:
        return None
    img = data.train.images[index].numpy()
    return img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0))


def _show_image(ax, image: np.ndarray | None) -> None:
    ax.axis("off")
    if image is None:
        ax.text(0.5, 0.5, "(image not\navailable)", ha="center", va="center", fontsize=7)
    else:
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")


def _note(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, textwrap.fill(text, 40), ha="center", va="center", fontsize=9)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
