"""Figure of the label-noise methods (Tables 6-7): how each treats noisy and clean training samples over the
epochs, from finished runs' metrics.jsonl. One PNG, `figure_noise_methods.png`, five panels and a legend of runs:

- reweighting (l2rw, mwnet): mean weight of noisy vs clean samples (`weight_mean_noisy`, `weight_mean_clean`);
- reweighting: the noisy samples' share of the batch weight (`weight_share_noisy`);
- co-teaching: the noisy share of the selected small-loss samples (`selected_noisy_share`);
- data parameters: mean instance temperature of noisy vs clean samples (`temperature_mean_noisy`, `..._clean`);
- instance labels: share of noisy samples whose learned label's top-1 is the true class (`noisy_top1_corrected`).

Runs are picked as Figures 2-4 pick them (analysis/figures/select.py): the setting is the paper's selection of the
nearest paper figure (Figure 4: CIFAR-100, WRN-28-10, 40% uniform noise) or `--where` over it; finished runs of each
method with label noise in that setting, grouped by config up to the seed; the group with the most seeds is drawn
(mean, band = std over seeds; a tie is an error naming the candidates). With no --where and no run of the paper's
setting (the digits demo), the same without data and model; failing that, the (data, model, noise fraction)
setting that most methods share, so the panels compare like with like. A method without runs gets a note in its
panel; the figure is skipped only when no method has any.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from analysis.collect import DONE, collect_runs, require_runs
from analysis.figures.figure import Chosen, FigureRuns, Log
from analysis.figures.select import (
    DATA_MODEL,
    PAPER,
    SelectionError,
    _Config,
    _filter,
    describe_candidates,
    is_ours_noisy,
    longest,
)
from repro.figures.common import Skip, plt, png_bytes
from repro.runs.io import atomic_write_bytes
from repro.runs.rundir import RunDir, result_config

NAME = "figure_noise_methods"
METHOD_COLORS = {
    "l2rw": "tab:blue",
    "mwnet": "tab:orange",
    "coteaching": "tab:green",
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
        ("l2rw", "mwnet"),
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


def candidate_groups(frame: pd.DataFrame, method: str) -> list[MethodRuns]:
    """Every configuration (up to the seed) of finished `method` runs with label noise (tuning-stage runs only when
    the method has no other: as analysis/figures/select.py does)."""
    if "method.name" not in frame or frame.empty:
        return []
    done = frame[(frame["state"] == DONE) & (frame["method.name"] == method)]
    if "sweep.stage" in done:  # a tuned row's tuning runs (one per grid point) draw only when nothing else does
        reported = done[done["sweep.stage"].map(lambda v: str(v) != "tune")]
        done = reported if len(reported) else done
    groups: dict[str, MethodRuns] = {}
    for path in done["path"]:
        rd = RunDir(Path(path))
        config = rd.read_config()
        if setting_of(config)[2] <= 0:
            continue
        key = json.dumps({k: v for k, v in result_config(config).items() if k != "seed"}, sort_keys=True, default=str)
        groups.setdefault(key, MethodRuns(method, [], config)).runs.append(rd)
    for group in groups.values():
        group.runs.sort(key=lambda rd: rd.run_id)
    return sorted(
        groups.values(),
        key=lambda g: (
            -len(g.runs),
            -int(g.config["optim"]["epochs"]),
            json.dumps(result_config(g.config), sort_keys=True, default=str),
        ),
    )


def pick_runs(
    frame: pd.DataFrame, where: Mapping[str, str] | None = None
) -> tuple[dict[str, MethodRuns], tuple[str, str, float] | None]:
    """{method: its group} and the common setting. The setting is the paper's selection of this figure (CIFAR-100,
    WRN-28-10, 40% uniform noise: analysis/figures/select.py), `where` over it, or, with no --where and no run of
    that setting, the same without data and model; failing those, the setting most methods have runs in (ties:
    more runs). Within the setting each method draws its configuration with the most seeds (then, on the same data and
    model, the most epochs: analysis/figure_select.longest); a tie is an error."""
    paper = PAPER[NAME]
    if where:
        tries = [{**paper, **where}]
    else:
        tries = [paper, {k: v for k, v in paper.items() if k not in DATA_MODEL}]
    for selection in tries:
        chosen = _filter(frame, selection) if not frame.empty else frame
        candidates = {m: candidate_groups(chosen, m) for m in METHOD_COLORS}
        if any(candidates.values()):
            picked = {}
            for method, groups in candidates.items():
                if not groups:
                    continue
                ours = [g for g in groups if method == "instance_labels" and is_ours_noisy(g.config)]
                groups = ours or groups  # instance labels: the noisy tables' "Ours", as Figure 4 draws it
                top = longest([g for g in groups if len(g.runs) == len(groups[0].runs)], lambda g: g.config)
                if len(top) > 1:
                    raise SelectionError(
                        f"{NAME}: the selection {' '.join(f'{k}={v}' for k, v in selection.items())} matches "
                        f"{len(top)} configurations of finished {method} runs with {len(top[0].runs)} seed(s) each, "
                        "and the figure draws one per method: "
                        f"{describe_candidates([_as_config(g) for g in top])}. Pick one with `repro figures "
                        "--where key=value ...`."
                    )
                picked[method] = groups[0]
            settings = [g.setting for g in picked.values()]
            return picked, max(set(settings), key=settings.count)
    if where:
        every = [_as_config(g) for m in METHOD_COLORS for g in candidate_groups(frame, m)]
        if not every:
            return {}, None  # no label-noise runs at all: the figure is skipped, whatever the selection
        raise SelectionError(
            f"{NAME}: no finished label-noise method run matches --where "
            f"{' '.join(f'{k}={v}' for k, v in where.items())} (over the paper's "
            f"{' '.join(f'{k}={v}' for k, v in paper.items())}). The candidates: "
            f"{describe_candidates(every, always=list({**paper, **where}))}. Change --where, or lift "
            "one of the paper's keys with key=*."
        )
    candidates = {m: candidate_groups(frame, m) for m in METHOD_COLORS}
    coverage: dict[tuple[str, str, float], tuple[int, int]] = {}
    for groups in candidates.values():
        for setting in {g.setting for g in groups}:
            n_methods, n_runs = coverage.get(setting, (0, 0))
            coverage[setting] = (n_methods + 1, n_runs + sum(len(g.runs) for g in groups if g.setting == setting))
    if not coverage:
        return {}, None
    common = min(coverage, key=lambda s: (-coverage[s][0], -coverage[s][1], s))
    picked = {}
    for method, groups in candidates.items():
        if groups:
            preferred = [g for g in groups if g.setting == common]
            picked[method] = (preferred or groups)[0]
    return picked, common


def _as_config(group: MethodRuns) -> _Config:
    return _Config([(int(rd.read_config().get("seed", 0)), rd, group.config) for rd in group.runs])


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


def build_figure_noise_methods(
    frame: pd.DataFrame, log: Callable[[str], Any] = print, where: Mapping[str, str] | None = None
) -> bytes:
    """The figure's PNG bytes; the builder signature of analysis.figures.make.FIGURES."""
    picked, common = pick_runs(frame, where)
    if not picked:
        raise Skip(f"no finished runs of {', '.join(METHOD_COLORS)} with label noise (noise.fraction > 0).")
    for method in METHOD_COLORS:
        if method not in picked:
            log(f"{NAME}: no finished {method} runs with label noise; its panel says so.")
    for method, group in picked.items():
        log(
            f"{NAME} draws {method}: {setting_label(group.setting)} [{len(group.runs)} seed(s): "
            f"{', '.join(rd.run_id for rd in group.runs[:3])}{' ...' if len(group.runs) > 3 else ''}]"
        )
    return render(picked, common)


def choose(runs: FigureRuns) -> Chosen:
    """Each method's runs (one configuration per method) in the common setting."""
    picked, common = pick_runs(runs.frame, runs.where)
    if not picked:
        raise Skip(f"no finished runs of {', '.join(METHOD_COLORS)} with label noise (noise.fraction > 0).")
    return Chosen({m: [rd.run_id for rd in g.runs] for m, g in picked.items()}, (picked, common))


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


def make_noise_figure(output_root: str | Path, *, out_dir: str | Path, log: Callable[[str], Any] = print) -> Path:
    """Write `<out_dir>/figure_noise_methods.png` from the runs under `output_root` (standalone use)."""
    frame = collect_runs(output_root)
    require_runs(frame, f"{Path(output_root) / 'runs'}")
    return atomic_write_bytes(Path(out_dir) / f"{NAME}.png", build_figure_noise_methods(frame, log))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")
