"""The end of a run on W&B, in one place: what the tracker does once the run is done (`end_run`), step by step, and
the artifacts it logs. In order:

1. the summary fields, as `summary/<field>` (what `repro tables --wandb` reads): a call the page needs, so a
   failure turns W&B off for the run;
2. the end-of-run charts and figures, built from the whole history and the run's label files (wandb_charts.py);
3. the inputs' lineage: the artifacts of the runs this run read (a replay final's fold runs' label trajectories, a
   student's teacher model or label source), declared as its inputs;
4. its own artifacts: `labels-<run_id>` (the labels/ directory, its manifest as metadata) and `model-<run_id>` (a
   reference to checkpoint.pt, or the file itself with tracker.log_checkpoint=true).

Steps 2-4 are extras: a failure warns and the next step goes on. The run directory has all of it either way.

Lineage offline: the SDK refuses `use_artifact` offline, so a run declares an input by logging a draft artifact
built from the producer run's files with `use_after_commit` (what `use_artifact(draft)` does online): the same
files give the same digest, so on `wandb sync` W&B finds the producer's version and draws the edge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from repro.labels.fold_runs import finished_fold_runs
from repro.labels.trajectory import read_manifest
from repro.methods import METHODS, method_class
from repro.runs.rundir import RunDir
from repro.tracking.wandb_charts import end_charts, end_images
from repro.tracking.wandb_page import PageContext

__all__ = ["end_run", "input_artifacts", "label_artifact", "model_artifact", "use_artifact"]


class EndingTracker(Protocol):
    """What the end of a run needs of its tracker (repro/tracking/tracker.py: WandbTracker)."""

    wandb: Any  # the wandb module
    session: Any  # the run's WandbSession
    page: PageContext | None  # the page's context, None when its set-up failed
    config: Mapping[str, Any]
    settings: Mapping[str, Any]
    run_dir: Path

    def guard(self, what: str, fn: Callable[..., Any], *args: Any) -> None: ...

    def soft(self, what: str, fn: Callable[..., Any], *args: Any) -> None: ...


def end_run(tracker: EndingTracker, history: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
    """The run is done: its summary, charts and figures, its inputs' lineage and its artifacts (module docstring)."""
    wandb, session, page = tracker.wandb, tracker.session, tracker.page
    final = {f"summary/{k}": v for k, v in summary.items() if isinstance(v, (int, float, str, bool))}
    tracker.guard("summary", session.summary, final)
    if page is not None:
        # no explicit step: a run resumed after its last epoch has that step committed already (W&B would drop the
        # row); `epoch` is carried over by the step metric's sync
        tracker.soft("charts", session.log, "charts", lambda: end_charts(wandb, history, page), None)
        figures = Path(tracker.run_dir) / "figures"
        images = lambda: {k: wandb.Image(str(p)) for k, p in end_images(page, history, figures).items()}  # noqa: E731
        tracker.soft("figures", session.log, "figures", images, None)
    offline = not session.online
    inputs = lambda run: [use_artifact(run, a, offline=offline) for a in input_artifacts(wandb, tracker.config)]  # noqa: E731
    tracker.soft("input artifacts", session.call, "input artifacts", inputs)
    rd = RunDir(Path(tracker.run_dir))
    tracker.soft("label artifact", session.call, "label artifact", lambda run: _log(run, label_artifact(wandb, rd)))
    upload = bool(tracker.settings.get("log_checkpoint"))
    model = lambda run: _log(run, model_artifact(wandb, rd, upload=upload))  # noqa: E731
    tracker.soft("model artifact", session.call, "model artifact", model)


def _log(run: Any, artifact: Any) -> None:
    if artifact is not None:
        run.log_artifact(artifact)


def label_artifact(wandb: Any, run_dir: Any) -> Any | None:
    """The run's label trajectory (labels/), with its manifest as metadata; None when the run records none."""
    labels_dir = Path(run_dir.labels_dir)
    if not (labels_dir / "manifest.json").exists():
        return None
    art = wandb.Artifact(
        f"labels-{run_dir.run_id}",
        type="label-trajectory",
        metadata={**read_manifest(run_dir), "run_id": run_dir.run_id},
    )
    for path in sorted(p for p in labels_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        art.add_file(str(path), name=path.relative_to(labels_dir).as_posix(), policy="immutable")  # add_dir prints
    return art


def model_artifact(wandb: Any, run_dir: Any, *, upload: bool) -> Any | None:
    """The final checkpoint: uploaded with tracker.log_checkpoint=true, else a reference to the file (its path and
    checksum, nothing uploaded), which is enough for W&B to draw teacher -> student."""
    path = Path(run_dir.checkpoint_file).resolve()
    if not path.exists():
        return None
    art = wandb.Artifact(f"model-{run_dir.run_id}", type="model", metadata={"run_id": run_dir.run_id})
    if upload:
        art.add_file(str(path), name="checkpoint.pt", policy="immutable")
    else:
        art.add_reference(path.as_uri(), name="checkpoint.pt")
    return art


def input_artifacts(wandb: Any, config: Mapping[str, Any]) -> list[Any]:
    """Drafts of the artifacts this run reads: a replay final its fold runs' label trajectories, a student its
    teacher's model or its label source's trajectory (a replay source: its fold runs'), built as the producer run
    built them."""
    method = config["method"]["name"]
    if method == "replay":
        return _fold_label_artifacts(wandb, config)
    cls = method_class(method) if method in METHODS else None
    option = cls.declaration.source_option if cls is not None and cls.declaration is not None else None
    if not option or not config["method"].get(option):
        return []  # reads no other run (loss correction with a known or given T names no estimator)
    source: RunDir = cls.source_run(config)
    upload = bool(((source.read_config() or {}).get("tracker") or {}).get("log_checkpoint"))
    if method != "distillation":
        source_config = source.read_config() or {}
        if source_config.get("method", {}).get("name") == "replay":  # its labels: its folds' averaged trajectory
            return _fold_label_artifacts(wandb, {**source_config, "output_root": str(source.path.parent.parent)})
        art = label_artifact(wandb, source)
        if art is not None:
            return [art]
    art = model_artifact(wandb, source, upload=upload)
    return [art] if art is not None else []


def _fold_label_artifacts(wandb: Any, replay_config: Mapping[str, Any]) -> list[Any]:
    return [a for rd in finished_fold_runs(replay_config) if (a := label_artifact(wandb, rd)) is not None]


def use_artifact(run: Any, artifact: Any, *, offline: bool) -> None:
    """Declare `artifact` (a draft) an input of `run`, online and offline alike (module docstring)."""
    if not offline:
        run.use_artifact(artifact)
        return
    run._log_artifact(artifact, aliases=[], is_user_created=True, use_after_commit=True)
