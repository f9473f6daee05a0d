"""Pytest helper: the throw-away one-node SLURM cluster of `slurm/cluster.sh`, started once per test session.

Use it from a test module (a tests/ helper, imported by name: pyproject.toml's pytest `pythonpath`)::

    from slurm_cluster import slurm_cluster  # noqa: F401  (the session fixture)

    @pytest.mark.slurm
    def test_something(slurm_cluster, tmp_path):
        executor = submitit.AutoExecutor(folder=tmp_path / "jobs", cluster="slurm")
        executor.update_parameters(**slurm_cluster.submitit_parameters())
        ...

or make the fixture global with ``pytest_plugins = ["slurm_cluster"]`` in tests/conftest.py.

The cluster is started the first time a test asks for the fixture (installing the Debian packages when they are
missing, which needs root and apt-get; without them the tests are skipped with the reason), `SLURM_CONF` is exported
into ``os.environ`` (so sbatch/sacct/submitit and the jobs find the cluster), and it is stopped at the end of the
session by ``slurm/cluster.sh stop`` (every daemon killed by the PID recorded in its directory; a survivor gets
SIGKILL by PID). Importing the fixture into several modules still starts only one cluster, and under pytest-xdist
the session's workers share it (`session_share.py`): the first to ask starts it, the last to finish stops it, so
the SLURM tests of several workers run side by side on one cluster, each in its own output folder, watching only
its own jobs. The node is given `SESSION_CPUS` CPUs whatever the machine has, so that the workers' jobs (some of
them frozen on purpose while a test waits for another job of its own) never wait for each other's.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from repo_paths import REPO
from session_share import acquire, pid_alive, release, session_folder

CLUSTER_SH = REPO / "slurm" / "cluster.sh"
PROFILES = REPO / "slurm" / "profiles"
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")
START_TIMEOUT_S = 900  # includes apt-get install on a fresh machine (~25 s here, more on a slow mirror)
STOP_TIMEOUT_S = 120
# Every wait in the SLURM tests ends on an event (a file, a job state, a pending signal); this bound only turns a hang
# into a failure, and is far above what ten times the usual load needs.
HANG_GUARD_S = 1200
# CPUs of the session cluster's node (slurm.conf; slurmd's config_overrides lets it exceed the machine's): the jobs
# of the SLURM tests running side by side, each test at most a few at once (its profile's array_parallelism is 2),
# some frozen while their test waits for another of its jobs to start. A job asks for 1 CPU and 1 GB; the node
# gets min(half the memory, 8 GB), so 8 slots.
SESSION_CPUS = 8


def signal_pending(pid: int, signum: int) -> bool:
    """True when `signum` waits to be delivered to process `pid` (e.g. a stopped one): /proc/PID/status masks."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return False
    masks = [int(line.split()[1], 16) for line in lines if line.startswith(("SigPnd:", "ShdPnd:"))]
    return any(mask & (1 << (signum - 1)) for mask in masks)


def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def load_profile(name: str = "local") -> dict:
    """The cluster profile slurm/profiles/<name>.yaml as a dict."""
    import yaml

    return yaml.safe_load((PROFILES / f"{name}.yaml").read_text())


@dataclass
class SlurmCluster:
    """A running cluster: its directory, config and facts, plus small helpers for tests."""

    dir: Path
    conf: Path
    facts: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return self.facts.get("PARTITION", "debug")

    @property
    def node(self) -> str:
        return self.facts["NODE"]

    @property
    def cpus(self) -> int:
        return int(self.facts["CPUS"])

    @property
    def mem_mb(self) -> int:
        return int(self.facts["REAL_MEMORY_MB"])

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *args: str, timeout: float = HANG_GUARD_S, check: bool = True) -> subprocess.CompletedProcess:
        """Run a SLURM command (sinfo, sacct, ...) against this cluster; text output."""
        return subprocess.run(list(args), env=self.env(), capture_output=True, text=True, timeout=timeout, check=check)

    def cancel_jobs_under(self, folder: Path) -> list[str]:
        """Cancel the queued or running jobs whose batch script lies under `folder` (a test's tmp_path: its own,
        never another test's on the shared cluster); their ids."""
        queue = self.run("squeue", "-h", "-o", "%A|%o").stdout.splitlines()
        ids = [job for job, script in (line.split("|", 1) for line in queue if "|" in line) if str(folder) in script]
        if ids:
            self.run("scancel", *ids, check=False)
        return ids

    def sacct_states(self, job_id: str) -> dict[str, str]:
        """{job id (array tasks as "<id>_<i>"): state} of a job or array, from accounting (sacct)."""
        out = self.run("sacct", "-X", "-n", "-P", "-j", str(job_id), "-o", "JobID,State").stdout
        states = {}
        for line in out.splitlines():
            if "|" in line:
                jid, state = line.split("|", 1)
                states[jid.strip()] = state.strip()
        return states

    def submitit_parameters(self, profile: str = "local", **overrides) -> dict:
        """AutoExecutor.update_parameters(...) keyword arguments for a profile of slurm/profiles/."""
        p = load_profile(profile)
        params = {
            "slurm_partition": p["partition"],
            "cpus_per_task": p["cpus_per_task"],
            "mem_gb": p["mem_gb"],
            "timeout_min": p["timeout_min"],
            "slurm_array_parallelism": p["array_parallelism"],
        }
        if p.get("gpus_per_node"):
            params["gpus_per_node"] = p["gpus_per_node"]
        for key in ("account", "qos"):
            if p.get(key):
                params[f"slurm_{key}"] = p[key]
        if p.get("additional_parameters"):
            params["slurm_additional_parameters"] = dict(p["additional_parameters"])
        params.update(overrides)
        return params

    def live_pids(self) -> dict[str, int]:
        """The recorded daemon PIDs (from start) that are still alive."""
        return {name: pid for name, pid in self.pids.items() if pid_alive(pid)}


def _read_pids(directory: Path) -> dict[str, int]:
    pids = {}
    for name in DAEMONS:
        f = directory / "run" / f"{name}.pid"
        try:
            pids[name] = int(f.read_text().strip())
        except (OSError, ValueError):
            pass
    return pids


def _read_facts(directory: Path) -> dict[str, str]:
    facts = {}
    env = directory / "etc" / "cluster.env"  # written by a start that got as far as the configs
    for line in env.read_text().splitlines() if env.exists() else []:
        if "=" in line:
            key, value = line.split("=", 1)
            facts[key] = value
    return facts


def cannot_run_reason() -> str | None:
    """Why the cluster cannot be started on this machine (None if it can, installing what is missing)."""
    if os.geteuid() != 0:
        return "the local SLURM cluster needs root (slurmd, munge, apt-get)"
    needed = ("munged", "slurmctld", "slurmd", "slurmdbd", "sbatch", "mariadbd")
    if not all(shutil.which(b) for b in needed) and not shutil.which("apt-get"):
        return "SLURM/munge/MariaDB are not installed and there is no apt-get to install them"
    if not shutil.which("bash"):
        return "no bash"
    return None


def attach(directory: Path) -> SlurmCluster:
    """The cluster that `slurm/cluster.sh start` ran in `directory` (by this process or another)."""
    directory = Path(directory).resolve()
    return SlurmCluster(
        dir=directory, conf=directory / "etc" / "slurm.conf", facts=_read_facts(directory), pids=_read_pids(directory)
    )


def start_cluster(directory: Path, timeout: float = START_TIMEOUT_S, cpus: int | None = None) -> SlurmCluster:
    """`slurm/cluster.sh start directory` (a node of `cpus` CPUs, else the machine's); raises RuntimeError with the
    script's output if it fails."""
    directory = Path(directory)
    t0 = time.monotonic()
    env = {**os.environ, "SLURM_LOCAL_CPUS": str(cpus)} if cpus else None
    proc = subprocess.run(
        ["bash", str(CLUSTER_SH), "start", str(directory)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"slurm/cluster.sh start {directory} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    cluster = attach(directory)
    missing = set(DAEMONS) - set(cluster.live_pids())
    if missing:
        raise RuntimeError(f"cluster started but {sorted(missing)} are not running:\n{proc.stderr}")
    cluster.facts["START_SECONDS"] = f"{time.monotonic() - t0:.1f}"
    return cluster


def stop_cluster(cluster: SlurmCluster, timeout: float = STOP_TIMEOUT_S) -> None:
    """`slurm/cluster.sh stop`, then make sure every daemon PID recorded at start is gone (SIGKILL by PID)."""
    try:
        subprocess.run(
            ["bash", str(CLUSTER_SH), "stop", str(cluster.dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pass
    for name, pid in cluster.live_pids().items():
        if _comm(pid) == name:  # never kill a reused PID
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    deadline = time.monotonic() + 120  # SIGKILLed: they end; the bound is a hang guard
    while cluster.live_pids() and time.monotonic() < deadline:
        time.sleep(0.1)


# ------------------------------------------------------------------------------------------- the session fixture

_lock = threading.Lock()
_session: SlurmCluster | None = None
_session_folder: Path | None = None
_saved_slurm_conf: str | None = None


def _running(directory: Path) -> bool:
    return set(attach(directory).live_pids()) == set(DAEMONS)


def _stop_at(directory: Path) -> None:
    stop_cluster(attach(directory))


def _stop_session_cluster() -> None:
    """This process is done with the session's cluster; the last of the session's workers to be done stops it."""
    global _session, _session_folder
    with _lock:
        cluster, _session = _session, None
        if cluster is None:
            return
        release(_session_folder, _stop_at)
        if os.environ.get("SLURM_CONF") == str(cluster.conf):
            if _saved_slurm_conf is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = _saved_slurm_conf


atexit.register(_stop_session_cluster)  # in case the session dies before the fixture's teardown


def session_cluster(tmp_path_factory: pytest.TempPathFactory) -> SlurmCluster:
    """The session's cluster (shared by its xdist workers), started on first use; SLURM_CONF exported into
    os.environ."""
    global _session, _session_folder, _saved_slurm_conf
    with _lock:
        if _session is None:
            reason = cannot_run_reason()
            if reason:
                pytest.skip(reason)
            folder = session_folder(tmp_path_factory, "slurm")
            directory = acquire(folder, lambda d: start_cluster(d, cpus=SESSION_CPUS), _running, _stop_at)
            _session, _session_folder = attach(directory), folder
            _saved_slurm_conf = os.environ.get("SLURM_CONF")
        os.environ["SLURM_CONF"] = str(_session.conf)
        return _session


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A running one-node SLURM cluster (partition "debug") for the whole session, shared by its xdist workers;
    stopped by PID at the end by the last of them."""
    cluster = session_cluster(tmp_path_factory)
    yield cluster
    _stop_session_cluster()


def wait_until(predicate, seconds: float, what: str, interval: float = 0.5):
    """Poll `predicate` until it returns something truthy (returned), or fail the test after `seconds` (a hang
    guard: pass HANG_GUARD_S, never a guess of how long the event takes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")
