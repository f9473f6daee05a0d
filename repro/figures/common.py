"""What the per-run figures share, in the core so that the W&B page draws a run's own Figure 2 / 4 panels
(repro/tracking/wandb_charts.py) without the reporting package: headless matplotlib (Agg) and PNG bytes, a group of
runs and its caption, the run's data and class names, and `Skip` (a figure or panel without suitable runs).
analysis/ builds the paper's figures over many runs from the same pieces (analysis/figures/common.py)."""

from __future__ import annotations

import functools
import io
import json
import textwrap
from dataclasses import dataclass
from typing import Any, Mapping

import matplotlib
from omegaconf import OmegaConf

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.image import imsave  # noqa: E402

from repro.errors import UserError  # noqa: E402
from repro.labels.trajectory import recorded_epochs
from repro.runs.rundir import RunDir  # noqa: E402

# Keys of metrics.jsonl rows (repro/labels/recording.py): the share of noisy training samples whose learned label
# has the true class as its top-1 / among its top-5.
NOISE_TOP1_KEY = "noisy_top1_corrected"
NOISE_TOP5_KEY = "noisy_top5_corrected"
COLORS = ("tab:blue", "tab:orange", "tab:green")
DPI = 120


class Skip(Exception):
    """A figure (or panel) has no suitable runs; the message says why."""


@dataclass
class RunGroup:
    """Finished runs of one configuration that differ only in their seed, and how they were chosen."""

    runs: list[RunDir]
    config: dict
    how: str = ""  # e.g. "the paper's selection (data.name=cifar100, model.name=resnet18)"
    others: int = 0  # configurations that matched but ranked lower

    def describe(self) -> str:
        seeds = ", ".join(str(rd.read_config().get("seed", "?")) for rd in self.runs)
        ids = ", ".join(rd.run_id for rd in self.runs[:3]) + (" ..." if len(self.runs) > 3 else "")
        more = f"; {self.others} other configuration(s) also matched, ranked lower" if self.others else ""
        return f"{config_label(self.config)} [seeds {seeds}: {ids}] by {self.how}{more}"


def config_label(config: Mapping[str, Any]) -> str:
    data, model = config["data"]["name"], config["model"]["name"]
    noise = float((config.get("noise") or {}).get("fraction") or 0.0)
    return f"{data}, {model}" + (f", {noise:.0%} noise" if noise else "")


def group_label(config: dict) -> str:
    return config_label(config)


def caption(fig, groups: Mapping[str, RunGroup | None]) -> None:
    """Write under the figure which runs each part drew (and by which selection)."""
    lines = [f"{part}: {group.describe()}" for part, group in groups.items() if group is not None]
    if lines:
        fig.text(
            0.01,
            -0.01,
            "\n".join(textwrap.fill(line, 160, subsequent_indent="    ") for line in lines),
            ha="left",
            va="top",
            fontsize=7,
            color="dimgray",
        )


# ------------------------------------------------------------------------------------------------ data access


def run_data(config: dict):
    """The run's data exactly as it trained on it (subset, split, noise): images, given and true targets."""
    return _run_data(json.dumps(config, sort_keys=True, default=str))


@functools.lru_cache(maxsize=4)
def _run_data(config_json: str):
    from repro.training.run_data import (
        load_run_data,
    )  # deferred: torch is heavy; a figure drawn from records needs none

    return load_run_data(OmegaConf.create(json.loads(config_json)))


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
    from repro.data.datasets import load_dataset  # deferred: torch is heavy; a figure drawn from records needs none

    return tuple(load_dataset(name, root)[0].classes)


def last_recorded_epoch(rd: RunDir) -> int:
    return recorded_epochs(rd)


def metrics_rows(rd: RunDir) -> list[dict]:
    return rd.read_metrics()


def try_run_data(config: dict):
    try:
        return run_data(config)
    except UserError:
        return None  # e.g. CIFAR not available here: the figure is drawn without images


def sample_image(data, index: int) -> np.ndarray | None:
    if data is None:
        return None
    img = data.train.images[index].numpy()
    return img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0))


def show_image(ax, image: np.ndarray | None) -> None:
    ax.axis("off")
    if image is None:
        ax.text(0.5, 0.5, "(image not\navailable)", ha="center", va="center", fontsize=7)
    else:
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")


def note(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, textwrap.fill(text, 40), ha="center", va="center", fontsize=9)


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes at the figures' DPI, tight around its contents; the figure is closed (every figure
    builder ends here)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def drawn_png_bytes(fig) -> bytes:
    """What `png_bytes` makes of a figure created at DPI whose layout is done, drawn once: the canvas the layout
    measured its texts on draws it, and the image is cut to the tight box (with savefig's padding). savefig's
    "tight" draws it twice more on fresh renderers, each measuring every text again, which is most of a tall
    figure's cost (the ledger's). The contents sit within half a pixel of where `png_bytes` puts them; the figure
    is closed."""
    if fig.dpi != DPI:
        raise ValueError(f"the figure is at {fig.dpi} dpi; create it at dpi=DPI ({DPI}), the dpi it is drawn at")
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    drawn = np.asarray(fig.canvas.buffer_rgba())
    width, height = (int(size * DPI + 1e-8) for size in box.size)  # as savefig sizes its cut canvas
    left, top = round(box.x0 * DPI), round(drawn.shape[0] - height - box.y0 * DPI)  # pixel rows run top down
    image = np.empty((height, width, 4), dtype=np.uint8)
    image[...] = np.round(np.asarray(to_rgba(fig.get_facecolor())) * 255)  # the margin outside
    rows = slice(max(top, 0), min(top + height, drawn.shape[0]))
    cols = slice(max(left, 0), min(left + width, drawn.shape[1]))
    image[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left] = drawn[rows, cols]
    buf = io.BytesIO()
    imsave(buf, memoryview(image), format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()
