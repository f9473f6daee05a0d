"""The bad-input corpus's cases of the commands around a run (tests/bad_input_cases.py holds the helpers and the
cases of `repro train` and a run's files): sweep files, Hydra keys, `repro labels`, `tables`, `ledger`, `figures`,
`demo`, `plan` and `data download`. Each case is Case(name, argv, setup), filled in as that module says.
"""

from __future__ import annotations

from bad_input_cases import RUN, TRAIN, Case, sweep, write
from presets import TINY_BASELINE_SWEEP
from repo_paths import REPO

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

CLAIMS_HEADER = "table,name,kind,terms,paper_terms,where,margin,margin_reason,measure,says"
LEDGER = ["ledger", "--runs", "{out}", "--out", "{tmp}/ledger", "--sweeps-dir", str(REPO / "sweeps" / "demo")]
FETCH = ["data", "download", "--root", "{tmp}/data"]  # the files' published md5s: whatever a test serves differs
COMMAND_CASES = [
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
    Case("plan overflowing budget", ["plan", "--budget", "1e400"], says="--budget 1e400: a budget is a positive"),
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
