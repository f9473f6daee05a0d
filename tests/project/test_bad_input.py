"""The bad-input corpus (tests/bad_input_cases.py) run case by case: each must exit non-zero (2: bad input) with a
one-paragraph `error: ...`, no traceback, and leave every file that existed byte-identical (the whole tmp tree is
hashed before and after); and what `repro tables` and a refused data load do with what they find broken.
"""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from bad_input_cases import RUN_CASES, TRAIN, run_dir
from bad_input_commands import COMMAND_CASES, GOOD_SWEEP
from loopback_mirror import Mirror, serving
from presets import QUIET
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir

CASES = [*RUN_CASES, *COMMAND_CASES]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Iterator[Mirror]:
    """A loopback server of the session's temporary folders: `{mirror}` is its URL of a case's `{tmp}/mirror/`."""
    with serving(tmp_path_factory.getbasetemp()) as server:
        yield server


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bad-input-base")
    assert main([*TRAIN[:-1], f"output_root={base / 'out'}"]) == 0
    assert run_dir(base).is_done()  # where every case's {run} says it is
    return base


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.slow
def test_bad_input_is_refused_cleanly_and_changes_nothing(
    case, finished_run, mirror, tmp_path_factory, tmp_path, capsys, monkeypatch
):
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    if case.setup:
        case.setup(tmp_path)
    rid = run_dir(tmp_path).run_id

    served = f"{mirror.url}/{tmp_path.relative_to(tmp_path_factory.getbasetemp()).as_posix()}/mirror"

    def filled(a: str) -> str:
        a = a.replace("{mirror}", served).replace("{tmp}", str(tmp_path)).replace("{out}", str(tmp_path / "out"))
        return a.replace("RUN", rid)

    argv = [filled(a) for a in case.argv]
    before = tree_hashes(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == case.code, err
    assert err.startswith("error: ") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err  # one paragraph
    assert filled(case.says) in err, err
    after = tree_hashes(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, "a file that existed was changed or removed"
    assert not (tmp_path / "pwned").exists()


@pytest.mark.slow
def test_tables_list_runs_with_corrupted_records_as_broken_and_go_on(tmp_path, capsys):
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "table1.yaml").write_text(
        textwrap.dedent(GOOD_SWEEP)
        .replace("name: tiny", "name: table1\ntable: 1")
        .replace("seeds: [0]", "seeds: [0, 1, 2]")
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "sweep",
                str(tmp_path / "sweeps" / "table1.yaml"),
                "--output-root",
                str(out),
                "--epochs",
                "1",
                "--subset",
                "300",
                "--test-subset",
                "100",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 3
    (runs[1] / "summary.json").write_text('{"final_test_acc": ')
    (runs[2] / "metrics.jsonl").write_text('{"epoch": 1}\n{oops\n')
    capsys.readouterr()
    assert (
        main(
            [
                "tables",
                "--runs",
                str(out),
                "--sweeps-dir",
                str(tmp_path / "sweeps"),
                "--tables",
                "1",
                "--out",
                str(tmp_path / "tables"),
            ]
        )
        == 0
    )
    table = (tmp_path / "tables" / "table1.md").read_text()
    for broken in runs[1:]:
        assert f"`{broken.name}`" in table and "unreadable" in table, table
    assert table.count(": unreadable: ") == 2 and f"`{runs[0].name}`" not in table  # the good one is averaged


def test_a_refused_data_load_leaves_no_new_directory_and_keeps_what_was_there(tmp_path, capsys):
    """A UserError raised while the run's data loads (data.root exists but holds no CIFAR-10) comes after the run
    directory was made: the attempt removes what it created (the output root, runs/, runs/<id>/) and nothing else."""
    data_root, out = tmp_path / "no cifar here", tmp_path / "out"
    data_root.mkdir()
    argv = ["train", "data=cifar10", "model=resnet18", f"data.root={data_root}", f"output_root={out}"]
    argv += [*QUIET]

    def tree() -> list[str]:
        return sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))

    assert main(argv) == 2
    assert "CIFAR-10 not found" in capsys.readouterr().err
    assert tree() == ["no cifar here"]
    run = RunDir.for_config(to_container(load_config(argv[1:])))
    run.path.mkdir(parents=True)  # an empty run directory from before, and another run's file beside it
    (out / "runs" / "other").write_text("kept")
    before = tree()
    assert main(argv) == 2
    assert tree() == before and (out / "runs" / "other").read_text() == "kept"
