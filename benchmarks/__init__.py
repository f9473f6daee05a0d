"""Timings and checks of the suite: one script per question (what an epoch costs, how the meta step scales, what
a sweep does under faults), each run from the checkout root as `python -m benchmarks.NAME` (its `--help` says what
it measures), and what it found written into docs/.

A package above analysis/ in docs/architecture.md's layers: a script imports the checkout's `repro` and `analysis`
and its sibling scripts by name (`from benchmarks.roundrobin import ...`), never by a path put on `sys.path`. Tests
of benchmarks/ import it (tests/benchmarks/ runs short versions of the scripts); what tests and benchmarks share
(the W&B stand-ins, CIFAR's published files, the reference meta-gradient) lives in testing_support/, which both import.
Nothing here imports the tests, and no script imports a sweep stage's internals: a stage's package says what it offers
a measurement (its `__init__`)."""
