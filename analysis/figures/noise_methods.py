"""Figure of the label-noise methods (Tables 6-7): how each treats noisy and clean training samples over the
epochs, from finished runs' metrics.jsonl. One PNG, `figure_noise_methods.png`, five panels and a legend of runs:

- reweighting (l2rw, mwnet, and MentorNet's mentor-weighted loss): mean weight of noisy vs clean samples
  (`weight_mean_noisy`, `weight_mean_clean`);
- reweighting: the noisy samples' share of the batch weight (`weight_share_noisy`);
- co-teaching: the noisy share of the selected small-loss samples (`selected_noisy_share`);
- data parameters: mean instance temperature of noisy vs clean samples (`temperature_mean_noisy`, `..._clean`);
- instance labels: share of noisy samples whose learned label's top-1 is the true class (`noisy_top1_corrected`).

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Each method draws its row of Table 6 (the
label-noise methods beside instance labels, setting A) in Figure 4's column, CIFAR-100 at 40% noise (`CELLS`), as
analysis/figures/select.py picks a cell's runs: `--where` moves every method to the same other column, the digits
demo (no CIFAR column) draws its one column. Mean and band = std over seeds; a method without runs gets a note in
its panel; the figure is skipped only when no method has any.
"""

from __future__ import annotations

import textwrap
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from analysis.figures.noise_correction import NOISY_OURS
from analysis.figures.select import select_group
from analysis.figures.where import NoMatch
from repro.figures.common import Skip, plt, png_bytes
from repro.runs.rundir import RunDir

NAME = "figure_noise_methods"
COLUMNS = NOISY_OURS.columns  # Figure 4's setting, the paper's figure nearest this one
CELLS = {
    "l2rw": Cells(6, ("L2RW",), COLUMNS),
    "mwnet": Cells(6, ("MWNet",), COLUMNS),
    "coteaching": Cells(6, ("Co-teaching",), COLUMNS),
    "mentornet": Cells(6, ("MentorNet",), COLUMNS),  # Table 6's row: the data-driven mentor
    "data_parameters": Cells(6, ("Data Parameters",), COLUMNS),  # the digits demo's Table 6 has the row
    "instance_labels": NOISY_OURS,
}
METHOD_COLORS = {
    "l2rw": "tab:blue",
    "mwnet": "tab:orange",
    "coteaching": "tab:green",
    "mentornet": "tab:brown",
    "data_parameters": "tab:red",
    "instance_labels": "tab:purple",
}


@dataclass(frozen=True)
class Panel:
    title: str
    methods: tuple[str, ...]
    series: tuple[tuple[str, str], ...]  # (metrics key, label: noisy | clean | "")
    ylabel: str
    data_share: bool = False  # draw the noisy share of the training labels (what uniform weighting would give)


PANELS = (
    Panel(
        "Reweighting: mean sample weight",
        ("l2rw", "mwnet", "mentornet"),
        (("weight_mean_noisy", "noisy"), ("weight_mean_clean", "clean")),
        "mean weight",
    ),
    Panel(
        "Reweighting: noisy share of the batch weight",
        ("l2rw", "mwnet"),
        (("weight_share_noisy", ""),),
        "share of the weight",
        data_share=True,
    ),
    Panel(
        "Co-teaching: noisy share of the selected samples",
        ("coteaching",),
        (("selected_noisy_share", ""),),
        "share of the selected",
        data_share=True,
    ),
    Panel(
        "Data parameters: mean instance temperature",
        ("data_parameters",),
        (("temperature_mean_noisy", "noisy"), ("temperature_mean_clean", "clean")),
        "temperature sigma",
    ),
    Panel(
        "Instance labels: noisy samples corrected (top-1)",
        ("instance_labels",),
        (("noisy_top1_corrected", ""),),
        "share of noisy samples",
    ),
)
LINESTYLES = {"noisy": "-", "clean": "--", "": "-"}


@dataclass
class MethodRuns:
    """Finished runs of one method's configuration that differ only in their seed."""

    method: str
    runs: list[RunDir]
    config: dict

    @property
    def setting(self) -> tuple[str, str, float]:
        return setting_of(self.config)

    def curve(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(epochs, mean, std) of a metrics key over the seeds; None when no run logged it."""
        rows = [rd.read_metrics() for rd in self.runs]
        values = [np.array([_number(r.get(key)) for r in run_rows], float) for run_rows in rows if run_rows]
        if not values:
            return None
        epochs = min(len(v) for v in values)
        stack = np.stack([v[:epochs] for v in values])
        if epochs == 0 or np.isnan(stack).all():
            return None
        with warnings.catch_warnings():  # an epoch where every seed logged NaN: "mean of empty slice"
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(stack, axis=0)
            std = np.nanstd(stack, axis=0, ddof=1) if len(values) > 1 else np.zeros(epochs)
        return np.arange(1, epochs + 1), mean, np.nan_to_num(std)


def setting_of(config: dict) -> tuple[str, str, float]:
    return (
        str(config["data"]["name"]),
        str(config["model"]["name"]),
        float((config.get("noise") or {}).get("fraction") or 0.0),
    )


def setting_label(setting: tuple[str, str, float]) -> str:
    return f"{setting[0]}, {setting[1]}, {setting[2]:.0%} noise"


def render(picked: dict[str, MethodRuns], common: tuple[str, str, float] | None) -> bytes:
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    for ax, panel in zip(axes.flat, PANELS):
        _draw_panel(ax, panel, picked, common)
    _draw_run_list(axes.flat[-1], picked, common)
    title = "How the label-noise methods treat noisy and clean training samples"
    fig.suptitle(title + (f" ({setting_label(common)})" if common else ""), fontsize=13)
    fig.tight_layout()
    return png_bytes(fig)


def _draw_panel(ax, panel: Panel, picked: dict[str, MethodRuns], common) -> None:
    missing, drawn, shares = [], 0, set()
    for method in panel.methods:
        group = picked.get(method)
        if group is None:
            missing.append(f"no finished {method} runs with label noise (method={method}, noise.fraction > 0)")
            continue
        where = "" if group.setting == common else f" [{setting_label(group.setting)}]"
        lacking = []
        for key, part in panel.series:
            curve = group.curve(key)
            if curve is None:
                lacking.append(key)
                continue
            epochs, mean, std = curve
            label = " ".join(filter(None, (method, part))) + where
            color = METHOD_COLORS[method]
            ax.plot(
                epochs,
                mean,
                LINESTYLES[part],
                color=color,
                label=label,
                marker="o" if len(epochs) < 20 else None,
                markersize=3,
            )
            ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.15)
            drawn += 1
        if lacking:
            missing.append(f"{method} runs logged no {', '.join(lacking)}")
        if panel.data_share:
            classes = int(group.config["data"].get("num_classes") or 0)
            fraction = group.setting[2]
            shares.add(fraction * (classes - 1) / classes if classes else fraction)
    for share in sorted(shares):
        ax.axhline(share, color="gray", linestyle=":", linewidth=1, label=f"noisy share of the labels ({share:.2f})")
    ax.set_title(panel.title, fontsize=10)
    if not drawn:
        ax.set_xticks([]), ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            textwrap.fill("; ".join(missing) + ".", 45),
            ha="center",
            va="center",
            fontsize=8,
            transform=ax.transAxes,
        )
        return
    if missing:
        ax.text(
            0.01,
            0.01,
            textwrap.fill("; ".join(missing), 60),
            transform=ax.transAxes,
            fontsize=6.5,
            va="bottom",
            color="dimgray",
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel=panel.ylabel)
    ax.legend(fontsize=7)


def _draw_run_list(ax, picked: dict[str, MethodRuns], common) -> None:
    ax.axis("off")
    lines = ["Runs drawn (mean over seeds, band: std):"]
    for method in METHOD_COLORS:
        group = picked.get(method)
        if group is None:
            lines.append(f"- {method}: none")
            continue
        ids = ", ".join(rd.run_id.rsplit("-", 1)[-1] for rd in group.runs[:4]) + (" ..." if len(group.runs) > 4 else "")
        lines.append(
            f"- {method}: {len(group.runs)} seed(s), {group.config['optim']['epochs']} epochs"
            + ("" if group.setting == common else f", {setting_label(group.setting)}")
            + f" ({ids})"
        )
    ax.text(
        0,
        1,
        "\n".join(textwrap.fill(line, 60, subsequent_indent="  ") for line in lines),
        va="top",
        fontsize=8,
        family="monospace",
        transform=ax.transAxes,
    )


def choose(runs: FigureRuns) -> Chosen:
    """Each method's runs (one cell per method: CELLS) and the setting most of them share."""
    picked: dict[str, MethodRuns] = {}
    unmatched: list[NoMatch] = []
    for method, cells in CELLS.items():
        what = f"finished {method} runs with label noise (method={method}, noise.fraction > 0)"
        try:
            group = select_group(runs, f"{NAME}/{method}", cells, what=what, usable=_noisy)
        except Skip:
            continue
        except NoMatch as exc:  # --where leaves this method without runs: its panel says so, unless all are
            unmatched.append(exc)
            continue
        picked[method] = MethodRuns(method, group.runs, group.config)
    if not picked and unmatched:
        raise unmatched[0]
    if not picked:
        raise Skip(f"no finished runs of {', '.join(METHOD_COLORS)} with label noise (noise.fraction > 0).")
    settings = [g.setting for g in picked.values()]
    common = max(sorted(set(settings)), key=settings.count)
    return Chosen({m: [rd.run_id for rd in g.runs] for m, g in picked.items()}, (picked, common))


def _noisy(rd: RunDir, config: dict) -> bool:
    return setting_of(config)[2] > 0


def draw(chosen: Chosen, log: Log) -> bytes:
    picked, common = chosen.data
    for method in METHOD_COLORS:
        if method not in picked:
            log(f"{NAME}: no finished {method} runs with label noise; its panel says so.")
    for method, group in picked.items():
        log(
            f"{NAME} draws {method}: {setting_label(group.setting)} [{len(group.runs)} seed(s): "
            f"{', '.join(rd.run_id for rd in group.runs[:3])}{' ...' if len(group.runs) > 3 else ''}]"
        )
    return render(picked, common)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")
