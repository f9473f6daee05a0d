"""The bad-input corpus: every case must exit non-zero (2: bad input) with a one-paragraph `error: ...`, no
traceback, and leave every file that existed byte-identical (the whole tmp tree is hashed before and after).

Add a case in one line: Case(name, argv, setup). In argv, {tmp} is the test's directory and {out} its output root
(`{tmp}/out`, which holds one finished tiny digits run, `{run}`, built once per session), and {mirror} the URL a
loopback server serves `{tmp}/mirror/` at (tests/loopback_mirror.py); `setup(tmp)` writes the bad file. Each case gets
its own copy of that tree.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import torch

from loopback_mirror import Mirror, serving
from presets import QUIET, TINY_BASELINE_SWEEP
from repo_paths import REPO
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir

RUN = [
    "data.subset=300",
    "data.test_subset=100",
    "optim.epochs=1",
    *QUIET,
    "method=class_labels",
    "split.folds=2",
]
GOOD_SWEEP = TINY_BASELINE_SWEEP  # one row: a run per seed

LEARNING_SWEEP = """
    name: table1
    table: 1
    metric: final_test_acc
    seeds: [0]
    common: [data.subset=300, data.test_subset=100, optim.epochs=1, split=full, split.folds=2]
    columns:
      Digits/SmallCNN: []
    rows:
      Ours (Class): {learn: [method=class_labels]}
"""


def write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    """A setup that writes `text` to {tmp}/rel ({run} names the run directory)."""

    def setup(tmp: Path) -> None:
        path = tmp / rel.replace("{run}", str(run_dir(tmp).path.relative_to(tmp)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode())

    return setup


def sweep(text: str) -> Callable[[Path], None]:
    return write("sweep.yaml", text)


def torch_file(rel: str, obj) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        path = tmp / rel.replace("{run}", str(run_dir(tmp).path.relative_to(tmp)))
        torch.save(obj, path)

    return setup


@functools.cache
def finished_run_under_tmp() -> Path:
    """Where the finished run lies under a case's {tmp}: the same for every case (the output root enters no run id),
    so composed once per process, not once or twice per case (a Hydra composition each, a fifth of a case's CPU)."""
    tmp = Path("/a-case-tmp")
    return RunDir.for_config(to_container(load_config([*RUN, f"output_root={tmp / 'out'}"]))).path.relative_to(tmp)


def run_dir(tmp: Path) -> RunDir:
    return RunDir(tmp / finished_run_under_tmp())


def unfinished(then: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """Make the finished run unfinished (no summary), so that `repro train` reads its checkpoint; then `then`."""

    def setup(tmp: Path) -> None:
        run_dir(tmp).summary_file.unlink()
        if then:
            then(tmp)

    return setup


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def other_dataset_checkpoint(tmp: Path) -> None:
    """The checkpoint of a 10-class run, its head reshaped as if it came from a 100-class data set."""
    rd = run_dir(tmp)
    state = torch.load(rd.checkpoint_file, weights_only=True)
    for key in list(state["model"]):
        if state["model"][key].shape[:1] == (10,):
            state["model"][key] = torch.zeros(100, *state["model"][key].shape[1:])
    torch.save(state, rd.checkpoint_file)


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    setup: Callable[[Path], None] | None = None
    code: int = 2
    says: str = ""  # a text the error must contain ({tmp}, {out} and RUN filled in as in argv)


TRAIN = ["train", *RUN, "output_root={out}"]
CLAIMS_HEADER = "table,name,kind,terms,paper_terms,where,margin,margin_reason,measure,says"
LEDGER = ["ledger", "--runs", "{out}", "--out", "{tmp}/ledger", "--sweeps-dir", str(REPO / "sweeps" / "demo")]
FETCH = ["data", "download", "--root", "{tmp}/data"]  # the files' published md5s: whatever a test serves differs
CASES = [
    Case("seed not an integer", [*TRAIN, "seed=abc"]),
    Case("seed negative", [*TRAIN, "seed=-1"]),
    Case("learning rate nan", [*TRAIN, "optim.lr=nan"]),
    Case("label learning rate inf", [*TRAIN, "method.label_lr=inf"]),
    Case("epochs a float", [*TRAIN, "optim.epochs=2.5"]),
    Case("batch size zero", [*TRAIN, "data.batch_size=0"]),
    Case("noise fraction out of range", [*TRAIN, "noise=uniform", "noise.fraction=1.5"]),
    Case("unknown noise model", [*TRAIN, "noise=uniform", "noise.kind=pairflip"]),
    Case("exact noise of under 2 samples", [*TRAIN, "split=noisy", "noise=exact_fraction", "noise.fraction=0.001"]),
    Case("iterations zero", [*TRAIN, "optim=setting_a", "optim.iterations=0"]),
    Case("milestone past the iterations", [*TRAIN, "optim=setting_a", "optim.milestone_iterations=[18000,25000]"]),
    Case("unknown co-teaching default rate", [*TRAIN, "method=coteaching", "method.default_forget_rate=guess"]),
    Case("momentum a string", [*TRAIN, "optim.momentum=fast"]),
    Case("milestone outside (0, 1)", [*TRAIN, "optim.schedule=multistep", "optim.milestones=[0.5,3]"]),
    Case("unknown schedule", [*TRAIN, "optim.schedule=linear"]),
    Case("unknown curriculum sign", [*TRAIN, "method=instance_labels", "method.curriculum_weight=rising"]),
    Case("unknown curriculum placement", [*TRAIN, "method=instance_labels", "method.curriculum_placement=meta"]),
    Case("look-ahead decay not a bool", [*TRAIN, "method.lookahead_weight_decay=0.5"]),
    Case("L2RW meta cost decay not a bool", [*TRAIN, "method=l2rw", "split=noisy", "method.meta_cost_weight_decay=2"]),
    Case(
        "replay fold runs' look-ahead not a bool",
        [*TRAIN, "method=replay", "split=full", "method.learn.lookahead_weight_decay=yes"],
    ),
    Case("fold past the folds", [*TRAIN, "split.fold=9"]),
    Case("unknown model", [*TRAIN, "model=nosuchnet"]),
    Case("unknown key", [*TRAIN, "nosuchkey=1"]),
    Case("unbalanced override", [*TRAIN, "optim.lr=[0.1"]),
    Case("missing CIFAR directory", [*TRAIN, "data=cifar10", "model=resnet18", "data.root={tmp}/nope"]),
    Case("output root is a file", ["train", *RUN, "output_root={tmp}/afile"], write("afile", "x")),
    # path keys take any path as given (repro/path_keys.py): the error names the exact path
    Case(
        "output root with accents, spaces, = and brackets is a file",
        ["train", *RUN, "output_root={tmp}/é f=[1]"],
        write("é f=[1]", "x"),
        says="{tmp}/é f=[1]",
    ),
    Case(
        "missing CIFAR directory with accents, spaces, = and brackets",
        [*TRAIN, "data=cifar10", "model=resnet18", "data.root={tmp}/nö pe=[1]"],
        says="{tmp}/nö pe=[1]",
    ),
    Case(
        "teacher run directory with accents, spaces, = and brackets holds no run",
        [*TRAIN, "method=distillation", "method.teacher={tmp}/tëacher a=[1]"],
        says="{tmp}/tëacher a=[1]",
    ),
    Case(
        "label-source run directory with accents, spaces, = and brackets holds no run",
        [*TRAIN, "method=transferred_labels", "method.source={tmp}/sö urce=[1]"],
        says="{tmp}/sö urce=[1]",
    ),
    Case(
        "estimator run directory with accents, spaces, = and brackets holds no run",
        [
            *TRAIN,
            "method=loss_correction",
            "noise=uniform",
            "noise.fraction=0.2",
            "method.transition=estimated",
            "method.estimator={tmp}/ëst imator=[1]",
        ],
        says="{tmp}/ëst imator=[1]",
    ),
    Case("corrupted checkpoint", TRAIN, unfinished(write("{run}/checkpoint.pt", b"PK\x03\x04garbage"))),
    Case("checkpoint of another project", TRAIN, unfinished(torch_file("{run}/checkpoint.pt", {"weights": 1}))),
    Case("run directory from another data set", TRAIN, unfinished(other_dataset_checkpoint)),
    Case("truncated checkpoint", TRAIN, unfinished(lambda tmp: truncate(run_dir(tmp).checkpoint_file))),
    # another run's damaged record (repro/runs/records.py): the error names the run and the file, and says what to do
    Case(
        "own summary damaged",
        TRAIN,
        lambda tmp: truncate(run_dir(tmp).summary_file),
        says="RUN has a damaged summary.json",
    ),
    Case(
        "tuning run's summary damaged",
        [*TRAIN, "tune.keys=[method.label_lr]", "tune.runs=[{run:RUN,values:[25]}]"],
        lambda tmp: truncate(run_dir(tmp).summary_file),
        says="tuning run RUN has a damaged summary.json",
    ),
    Case(
        "teacher's checkpoint damaged",
        [*TRAIN, "method=distillation", "method.teacher=RUN"],
        lambda tmp: truncate(run_dir(tmp).checkpoint_file),
        says="teacher run RUN has a damaged checkpoint.pt",
    ),
    Case(
        "teacher's summary damaged",
        [*TRAIN, "method=distillation", "method.teacher=RUN"],
        write("{run}/summary.json", "[1, 2"),
        says="teacher run RUN has a damaged summary.json",
    ),
    Case(
        "label source's config damaged",
        [*TRAIN, "method=transferred_labels", "method.source=RUN"],
        write("{run}/config.yaml", "data: [unclosed\n"),
        says="label-source run RUN has a damaged config.yaml",
    ),
    Case(
        "label source's labels damaged",
        [*TRAIN, "method=transferred_labels", "method.source=RUN"],
        lambda tmp: truncate(run_dir(tmp).labels_dir / "class_target_prob.npy"),
        says="RUN",
    ),
    Case(
        "estimator run's config damaged",
        [
            *TRAIN,
            "method=loss_correction",
            "noise=uniform",
            "noise.fraction=0.2",
            "method.transition=estimated",
            "method.estimator=RUN",
        ],
        write("{run}/config.yaml", "- not a config\n"),
        says="estimator run RUN has a damaged config.yaml",
    ),
    Case(
        "replay's fold run's summary damaged",
        [*TRAIN, "method=replay", "method.learn.method=class_labels"],
        write("{run}/summary.json", '{"final_test_acc": '),
        says="fold run (fold 0) RUN has a damaged summary.json",
    ),
    Case("no sweep file", ["sweep", "{tmp}/none.yaml", "--output-root", "{out}"]),
    Case("sweep file not YAML", ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"], sweep("rows: [a, b\n")),
    Case(
        "hostile sweep file",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        sweep("!!python/object/apply:os.system ['touch {tmp}/pwned']\n"),
    ),
    Case(
        "sweep bad value",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        sweep(GOOD_SWEEP.replace("split.folds=2,", "split.folds=2, optim.lr=nan,")),
    ),
    Case(
        "sweep unknown key",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        sweep(GOOD_SWEEP.replace("split.folds=2,", "split.folds=2, optim.lrr=0.1,")),
    ),
    Case(
        "sweep seeds not numbers",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        sweep(GOOD_SWEEP.replace("[0]", "[zero]")),
    ),
    Case(
        "sweep stage key bad value",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        sweep(GOOD_SWEEP.replace("[method=baseline]", "{overrides: [method=baseline], out_of_sample: {folds: 1}}")),
    ),
    Case(
        "sweep stage key unknown",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        sweep(GOOD_SWEEP + "    estimated_t: {acept: [x]}\n"),
    ),
    Case("sweep not a mapping", ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"], sweep("- 1\n- 2\n")),
    Case(
        "sweep corrupted job registry",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}"],
        lambda tmp: (sweep(GOOD_SWEEP)(tmp), write("out/sweeps/tiny/jobs.json", "{not json")(tmp)),
    ),
    Case("sweep slurm without profile", ["sweep", "{tmp}/sweep.yaml", "--executor", "slurm"], sweep(GOOD_SWEEP)),
    Case(
        "sweep missing profile",
        ["sweep", "{tmp}/sweep.yaml", "--executor", "slurm", "--profile", "{tmp}/p.yaml"],
        sweep(GOOD_SWEEP),
    ),
    Case(
        "sweep bad override", ["sweep", "{tmp}/sweep.yaml", "optim.lr=nan", "--output-root", "{out}"], sweep(GOOD_SWEEP)
    ),
    Case("hydra launcher group", [*TRAIN, "hydra/launcher=submitit_slurm"]),
    Case("hydra run dir", [*TRAIN, "hydra.run.dir={tmp}/elsewhere"]),
    Case("hydra key in a multirun", ["train", "-m", *RUN, "output_root={out}", "seed=0,1", "hydra.sweep.dir=x"]),
    Case(
        "hydra key in a sweep",
        ["sweep", "{tmp}/sweep.yaml", "--output-root", "{out}", "hydra.job.chdir=true"],
        sweep(GOOD_SWEEP),
    ),
    Case("added key", [*TRAIN, "+foo=1"]),
    Case("force-added key", [*TRAIN, "++foo=1"]),
    Case("added existing key", [*TRAIN, "+seed=1"]),
    Case("deleted key", [*TRAIN, "~seed"]),
    Case("misspelt key", [*TRAIN, "optim.lrr=0.1"]),
    Case("method key of another method", ["train", *RUN[:4], "output_root={out}", "method.temperature=2"]),
    Case("sweep without -m", [*TRAIN, "seed=0,1"]),
    Case("multirun unknown key", ["train", "-m", *RUN, "output_root={out}", "seed=0,1", "nosuchkey=1,2"]),
    Case("multirun added key", ["train", "-m", *RUN, "output_root={out}", "+foo=1,2"]),
    Case("multirun two output roots", ["train", "-m", *RUN, "output_root={tmp}/a,{tmp}/b"]),
    Case("multirun interval sweep", ["train", "-m", *RUN, "output_root={out}", "optim.lr=interval(0.1,0.2)"]),
    Case("multirun slurm without profile", ["train", "-m", *RUN, "output_root={out}", "--executor", "slurm"]),
    Case("executor without -m", [*TRAIN, "--executor", "slurm"]),
    Case("cfg with a hydra override", ["train", "--cfg", "job", "hydra/launcher=basic"]),
    Case("info with an unknown key", ["train", "--info", "defaults", "nosuchkey=1"]),
    Case("labels show no directory", ["labels", "show", "{tmp}/nowhere"]),
    Case(
        "labels show corrupt trajectory",
        ["labels", "show", "{out}/runs/RUN"],
        write("{run}/labels/class_target_prob.npy", b"not numpy at all"),
    ),
    Case(
        "labels show corrupt manifest",
        ["labels", "show", "{out}/runs/RUN"],
        write("{run}/labels/manifest.json", '{"kind": '),
    ),
    Case("labels average not replay", ["labels", "average", "method=baseline"]),
    Case("labels average bad value", ["labels", "average", "method=replay", "split=full", "seed=abc"]),
    Case("tables no runs", ["tables", "--runs", "{tmp}/empty", "--out", "{tmp}/tables"]),
    Case("tables missing sweeps dir", ["tables", "--runs", "{out}", "--out", "{tmp}/t", "--sweeps-dir", "{tmp}/x"]),
    Case("tables unknown table", ["tables", "--runs", "{out}", "--out", "{tmp}/tables", "--tables", "99"]),
    Case("tables W&B not entity/project", ["tables", "--wandb", "justaname", "--out", "{tmp}/tables"]),
    Case("tables W&B unreachable", ["tables", "--wandb", "nobody-x/none-y", "--out", "{tmp}/tables"]),
    Case("ledger no runs", ["ledger", "--runs", "{tmp}/empty", "--out", "{tmp}/ledger"], says="No runs found"),
    Case("ledger missing claims file", [*LEDGER, "--claims", "{tmp}/none.csv"], says="does not exist"),
    Case(
        "ledger claim of a row the paper lacks",
        [*LEDGER, "--claims", "{tmp}/claims.csv"],
        write("claims.csv", f"{CLAIMS_HEADER}\n1,x,gain,+Magic; -Baseline,,,,,,x\n"),
        says="Table 1 of the paper has no row 'Magic'",
    ),
    Case(
        "ledger comparable claim without a margin",
        [*LEDGER, "--claims", "{tmp}/claims.csv"],
        write("claims.csv", f"{CLAIMS_HEADER}\n8,x,comparable,+Ours (Class); -Label Smoothing,,,,,,x\n"),
        says="a comparable claim needs a positive margin",
    ),
    Case(
        "ledger claim whose terms do not parse",
        [*LEDGER, "--claims", "{tmp}/claims.csv"],
        write("claims.csv", f"{CLAIMS_HEADER}\n1,x,gain,Ours (Class) minus Baseline,,,,,,x\n"),
        says="is not a term",
    ),
    Case("figures no runs", ["figures", "--runs", "{tmp}/empty", "--out", "{tmp}/figs"]),
    Case("figures W&B not entity/project", ["figures", "--runs", "{out}", "--out", "{tmp}/figs", "--wandb", "x"]),
    Case("wandb workspace not entity/project", ["wandb", "workspace", "justaname", "--print"]),
    Case("figures where not key=value", ["figures", "--runs", "{out}", "--out", "{tmp}/figs", "--where", "cifar10"]),
    Case("figures where unknown key", ["figures", "--runs", "{out}", "--out", "{tmp}/figs", "--where", "no.such=1"]),
    Case(
        "figures where matches nothing",
        ["figures", "--runs", "{out}", "--out", "{tmp}/figs", "--where", "model.name=vgg16"],
        write("sweeps/table1.yaml", LEARNING_SWEEP),  # the run is its class-label row's fold 0
        says="figure2/class: no finished class-label runs",
    ),
    Case(
        "figures no sweep files",
        ["figures", "--runs", "{out}", "--out", "{tmp}/figs", "--sweeps-dir", "{tmp}/sweeps"],
        write("sweeps/README", "no sweep file here"),
        says="No sweep files",
    ),
    Case("figures unknown figure", ["figures", "--runs", "{out}", "--out", "{tmp}/figs", "--figures", "9"]),
    Case("demo output root is a file", ["demo", "--output-root", "{tmp}/afile"], write("afile", "x")),
    Case("sweep jobs zero", ["sweep", "{tmp}/sweep.yaml", "--jobs", "0", "--output-root", "{out}"], sweep(GOOD_SWEEP)),
    Case(
        "sweep jobs with slurm",
        ["sweep", "{tmp}/sweep.yaml", "--jobs", "2", "--executor", "slurm", "--profile", "local"],
        sweep(GOOD_SWEEP),
    ),
    Case("demo jobs zero", ["demo", "--quick", "--jobs", "0", "--output-root", "{out}"]),
    Case(
        "sweep zero budget",
        ["sweep", "{tmp}/sweep.yaml", "--max-gpu-hours", "0", "--output-root", "{out}"],
        sweep(GOOD_SWEEP),
        says="a budget is a positive number of GPU-hours",
    ),
    Case(
        "sweep negative budget",
        ["sweep", "{tmp}/sweep.yaml", "--max-gpu-hours", "-2", "--dry-run", "--output-root", "{out}"],
        sweep(GOOD_SWEEP),
        says="a budget is a positive number of GPU-hours",
    ),
    Case("plan zero budget", ["plan", "--budget", "0"], says="--budget 0: a budget is a positive, finite number"),
    Case("plan negative budget", ["plan", "--budget", "-5"], says="--budget -5: a budget is a positive, finite"),
    Case("plan nan budget", ["plan", "--budget", "nan"], says="--budget nan: a budget is a positive, finite"),
    Case("plan infinite budget", ["plan", "--budget", "inf"], says="--budget inf: a budget is a positive, finite"),
    Case("plan budget in words", ["plan", "--budget", "lots"], says="--budget lots: a budget is a positive, finite"),
    Case(
        "plan zero runs per GPU", ["plan", "--budget", "100", "--runs-per-gpu", "0"], says="--runs-per-gpu 0: give how"
    ),
    Case("plan unknown table", ["plan", "--budget", "100", "--tables", "99"], says="no claim of"),
    Case("plan missing claims file", ["plan", "--budget", "100", "--claims", "{tmp}/none.csv"], says="does not exist"),
    Case(
        "plan claim of a row the paper lacks",
        ["plan", "--budget", "100", "--claims", "{tmp}/claims.csv"],
        write("claims.csv", f"{CLAIMS_HEADER}\n1,x,gain,+Magic; -Baseline,,,,,,x\n"),
        says="Table 1 of the paper has no row 'Magic'",
    ),
    Case("plan GPU without a calibration", ["plan", "--budget", "100", "--gpu", "NoSuchGPU"], says="No calibration"),
    Case("plan budget below the cheapest line", ["plan", "--budget", "0.01", "--tables", "1"], says="buys no claim"),
    Case("data download unknown data set", [*FETCH, "cifar11"], says="'cifar11' is not a data set"),
    Case("data download root is a file", ["data", "download", "cifar-n", "--root", "{tmp}/afile"], write("afile", "x")),
    Case(
        "data download label file there but damaged",
        [*FETCH, "cifar-n", "--mirror", "{mirror}"],
        write("data/CIFAR-10_human.pt", b"PK\x03\x04 not the label file"),
        says="{tmp}/data/CIFAR-10_human.pt is already there but does not check out",
    ),
    Case(
        "data download CIFAR folder there but damaged",
        [*FETCH, "cifar10", "--mirror", "{mirror}"],
        write("data/cifar-10-batches-py/data_batch_1", b"not a batch"),
        says="data_batch_1 does not have its published md5; data_batch_2 is missing",
    ),
    Case(
        "data download truncated archive",
        [*FETCH, "cifar100", "--mirror", "{mirror}"],
        write("mirror/cifar-100-python.tar.gz", b"\x1f\x8b\x08\x00 truncated"),
        says="cifar-100-python.tar.gz from {mirror}/cifar-100-python.tar.gz is damaged or incomplete: 14 bytes",
    ),
    Case(
        "data download file not on the mirror",
        [*FETCH, "cifar-n", "--mirror", "{mirror}"],
        write("mirror/README", "an empty mirror"),
        says="Could not download CIFAR-10_human.pt from {mirror}/CIFAR-10_human.pt: HTTP Error 404",
    ),
    Case("data download mirror not a URL", [*FETCH, "cifar-n", "--mirror", "mirror.example"], says="unknown url type"),
]


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
