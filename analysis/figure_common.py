"""What the figures share: run selection (analysis/figure_select.py: the paper's runs, or --where), the run's data
and class names, the caption saying which runs a figure drew, and the matplotlib helpers (headless Agg, PNG)."""

from __future__ import annotations

import functools
import io
import json
import textwrap
from typing import Any, Callable, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.collect import DONE  # noqa: E402
from analysis.figure_select import RunGroup, config_label, select_group  # noqa: E402
from repro.errors import UserError  # noqa: E402
from repro.rundir import RunDir  # noqa: E402

# Keys of metrics.jsonl rows (repro/recording.py): the share of noisy training samples whose learned label has the
# true class as its top-1 / among its top-5.
NOISE_TOP1_KEY = "noisy_top1_corrected"
NOISE_TOP5_KEY = "noisy_top5_corrected"
COLORS = ("tab:blue", "tab:orange", "tab:green")
DPI = 120


class Skip(Exception):
    """A figure (or panel) has no suitable runs; the message says why."""


# ------------------------------------------------------------------------------------------------ run selection


def pick_group(frame: pd.DataFrame, *, labels: str, noisy: bool | None, name: str | None = None,
               where: Mapping[str, str] | None = None) -> RunGroup:
    """The runs figure part `name` draws (analysis/figure_select.py) among done runs with `method.labels ==
    labels`, a recorded label trajectory, and label noise (noisy=True), none (False) or either (None). `name`
    defaults to the figure part these runs feed: figure2/class, figure2/instance, figure4 (noisy)."""
    name = name or ("figure4" if noisy else f"figure2/{labels}")
    done = frame[frame["state"] == DONE] if "method.labels" in frame else frame.iloc[0:0]
    candidates = done[done["method.labels"] == labels] if len(done) else done
    what = (f"finished {labels}-label runs" + {True: " with label noise", False: " without label noise",
                                                   None: ""}[noisy]
            + f" with a label trajectory (method={labels}_labels{', noise.fraction > 0' if noisy else ''})")

    def usable(rd: RunDir, config: dict) -> bool:
        return (rd.labels_dir / "manifest.json").exists() and (noisy is None or has_label_noise(config) == noisy)

    return select_group(frame, name, candidates, what=what, where=where, usable=usable)


def has_label_noise(config: dict) -> bool:
    """The noise model's own answer (annotators' labels are noise without a noise.fraction)."""
    from repro.data.noise import describes_noise

    try:
        return describes_noise(config.get("noise") or {})
    except UserError:
        return False


def group_label(config: dict) -> str:
    return config_label(config)


def caption(fig, groups: Mapping[str, RunGroup | None]) -> None:
    """Write under the figure which runs each part drew (and by which selection)."""
    lines = [f"{part}: {group.describe()}" for part, group in groups.items() if group is not None]
    if lines:
        fig.text(0.01, -0.01, "\n".join(textwrap.fill(line, 160, subsequent_indent="    ") for line in lines),
                 ha="left", va="top", fontsize=7, color="dimgray")


def announce(log: Callable[[str], Any], figure: str, groups: Mapping[str, RunGroup | None]) -> None:
    """Print which runs each part of a figure drew."""
    for part, group in groups.items():
        if group is not None:
            log(f"{figure} draws {part}: {group.describe()}")


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
