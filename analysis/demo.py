"""`repro demo`: the paper's main comparisons (Tables 1-6, Figures 2-4 and the distillation-targets figure) scaled
down to the embedded digits data and the small CNN (Tables 4-5: a tiny CNN student of the Table 1/2 teachers), run
through the same sweep machinery as the full tables (sweeps/demo/tableN.yaml, local executor, up to --jobs runs at
once), so that two cores finish in about five and a half minutes, install included (docs/demo.md, "Timing"), and a
second call only regenerates the outputs."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd
import torch

from analysis.cells import index_runs
from analysis.collect import collect_runs
from analysis.demo_summary import print_summary
from analysis.sweeps import PlannedRun, Scale, SweepIndexes, SweepSpec, check_jobs, load_specs, run_locally
from analysis.tables.annotators import write_annotator_table
from analysis.tables.build import make_tables
from analysis.tables.paper import available_tables
from repro.checkout import bundled
from repro.errors import UserError

DEMO_SWEEPS = bundled("sweeps") / "demo"
# `repro demo --mnist1d`: the paper's Tables 1, 2, 3 and 6 on MNIST-1D, 5 seeds, below the ceiling digits reach
# (docs/mnist1d.md); no figures (Figures 2-4 draw the digits demo's runs).
MNIST1D_SWEEPS = DEMO_SWEEPS.parent / "mnist1d"
DEFAULT_OUTPUT_ROOT = "outputs/demo"
FIGURES = ("figure2", "figure3", "figure4", "figure_noise_methods", "figure_targets")
# `repro demo --extra`: the suite's own comparisons beyond the paper (not paper tables), after the paper's: label
# smoothing vs loss correction vs learned labels under label noise, and distillation from noisy teachers.
# And learned labels against SIMULATED annotators (table 15; annotators.md and the two annotator figures),
# and teachers' smoothing under noise (table 16, Lukasik et al.).
# Table 7 (setting B's noise model) joins them there too: `make demo` keeps to Tables 1-6, whose time the README quotes.
EXTRA_TABLES = (7, 12, 13, 15, 16)
# Rows of the paper's tables that only `repro demo --extra` runs, so that `make demo` fits five and a half minutes
# on a 2-core machine, install included (docs/demo.md, "Timing"): rows no claim of its ledger reads, while every row
# a claim compares runs (Table 6's MentorNet with its 3 mentor runs, sweeps/demo/mentornet.yaml). Table 6's "no
# curriculum" row is the curriculum ablation (no figure draws it either); its data parameters are judged by Table 7's
# claim (`--extra`), where the noise-methods figure draws their temperatures; Online Label Smoothing (Tables 1-2) is
# not in the paper.
EXTRA_ROWS = {
    1: ("Online Label Smoothing",),
    2: ("Online Label Smoothing",),
    6: ("Ours (Instance labels, no curriculum)", "Data Parameters"),
}
# `repro demo --mnist1d` keeps the set docs/mnist1d.md measured (145 runs): its MentorNet row only with --extra.
MNIST1D_EXTRA_ROWS = {6: ("MentorNet",)}
EXTRA_FIGURES = (
    "figure_smoothing_noise",
    "figure_memorisation",
    "figure_teacher_smoothing",
    "figure_annotator_entropy",
    "figure_annotator_roc",
)
# Every demo run: no progress bar (the sweep prints a line per run) and, unless --wandb, no W&B: it adds ~0.5-1.7 s
# per run (and ~7-10 s once per process; benchmarks/wandb_startup.py). Neither is part of a run's id.
RUN_OVERRIDES = ("progress=none",)
NO_WANDB = ("tracker=none",)
# One torch thread per run, whatever --jobs is: the small CNN on 8x8 images is too small to gain from more (on the
# 2-core development machine one thread was faster than two), and the same thread count in every run keeps the
# demo's numbers the same with any --jobs.
TORCH_THREADS = 1


@dataclass(frozen=True)
class DemoSize:
    """How much of each demo sweep to run: a scale per table (absent: the sweep file's own epochs, all the data) and
    the first `seeds` seeds (None: all)."""

    name: str
    scales: Mapping[int, Scale] = field(default_factory=dict)
    seeds: int | None = None

    def scale(self, table: int) -> Scale | None:
        return self.scales.get(table)


def demo_size(quick: bool) -> DemoSize:
    if not quick:
        return DemoSize("full")
    # For tests: one seed (tuning too), a small stratified subset of train and test, four epochs. The noisy table
    # keeps its 30 epochs (on 300 samples they take seconds): a noisy label is corrected only after many label
    # updates, and Figure 3 needs corrected ones.
    # (`tune_seeds`: the tuning stage's option, repro/sweep/stages/tune/tune_spec.py, that keeps its first N seeds)
    supervised = Scale(epochs=4, subset=300, test_subset=150, stage_options={"tune_seeds": 1})
    noisy = Scale(subset=300, test_subset=150, stage_options={"tune_seeds": 1})
    # Tables 4-5 must use Tables 1-2's scale: their teachers are those runs.
    return DemoSize(
        "quick",
        {
            1: supervised,
            2: supervised,
            3: supervised,
            4: supervised,
            5: supervised,
            6: noisy,
            7: noisy,
            12: supervised,
            13: supervised,
            15: noisy,
            16: supervised,
        },
        seeds=1,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "Runs sweeps/demo/table{1,...,6}.yaml on this machine, up to --jobs runs at once (done runs\n"
        "are skipped, so running it again only regenerates the outputs), then writes\n"
        "<output-root>/tables/tableN.md (+ .csv) and <output-root>/figures/figureN.png and prints a\n"
        "summary. docs/demo.md says what it compares, how to read it and how long it takes."
    )
    parser.add_argument(
        "--output-root",
        default=DEFAULT_OUTPUT_ROOT,
        help=f"where runs, tables and figures go (default: {DEFAULT_OUTPUT_ROOT})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a much smaller demo (1 seed, tuning too, 300 training samples, 4 epochs) to check the pipeline "
        "in about half a minute; "
        "its runs are different runs from the full demo's",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="train up to N runs at once, each in its own process (default: one per core available "
        "to this process); the results are the same with any N",
    )
    parser.add_argument(
        "--extra",
        action="store_true",
        help="also run Table 6's no-curriculum and data parameters rows, Tables 1-2's Online Label Smoothing, "
        "Table 7 (setting B's noise model, "
        "sweeps/demo/table7.yaml) and the comparisons beyond the paper (sweeps/demo/table12.yaml, table13.yaml, "
        "table16.yaml: label smoothing, loss correction, distillation and teachers' smoothing under label noise) "
        "and their figures",
    )
    parser.add_argument(
        "--mnist1d",
        action="store_true",
        help="run sweeps/mnist1d/ instead: Tables 1, 2, 3 and 6 on MNIST-1D with 5 seeds, 145 runs (about 10 "
        "minutes on two idle cores; docs/mnist1d.md), whose accuracies sit below the ceiling digits reach",
    )
    parser.add_argument(
        "--wandb",
        action="store_true",
        help="also log every run to W&B (offline unless WANDB_MODE=online); adds ~0.5-1.7 s per run",
    )


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    jobs = check_jobs(args.jobs)
    torch.set_num_threads(TORCH_THREADS)
    output_root = checked_output_root(args.output_root)
    size = demo_size(args.quick)
    extra = list(RUN_OVERRIDES) + ([] if args.wandb else list(NO_WANDB))
    with_extra = bool(getattr(args, "extra", False))
    mnist1d = bool(getattr(args, "mnist1d", False))
    specs = demo_specs(size, extra=with_extra, sweeps_dir=MNIST1D_SWEEPS if mnist1d else DEMO_SWEEPS)
    trained, failed, planned = run_demo_sweeps(specs, output_root, size, extra, jobs=jobs)
    runs = collect_runs(output_root)
    # each sweep file expanded once: the tables, figures and ledger read the results indexes of the runs it planned
    indexes = demo_indexes(specs, planned, index_runs(runs), output_root, size, extra)
    tables = write_tables(specs, output_root, runs, indexes)
    expected = () if mnist1d else FIGURES + (EXTRA_FIGURES if with_extra else ())
    figures = write_figures(output_root, expected, indexes) if expected else {}
    print_summary(
        tables,
        figures,
        trained=trained,
        failed=failed,
        size=size.name,
        seconds=time.perf_counter() - started,
        names=expected,
        data="MNIST-1D" if mnist1d else "digits",
    )
    # the summary ends with the paper's claims in these runs
    from analysis.ledger.write import ledger_from_root  # deferred: matplotlib (the ledger's figure)

    scales = {number: size.scale(number) for number in specs}
    ledger_from_root(
        output_root, specs, out_dir=output_root / "tables", scales=scales, extra_overrides=extra, indexes=indexes
    )
    missing = [name for name in expected if figures.get(name) is None]
    if failed or missing:
        print(
            f"The demo is incomplete ({len(set(failed))} run(s) failed or skipped, figures not written: "
            f"{', '.join(missing) or 'none'}). Run the same command again: it resumes what did not finish."
        )
        return 1
    return 0


def checked_output_root(path: str) -> Path:
    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UserError(
            f"--output-root {path} is a file; the demo needs a directory for its runs, tables and "
            "figures. Pass another path, e.g. --output-root outputs/demo."
        )
    return root


def demo_specs(size: DemoSize, *, extra: bool = False, sweeps_dir: Path = DEMO_SWEEPS) -> dict[int, SweepSpec]:
    """{table number: its demo sweep} of `sweeps_dir` (the digits demo's, or MNIST1D_SWEEPS), restricted to the demo
    size's seeds: the paper's tables (numbers below 10) without EXTRA_ROWS (MNIST1D_EXTRA_ROWS), and with `extra`
    those rows and EXTRA_TABLES too."""

    if not sweeps_dir.is_dir():
        raise UserError(
            f"The demo's sweep files are not at {sweeps_dir}. `repro demo` runs from a checkout of the "
            "repository installed with `pip install -e .` (what `make demo` does); reinstall that way."
        )

    # The paper's tables; our own (sweeps/demo/table10.yaml, the curriculum ablation, run by hand) stay out, and
    # the suite's own comparisons (EXTRA_TABLES) join only with --extra.
    specs = {
        n: spec
        for n, spec in load_specs(sweeps_dir).items()
        if (n in available_tables() and n not in EXTRA_TABLES) or (extra and n in EXTRA_TABLES)
    }
    if not extra:
        rows = MNIST1D_EXTRA_ROWS if sweeps_dir == MNIST1D_SWEEPS else EXTRA_ROWS
        specs = {n: _without_rows(spec, rows.get(n, ())) for n, spec in specs.items()}
    if size.seeds is not None:
        specs = {n: spec.select(seeds=spec.seeds[: size.seeds]) for n, spec in specs.items()}
    return specs


def _without_rows(spec: SweepSpec, rows: tuple[str, ...]) -> SweepSpec:
    """The sweep without the rows only --extra runs (EXTRA_ROWS; rows the file lacks change nothing)."""
    extra_rows = set(rows) & set(spec.rows)
    return spec.select(rows=[row for row in spec.rows if row not in extra_rows]) if extra_rows else spec


def run_demo_sweeps(
    specs: dict[int, SweepSpec], output_root: Path, size: DemoSize, extra: list[str], jobs: int | None = 1
) -> tuple[list[str], list[str], dict[int, list[PlannedRun]]]:
    """Plan every demo sweep, then train what they miss here, up to `jobs` runs at once (None: one per core), each
    run after the runs it depends on (tables share runs: each is trained once). Returns the run ids trained by this
    call, those that failed or were skipped, and each table's planned runs."""

    sweeps = [
        (spec, size.scale(number), extra, f"\n== Table {number}: {spec.path.name} ==") for number, spec in specs.items()
    ]
    trained, failed, planned = run_locally(
        sweeps, output_root=output_root, jobs=check_jobs(jobs), threads=TORCH_THREADS, report=_print
    )
    return trained, failed, dict(zip(specs, planned))


def demo_indexes(
    specs: dict[int, SweepSpec],
    planned: dict[int, list[PlannedRun]],
    records: dict[str, dict],
    output_root: Path,
    size: DemoSize,
    extra: list[str],
) -> SweepIndexes:
    """The results indexes the demo's tables, figures and ledger read: its sweeps' as they planned them (`planned`,
    at the demo's scale), and the other sweep files of its directory (a figure asks for a table the demo did not run:
    it says why it has no runs) as their last `repro sweep` into the output root ran them."""
    sweeps_dir = next(iter(specs.values())).path.parent if specs else DEMO_SWEEPS
    every = {**load_specs(sweeps_dir), **specs}
    options = {number: (size.scale(number), extra) for number in specs}
    return SweepIndexes(every, records, output_root, options=options, planned=planned, where=str(sweeps_dir))


def _print(line: str) -> None:
    print(line, flush=True)


def write_tables(
    specs: dict[int, SweepSpec], output_root: Path, runs: pd.DataFrame, indexes: SweepIndexes
) -> list[Path]:
    """The demo's Tables 1-6 beside the paper's numbers: <output_root>/tables/tableN.md and .csv."""
    print("\n== Tables ==", flush=True)
    written: list[Path] = []
    for number in specs:  # one call per table: each has its own scale
        written += make_tables(
            runs,
            {number: specs[number]},
            out_dir=output_root / "tables",
            output_root=output_root,
            source=str(output_root / "runs"),
            indexes=indexes,
        )
    annotators = write_annotator_table(runs, output_root / "tables", source=str(output_root / "runs"))
    return written + ([annotators] if annotators is not None else [])


def write_figures(
    output_root: Path, names: tuple[str, ...] = FIGURES, indexes: SweepIndexes | None = None
) -> dict[str, Path | None]:
    """The demo's figures from its runs: Figures 2-4, the noise methods' and the distillation targets' (with
    --extra also EXTRA_FIGURES), <output_root>/figures/<name>.png (None: skipped, the reason is printed). Only
    `names`: a figure of a table the demo did not run (Table 12's without --extra) would expand that table's
    sweep file only to be skipped. `indexes`: the demo's sweeps' results indexes."""
    from analysis.figures.make import make_figures  # deferred: matplotlib (the figures)

    print("\n== Figures ==", flush=True)
    return make_figures(
        output_root, out_dir=output_root / "figures", sweeps_dir=DEMO_SWEEPS, only=names, indexes=indexes
    )
