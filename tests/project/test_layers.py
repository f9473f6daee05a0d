"""Imports point down the layers that docs/architecture.md declares, and no two modules import each other, however
indirectly. Every import counts: module-level, inside functions and under `if TYPE_CHECKING:` (tests/import_graph.py
reads them from source with `ast`). The layer order is parsed from the doc itself, so doc and code cannot drift."""

from __future__ import annotations

from dataclasses import replace

from import_graph import REPO, find_cycles, import_graph, layer_of, module_files, read_layers


def _where(module: str, line: int) -> str:
    return f"{module_files()[module].relative_to(REPO)}:{line}"


def test_the_doc_declares_layers_in_order():
    layers = read_layers()
    names = [layer.name for layer in layers]
    assert len(layers) >= 10 and len(set(names)) == len(names), names
    assert names[0] == "errors" and "analysis" in names
    assert names.index("config") > names.index("methods") > names.index("labels")  # load_config checks the methods
    # the config's declarations sit below the data and the methods they never import (a noise node's and a
    # method's keys are Slots those layers fill), and every stage above the core that asks it
    assert layer_of("repro.conf.schema", layers) < layer_of("repro.data.noise", layers)
    assert layer_of("repro.methods.same_training", layers) < layer_of("repro.sweep.stages.tune.tuning", layers)
    stage = layer_of("repro.sweep.stages.tune.tuning", layers)
    core = ("spec.model", "sweep_file", "expand.expand", "plan", "start", "executors.job", "budget.costs")
    assert all(layer_of(f"repro.sweep.{m}", layers) < stage for m in core)
    # the benchmarks time and check everything below them, the reporting and the command line included
    top = max(layer_of(m, layers) for m in ("analysis.commands", "analysis.demo", "repro.cli"))
    assert layer_of("benchmarks", layers) == layer_of("benchmarks.chaos", layers) > top
    assert layer_of("repro.checkout", layers) == 0  # the checkout root: every layer may read its folders


SWEEP = "repro.sweep"
# sweep/'s sub-layers, ground first, each named by a module of it: the parsed file and the cluster profile, the plan,
# the protocol (what a stage is handed of a cell, protocol/cell.py, included), the core that asks it (the file's
# reading, the expansion with its overrides, a run's start, the budget), the executors, the stages, the
# orchestration (run_sweep, status, the command)
SWEEP_ORDER = (
    ("spec.model", "cluster_profile"),
    ("plan", "sweep_folder"),
    ("protocol.base", "protocol.registry", "protocol.cell"),
    ("sweep_file", "expand.expand", "expand.overrides", "expand.build", "start", "budget.packing"),
    ("executors.job", "executors.slurm.submit"),
    ("stages.tune.stage", "stages.gate.stage"),
    ("run", "status", "command"),
)
# folders of sweep/ that stand in one layer each: the parsed file under the protocol, the protocol under the core, the
# expansion and the stages over it, the budget under the executors (a folder split across layers is a plug-in folder
# the core reaches into, or a borrowed class: an import between two of its modules can point up)
ONE_LAYER = ("spec", "protocol", "expand", "stages", "budget", "executors")


def test_the_sweep_sub_layers_stand_in_order():
    layers = read_layers()
    order = [{layer_of(f"{SWEEP}.{m}", layers) for m in group} for group in SWEEP_ORDER]
    assert all(len(group) == 1 and None not in group for group in order), order
    assert [min(group) for group in order] == sorted(min(group) for group in order), order


def sweep_folders_across_layers(modules, layers) -> dict[str, list[str]]:
    """Each folder of sweep/ in ONE_LAYER whose modules stand in more than one layer -> those layers' names."""
    spread: dict[str, set[int]] = {}
    for module in modules:
        parts = module.split(".")
        if parts[:2] == SWEEP.split(".") and len(parts) > 2 and parts[2] in ONE_LAYER:
            spread.setdefault(parts[2], set()).add(layer_of(module, layers))
    return {f: sorted(layers[i].name for i in found) for f, found in spread.items() if len(found) > 1}


def test_each_sweep_folder_stands_in_one_layer():
    layers = read_layers()
    assert set(ONE_LAYER) <= {m.split(".")[2] for m in module_files() if m.startswith(SWEEP + ".")}
    assert not sweep_folders_across_layers(module_files(), layers)


def test_the_folder_check_sees_a_folder_split_across_layers():
    """The protocol inside the stages' folder (under the core and over it at once) is what the check refuses."""
    layers = read_layers()
    modules = ["repro.sweep.stages.tune.stage", "repro.sweep.stages.base"]
    assert sweep_folders_across_layers(modules, layers) == {}
    moved_in = [replace(x, patterns=("repro.sweep.stages.base",)) if x.name == "protocol" else x for x in layers]
    assert sweep_folders_across_layers(modules, moved_in) == {"stages": ["protocol", "stages"]}


def test_every_module_has_a_layer():
    layers = read_layers()
    unplaced = sorted(m for m in module_files() if layer_of(m, layers) is None)
    assert not unplaced, (
        f"modules in no layer of docs/architecture.md's '## Layers' block: {unplaced}; add each "
        "(or its folder, `repro.<folder>.*`) to the layer it belongs to"
    )


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (function-level and TYPE_CHECKING imports included): " + "; ".join(
        " <-> ".join(cycle) for cycle in cycles
    )


def test_imports_point_down_the_layers():
    layers = read_layers()
    upward = []
    for module, targets in sorted(import_graph().items()):
        here = layer_of(module, layers)
        for target, line in sorted(targets.items()):
            there = layer_of(target, layers)
            if here is not None and there is not None and there > here:
                upward.append(
                    f"{_where(module, line)}: {module} (layer {layers[here].name}) imports {target} "
                    f"(layer {layers[there].name}, above it)"
                )
    assert not upward, "imports against the layer order of docs/architecture.md:\n" + "\n".join(upward)


def test_the_core_never_imports_analysis():
    graph = import_graph()
    offending = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.split(".")[0] == "repro"
        for t in targets
        if t.split(".")[0] == "analysis"
    )
    assert not offending, offending


def test_the_graph_sees_function_level_and_type_checking_imports():
    """The reader must not miss the imports that hide cycles: one inside a function, one under TYPE_CHECKING."""
    graph = import_graph()
    assert "repro.training.experiment" in graph["repro.methods.base"]  # `if TYPE_CHECKING:` import
    assert "repro.labels.trajectory" in graph["repro.figures.figure2"]  # import inside class_panels()


def test_the_experiment_method_seam_is_an_import_the_graph_sees():
    """The experiment holds and calls its method and recorders through the training layer's protocols; the methods
    and recorders implement them, so the dependency points down and the graph sees it."""
    graph = import_graph()
    assert "repro.training.protocols" in graph["repro.training.experiment"]
    assert "repro.training.protocols" in graph["repro.methods.base"]
    assert "repro.training.protocols" in graph["repro.recorders.memorisation"]
    assert not any(t.startswith("repro.methods") for t in graph["repro.training.experiment"])


def test_the_training_loop_imports_no_sweep_stage():
    """`train()` trains one final config: what a sweep stage decides when a run starts (a tuned run's winner, a
    rung's epoch limit) is decided above it (repro/sweep/start.py) and handed in. The loop and
    repro/training/ import nothing of repro.sweep, however the import is written."""
    graph = import_graph()
    loop = sorted(m for m in graph if m == "repro.train" or m.split(".")[:2] == ["repro", "training"])
    offending = sorted(
        f"{m} -> {t}" for m in loop for t in graph[m] if t == "repro.sweep" or t.startswith("repro.sweep.")
    )
    assert "repro.train" in loop and "repro.training.experiment" in loop
    assert not offending, offending


STAGES = "repro.sweep.stages"


def stage_imports_outside_stages(graph: dict[str, dict[str, int]]) -> list[str]:
    """Imports of anything under repro/sweep/stages/ by a module of repro/ or analysis/ outside it: the core and the
    reporting know a stage only through the protocol and the registry (repro/sweep/protocol/; a planned run, the plan
    and the results index, repro/sweep/index.py, carry what a stage decided)."""
    return sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.split(".")[0] in ("repro", "analysis") and m != STAGES and not m.startswith(STAGES + ".")
        for t in targets
        if t == STAGES or t.startswith(STAGES + ".")
    )


REPORTING = ("analysis.tables", "analysis.figures", "analysis.ledger")  # what reads the results index


def reporting_imports_of_the_sweep(graph: dict[str, dict[str, int]]) -> list[str]:
    """Imports of the sweep package by the tables, figures and ledger other than its results index (they read
    their runs and what the stages decided from the index, through analysis/sweeps.py), and of the tables' builder
    by the ledger (it reads the cells from the index, not from whole tables)."""
    return sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if any(m == r or m.startswith(r + ".") for r in REPORTING)
        for t in targets
        if (t.startswith("repro.sweep") and t != "repro.sweep.index")
        or (m.startswith("analysis.ledger") and t == "analysis.tables.build")
    )


def test_no_module_outside_the_stages_imports_a_stage():
    offending = stage_imports_outside_stages(import_graph())
    assert not offending, (
        "modules of repro/ outside repro/sweep/stages/ that import a stage's package (ask the stages through "
        "repro/sweep/protocol/: base.py and registry.py, and read what a stage decided from the planned run): "
        + "; ".join(offending)
    )


def test_the_tables_figures_and_ledger_read_the_results_index_only():
    offending = reporting_imports_of_the_sweep(import_graph())
    assert not offending, "read the sweep's results index (repro/sweep/index.py): " + "; ".join(offending)


def test_the_reporting_check_sees_an_import_around_the_index():
    graph = {
        "analysis.tables.notes": {"repro.sweep.budget.costs": 3, "repro.sweep.index": 4},
        "analysis.ledger.build": {"analysis.tables.build": 5, "analysis.tables.paper": 6},
        "analysis.sweeps": {"repro.sweep.sweep_file": 7},
    }
    assert reporting_imports_of_the_sweep(graph) == [
        "analysis.ledger.build -> analysis.tables.build",
        "analysis.tables.notes -> repro.sweep.budget.costs",
    ]


def test_the_stage_check_sees_an_import_of_a_stage():
    """The check above fails on the import it forbids, however the module imports it."""
    graph = {
        "repro.sweep.plan": {"repro.sweep.stages.tune.halving": 3},
        "repro.sweep.run": {"repro.sweep.protocol.registry": 5, "repro.sweep.protocol.base": 6},
        "repro.sweep.status": {"repro.sweep.stages.registry": 8},  # the registry's old place
        "repro.sweep.stages.tune.stage": {"repro.sweep.stages.tune.tuning": 7},
        "analysis.cells": {"repro.sweep.stages.tune.tuning": 9},
    }
    assert stage_imports_outside_stages(graph) == [
        "analysis.cells -> repro.sweep.stages.tune.tuning",
        "repro.sweep.plan -> repro.sweep.stages.tune.halving",
        "repro.sweep.status -> repro.sweep.stages.registry",
    ]
