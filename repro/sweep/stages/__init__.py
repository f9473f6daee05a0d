"""The sweep protocol's stages, one folder each: tune/ (grid and successive halving), gate/ (the baseline gate),
teachers/ (a student's teacher runs), out_of_sample/ (cross-validation fold runs), tune_from/ (a cell at another
cell's tuned point), estimated_t/, learn/, until_decided/, budget_cap/.

`BUILT_IN` is the one list of them (repro/sweep/protocol/registry.py reads it by this package's name, importing no
stage until it is asked for): key -> "module:Class". Order matters: the sweep asks them in it (status prints their
reports in it; the first that plans a cell's runs plans them, and the teacher stage, asked before learn, refuses a
student that would learn labels)."""

BUILT_IN: dict[str, str] = {
    "tune": "repro.sweep.stages.tune.stage:TuneStage",
    "teacher": "repro.sweep.stages.teachers.stage:TeacherStage",
    "out_of_sample": "repro.sweep.stages.out_of_sample.stage:OutOfSampleStage",
    "gate": "repro.sweep.stages.gate.stage:GateStage",
    "estimated_t": "repro.sweep.stages.estimated_t.stage:EstimatedTStage",  # after the gate: it holds what is left
    "learn": "repro.sweep.stages.learn.stage:LearnStage",
    # last: its further seeds are planned as every other stage plans a seed, and held after the others decided
    "until_decided": "repro.sweep.stages.until_decided.stage:UntilDecidedStage",
    # after every stage that holds or releases runs: it prices what they let go against `--max-gpu-hours`
    "budget_cap": "repro.sweep.stages.budget_cap.stage:BudgetCapStage",
}
