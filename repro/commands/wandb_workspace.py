"""`repro wandb workspace ENTITY/PROJECT`: a saved W&B workspace view of the project's runs, built with the
`wandb-workspaces` library: sections for accuracy, label trajectories, per-class accuracy, noise correction and
the runs' figures, every line panel on the epoch axis and grouped by method (mean and band over the group's runs).

`--print` writes the view's specification (JSON) instead of saving it: saving needs W&B online and a login.
The keys it charts are the ones repro/tracking/wandb_page.py logs.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from repro.errors import UserError
from repro.runs.io import atomic_write_text
from repro.tracking.wandb_run import split_project

NOISE = [
    "noise/noisy_top1_corrected",
    "noise/noisy_top5_corrected",
    "noise/noisy_top1_given",
    "noise/clean_top1_damaged",
    "noise/label_accuracy_top1",
]
LINESERIES = "wandb/lineseries/v0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="ENTITY/PROJECT", help="the W&B project the runs were logged to")
    parser.add_argument("--name", default="Soft labels: runs by method", help="the view's name")
    parser.add_argument(
        "--group-by",
        default="method.name",
        metavar="CONFIG_KEY",
        help="the config key runs are grouped by (default method.name; sweep.row groups by the sweep's rows)",
    )
    parser.add_argument(
        "--print",
        dest="print_spec",
        action="store_true",
        help="write the view's specification (JSON) instead of saving it (no network needed)",
    )
    parser.add_argument("--out", metavar="FILE", help="with --print: write the specification here, not to stdout")


def run(args: argparse.Namespace) -> int:
    entity, project = split_project(args.project)
    view = build_workspace(entity, project, name=args.name, group_by=args.group_by)
    if args.print_spec:
        text = json.dumps(workspace_spec(view), indent=2, sort_keys=True) + "\n"
        if args.out:
            atomic_write_text(Path(args.out), text)
            print(f"workspace specification -> {args.out}")
        else:
            sys.stdout.write(text)
        return 0
    try:
        view.save()
    except Exception as exc:  # the client raises many types (auth, network, unknown project)
        raise UserError(
            f"Could not save the W&B workspace to {args.project!r}: {type(exc).__name__}: {exc}. "
            "Saving needs W&B online and a login (`wandb login`) with access to that project; "
            "`--print` writes the view's specification without a network."
        ) from None
    print(f"workspace saved: {view.url}")
    return 0


def build_workspace(entity: str, project: str, *, name: str, group_by: str = "method.name") -> Any:
    """The view (a wandb_workspaces Workspace); nothing is sent anywhere."""
    wr, ws = _workspaces_library()
    sections = _sections(wr, ws)
    for section in sections:
        section.panel_settings = ws.SectionPanelSettings(x_axis="epoch")
    return ws.Workspace(
        entity=entity,
        project=project,
        name=name,
        sections=sections,
        settings=ws.WorkspaceSettings(x_axis="epoch"),
        runset_settings=ws.RunsetSettings(groupby=[ws.Config(group_by)]),
    )


def _workspaces_library() -> tuple[Any, Any]:
    """wandb_workspaces' reports and workspaces modules, or what to install where it is missing."""
    try:
        with warnings.catch_warnings():  # the library's own pydantic-v1-style validators
            warnings.simplefilter("ignore", DeprecationWarning)
            import wandb_workspaces.reports.v2 as wr  # deferred: an optional dependency, heavy
            import wandb_workspaces.workspaces as ws  # deferred: as above
    except ImportError as exc:
        raise UserError(
            f"`repro wandb workspace` needs the wandb-workspaces package ({exc}); install it with "
            "`pip install -c requirements/constraints.txt -e '.[wandb]'`."
        ) from None
    return wr, ws


def _sections(wr: Any, ws: Any) -> list[Any]:
    """The view's sections: accuracy, label trajectories, per-class accuracy, noise correction, the run's figures."""

    def lines(title: str, y: list[str] | None = None, regex: str | None = None) -> Any:
        extra = {"metric_regex": regex} if regex else {"y": y}
        return wr.LinePlot(title=title, x="epoch", groupby_aggfunc="mean", groupby_rangefunc="stddev", **extra)

    def chart(key: str, title: str) -> Any:
        custom = wr.CustomChart.from_table(
            f"{key}_table",
            chart_fields={"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"},
            chart_strings={"title": title, "xname": "epoch"},
        )
        custom.chart_name = LINESERIES
        return custom

    return [
        ws.Section(
            name="Accuracy",
            is_open=True,
            panels=[
                lines("Meta-set (validation) accuracy", ["accuracy/val"]),
                lines("Test accuracy", ["accuracy/test"]),
                lines("Training accuracy", ["accuracy/train"]),
                lines("Training loss", ["loss/train"]),
                wr.ScalarChart(title="Final test accuracy", metric="summary/final_test_acc", groupby_aggfunc="mean"),
            ],
        ),
        ws.Section(
            name="Label trajectories",
            is_open=True,
            panels=[
                lines("Class labels: target probability", regex="labels/class_target_prob/.*"),
                lines("Tracked samples: given / true class probability", regex="labels/instance_.*"),
                lines("Label entropy", ["labels/entropy_mean"]),
                chart("charts/class_target_prob", "Class labels: target probability (every class)"),
                chart("charts/tracked_instance_labels", "Tracked samples: given and true class"),
            ],
        ),
        ws.Section(
            name="Per-class accuracy",
            is_open=True,
            panels=[
                lines("Meta-set accuracy per class", regex="meta_acc_class/.*"),
                lines("Test accuracy per class", regex="test_acc_class/.*"),
                chart("charts/meta_acc_per_class", "Meta-set accuracy per class (one run)"),
            ],
        ),
        ws.Section(
            name="Noise correction",
            is_open=True,
            panels=[
                lines("Noise correction", NOISE),
                chart("charts/noise_correction", "Noise correction (one run)"),
            ],
        ),
        ws.Section(
            name="Figures",
            panels=[
                wr.MediaBrowser(title="The run's figures", media_keys=["figures/figure2", "figures/figure4"]),
            ],
        ),
    ]


def workspace_spec(view: Any) -> dict:
    """The view as W&B stores it (the library's internal model), as plain JSON."""
    return json.loads(view._to_model().model_dump_json(by_alias=True, exclude_none=True))
