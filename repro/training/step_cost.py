"""What one training step of a method costs, as a kind that `repro bench` times and `repro sweep --dry-run` prices.

Every method declares its kind in its declaration (`MethodDeclaration.step_cost`; tests/training/test_step_cost.py fails
for a method without its own declaration). The planner never looks at a method's name or options to price it: it asks
the method's declaration (repro/sweep/budget/costs.py). Each kind names the function that times it
(repro/commands/step_timing.py) and, for a calibration that has no figure of this kind for a model (one stored before
the kind existed, or the H100 table of the design notes), a documented estimate from another kind of the same model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepCost:
    """One kind of training step. `key`: its name in a calibration file (steps_ms[model][key]); `what`: what the
    step runs, as printed; `timer`: "module:function" that builds it for `repro bench`; `estimate`: (another kind's
    key, factor) used where a calibration lacks this kind, with `why` saying where the factor comes from;
    `meta_batch`: the step also runs a meta batch (a look-ahead's), whose size `repro bench` varies too and the
    estimate prices at the run's own (method.meta_batch_size, at most the meta set)."""

    key: str
    what: str
    timer: str
    estimate: tuple[str, float] | None = None
    why: str = ""
    meta_batch: bool = False

    def __str__(self) -> str:
        return self.key


PLAIN = StepCost("plain", "one forward, backward and optimizer step", "repro.commands.step_timing:plain")
# The learned labels' look-ahead (repro/meta/lookahead.py: real forward, JVP through the look-ahead, meta
# forward/backward,
# then the training backward). Key "meta": calibrations stored before the other kinds existed name it so.
LABEL_LOOKAHEAD = StepCost(
    "meta",
    "look-ahead meta step through the labels (JVP) + training step",
    "repro.commands.step_timing:label_lookahead",
    ("plain", 3.8),
    "WRN-28-10 on an H100: a label meta step is 3.8x a plain one (resnet18 3.0x, vgg16 4.2x)",
    meta_batch=True,
)
WEIGHT_LOOKAHEAD = StepCost(
    "weight_lookahead",
    "look-ahead meta step through per-sample weights (L2RW) + weighted training step",
    "repro.commands.step_timing:weight_lookahead",
    ("meta", 1.0),
    "the look-ahead engine and JVP of the labels' meta step, repro/meta/weights.py",
    meta_batch=True,
)
WEIGHTING_NET_LOOKAHEAD = StepCost(
    "weighting_net_lookahead",
    "look-ahead meta step through a weighting net (Meta-Weight-Net) + training step",
    "repro.commands.step_timing:weighting_net_lookahead",
    ("meta", 1.0),
    "the labels' look-ahead engine plus a 1-100-1 weighting net, whose cost is negligible",
    meta_batch=True,
)
TWO_NETWORKS = StepCost(
    "two_networks",
    "two networks each take a forward, backward and optimizer step (co-teaching)",
    "repro.commands.step_timing:two_networks",
    ("plain", 2.0),
    "two plain steps of the same network",
)
TEACHER_FORWARD = StepCost(
    "teacher_forward",
    "a teacher's forward (no gradient), then the student's plain step",
    "repro.commands.step_timing:teacher_forward",
    ("plain", 4 / 3),
    "a forward without backward is about a third of a training step",
)

STEP_COSTS: tuple[StepCost, ...] = (
    PLAIN,
    LABEL_LOOKAHEAD,
    WEIGHT_LOOKAHEAD,
    WEIGHTING_NET_LOOKAHEAD,
    TWO_NETWORKS,
    TEACHER_FORWARD,
)
