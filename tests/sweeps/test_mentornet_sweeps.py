"""MentorNet's rows in the sweep files: every student run depends on the mentor run of its own seed (planned from the
mentor sweep file through `teacher:`), names it in method.mentor, and trains in the recipe its paper numbers come
from: Table 6's in setting A (Meta-Weight-Net's script, the peers'), Table 7's in MentorNet's own (optim=mentornet);
the CIFAR-100 columns use the mentor learned on CIFAR-10. The digits and MNIST-1D versions learn theirs on a noisy run
of their own data at 20%."""

from __future__ import annotations

import pytest

from repo_paths import REPO
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep

SWEEPS = REPO / "sweeps"
CASES = {  # sweep file: (MentorNet rows -> curriculum, the mentor's data set and noise fraction)
    "table6.yaml": ({"MentorNet": "dd"}, ("cifar10", 0.2)),
    "table7.yaml": ({"MentorNet PD": "pd", "MentorNet DD": "dd"}, ("cifar10", 0.2)),
    "demo/table6.yaml": ({"MentorNet": "dd"}, ("digits", 0.2)),
    "demo/table7.yaml": ({"MentorNet PD": "pd", "MentorNet DD": "dd"}, ("digits", 0.2)),
    "mnist1d/table6.yaml": ({"MentorNet": "dd"}, ("mnist1d", 0.2)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_mentornet_student_depends_on_its_seeds_mentor_run(name):
    rows, (mentor_data, mentor_noise) = CASES[name]
    spec = load_sweep(SWEEPS / name)
    runs = expand_sweep(spec.select(rows=list(rows)), output_root="out")
    mentors = {r.run_id: r for r in runs if r.stage == "teacher"}
    students = [r for r in runs if r.stage == "single"]
    assert len(students) == sum(len(spec.row_columns(row)) for row in rows) * len(spec.seeds)
    assert len(mentors) == len(spec.seeds)  # one mentor run per seed, shared by every column and row
    for mentor in mentors.values():
        c = mentor.config
        assert c["method"]["name"] == "mentornet_mentor" and c["data"]["name"] == mentor_data
        assert (c["noise"]["kind"], c["noise"]["fraction"]) == ("uniform", mentor_noise)
    for run in students:
        (mentor_id,) = run.depends_on
        assert run.config["method"]["mentor"] == mentor_id and mentors[mentor_id].seed == run.seed
        assert run.config["method"]["name"] == "mentornet"
        assert run.config["method"]["curriculum"] == rows[run.row]


def test_the_cifar_rows_train_in_the_recipe_their_numbers_come_from():
    t6 = expand_sweep(load_sweep(SWEEPS / "table6.yaml").select(rows=["MentorNet"]), output_root="out")
    for run in (r for r in t6 if r.stage == "single"):  # setting A, as Meta-Weight-Net's peers
        o = run.config["optim"]
        assert (o["iterations"], o["milestone_iterations"], run.config["data"]["batch_size"]) == (
            20000,
            [18000, 19000],
            100,
        )
    assert {r.column.split("/")[0] for r in t6 if r.stage == "single"} == {"CIFAR10", "CIFAR100"}
    t7 = expand_sweep(
        load_sweep(SWEEPS / "table7.yaml").select(rows=["MentorNet PD", "MentorNet DD"]), output_root="out"
    )
    for run in t7:  # MentorNet's own CIFAR script, the mentor run's StudentNet too
        o = run.config["optim"]
        assert (o["lr"], o["momentum"], o["nesterov"], o["weight_decay"]) == (0.1, 0.9, False, 2e-4)
        assert (o["iterations"], o["milestone_iterations"], run.config["data"]["batch_size"]) == (
            39000,
            [19533, 25002, 30002],
            128,
        )
        assert run.config["model"]["name"] == "wrn28_10"
    assert {r.config["data"]["name"] for r in t7 if r.stage == "single"} == {"cifar100"}
    assert {r.config["noise"]["kind"] for r in t7 if r.stage == "single"} == {"exact_fraction"}  # the table's noise
