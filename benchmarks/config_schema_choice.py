"""Why the config schema is plain dataclasses checked by repro/schema/ and not Hydra's structured configs doing the
checks (docs/design-notes.md, "Config checks"): what each costs when a config is composed and checked, and what
OmegaConf's typed nodes do to values.

1. Composition: Hydra's compose of the packaged tree, as is and with structured-config schemas (dataclasses in Hydra's
   ConfigStore, each group file starting `defaults: [<group>_schema, _self_]`) for data, model, optim and split,
   interleaved, over a grid of group selections (the sweep planner composes once per distinct selection).
2. Checking: repro's check of a whole resolved config (the groups' declarations, the noise model's, the method's).
3. Conversion: what a typed OmegaConf node makes of a value, and what that does to a run id.

    .venv/bin/python -m benchmarks.config_schema_choice [--rounds 3]
"""

from __future__ import annotations

import argparse
import copy
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from repro.checkout import CHECKOUT_ROOT

GROUPS = ("data", "model", "optim", "split")
SELECTIONS = [
    [f"model={m}", f"method={me}", f"data={d}", "optim.lr=0.2", "seed=3"]
    for m in ("smallcnn", "resnet18", "vgg16", "wrn28_10")
    for me in ("baseline", "class_labels", "mwnet", "coteaching")
    for d in ("digits", "cifar10", "cifar100")
]


def _schemas() -> dict:
    from omegaconf import MISSING

    @dataclass
    class DataSchema:
        name: str = MISSING
        root: str | None = None
        num_classes: int = MISSING
        in_channels: int = MISSING
        image_size: int = MISSING
        batch_size: int = MISSING
        subset: int | None = None
        test_subset: int | None = None

    @dataclass
    class ModelSchema:
        name: str = MISSING

    @dataclass
    class OptimSchema:
        lr: float = MISSING
        momentum: float = MISSING
        nesterov: bool = MISSING
        weight_decay: float = MISSING
        epochs: int = MISSING
        schedule: str = MISSING
        milestones: list[float] = MISSING
        gamma: float = MISSING
        warmup_epochs: int = MISSING
        iterations: int | None = None
        milestone_iterations: list[int] = field(default_factory=list)

    @dataclass
    class SplitSchema:
        meta_fraction: float = MISSING
        folds: int = MISSING
        fold: int = MISSING
        seed: int = MISSING
        full_train: bool = MISSING

    return {"data": DataSchema, "model": ModelSchema, "optim": OptimSchema, "split": SplitSchema}


def _typed_tree(tmp: Path) -> Path:
    from hydra.core.config_store import ConfigStore

    tree = tmp / "conf"
    shutil.copytree(CHECKOUT_ROOT / "repro" / "conf", tree, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for group, schema in _schemas().items():
        ConfigStore.instance().store(group=group, name=f"{group}_schema", node=schema)
        for path in (tree / group).glob("*.yaml"):
            path.write_text(f"defaults: [{group}_schema, _self_]\n" + path.read_text())
    return tree


def _compose_ms(config_dir: Path) -> float:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        compose(config_name="config", overrides=SELECTIONS[0])
        started = time.perf_counter()
        for overrides in SELECTIONS:
            OmegaConf.to_container(compose(config_name="config", overrides=overrides), resolve=True)
        return (time.perf_counter() - started) / len(SELECTIONS) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from omegaconf import OmegaConf

    from repro.config import load_config, to_container, validate_config
    from repro.runs.rundir import run_id

    with tempfile.TemporaryDirectory() as tmp:
        typed = _typed_tree(Path(tmp))
        plain = CHECKOUT_ROOT / "repro" / "conf"
        for r in range(args.rounds):
            a, b = _compose_ms(plain), _compose_ms(typed)
            print(f"round {r + 1}: compose {a:.1f} ms as is, {b:.1f} ms with 4 typed groups (x{b / a:.2f})")

    configs = [to_container(load_config(o)) for o in SELECTIONS[::6]]
    started = time.perf_counter()
    for _ in range(20):
        for config in configs:
            validate_config(config)
    print(f"repro's check of a whole config: {(time.perf_counter() - started) / (20 * len(configs)) * 1e3:.2f} ms")

    node = OmegaConf.structured(_schemas()["optim"])
    for key, value in (("lr", 1), ("nesterov", "yes"), ("epochs", "3")):
        OmegaConf.update(node, key, value)
        print(f"a typed OmegaConf node: optim.{key}={value!r} becomes {getattr(node, key)!r}")
    config = to_container(load_config(["method=coteaching", "split=noisy", "noise=uniform"]))
    converted = copy.deepcopy(config)
    converted["method"]["exponent"] = float(converted["method"]["exponent"])
    print(f"co-teaching's exponent: 1 -> run id {run_id(config)}; as a float field's 1.0 -> {run_id(converted)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
