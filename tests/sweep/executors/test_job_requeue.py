"""A SLURM job requeued on preemption marks its run interrupted (repro/sweep/executors/job.py, `record_requeue`): the
run its planned config trains, which for a successive-halving rung's job is the grid run it trains part of
(`PlannedRun.part_of`), never a directory named after the job."""

from __future__ import annotations

from halving_sweep import write_halving_sweep
from repro.runs.rundir import RunDir
from repro.sweep.executors.job import TrainJob
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import sweep_dir, write_planned_configs
from repro.sweep.sweep_plan import plan_sweep


def test_a_requeued_rung_job_marks_the_run_it_trains(tmp_path):
    out = (tmp_path / "out").resolve()
    plan = plan_sweep(load_sweep(write_halving_sweep(tmp_path)), output_root=out, scale=Scale(epochs=4))
    job = next(r for r in plan.unique.values() if r.part_of)  # an earlier rung's job: `<run id>@rung<k>`
    assert job.run_id != job.part_of and job.run_dir_id == job.part_of
    configs = write_planned_configs(sweep_dir(out, plan.spec.name), [job])
    rd = RunDir(out / "runs" / job.part_of)
    rd.path.mkdir(parents=True)
    rd.write_status("running", epoch=1)
    TrainJob(job.run_id, configs[job.run_id], str(out)).record_requeue()
    assert rd.read_status()["state"] == "interrupted" and rd.read_status()["epoch"] == 1
    assert not (out / "runs" / job.run_id).exists()
