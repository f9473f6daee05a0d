"""The faults of benchmarks/chaos.py, and the processes they hit.

A run is hit at a known point: the process training it (the pid in its lock file) is frozen (SIGSTOP) once its
status says it is past a drawn epoch, the fault is applied while it is frozen, then whatever is left of it is let
go (SIGCONT). A "loose" kill instead waits a drawn few milliseconds after that point and kills the run wherever it
then is (inside a step, a checkpoint write, a W&B call). Every process the benchmark starts carries CHAOS_TAG in its
environment (SLURM passes it on to the jobs, a job to its children, a run to its W&B service), which is how orphans
are found afterwards.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from repro.runs.rundir import RunDir
from testing_support.wandb_endpoint import StandInServer

TAG_VAR = "CHAOS_TAG"
POLL_S = 0.005  # how often a run's status is looked at while waiting for its point: an epoch takes milliseconds
FATAL = (signal.SIGKILL, signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGHUP, signal.SIGUSR1)
# Every signal a fault sends that a process can ignore (SIGKILL, SIGSTOP and SIGCONT cannot be)
IGNORABLE = (signal.SIGSEGV, signal.SIGABRT, signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM)
MEMORY_CGROUP = Path("/sys/fs/cgroup/memory")
PACKED_CHILD = "repro.sweep.executors.packed"  # in the command line of a packed job's child (packed.py)


def state_of(pid: int) -> str | None:
    """The process's state letter from /proc (R, S, T, Z, ...); None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    return state_of(pid) not in (None, "Z", "X")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def tagged(tag: str) -> dict[int, str]:
    """{pid: command line} of the live processes whose environment carries CHAOS_TAG=tag (this process excluded)."""
    found = {}
    needle = f"{TAG_VAR}={tag}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0") and alive(pid):
                found[pid] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
    return found


def start_command(
    cmd: Sequence[str], *, env: dict[str, str], log: Path, cwd: Path, cpus: Sequence[int]
) -> subprocess.Popen:
    """Start a command the faults will hit: on `cpus`, its output appended to `log`, and every signal a fault sends
    back to its default action. An ignored signal is inherited through fork and exec: a suite started under `nohup`
    (SIGHUP ignored) or from a shell's background job would start commands whose runs ignore the fault, and a run
    "killed" by SIGHUP trained on to done (the next fault then found nothing left to hit)."""

    def in_the_child() -> None:
        os.sched_setaffinity(0, cpus)
        for signum in IGNORABLE:
            signal.signal(signum, signal.SIG_DFL)

    with open(log, "a") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, preexec_fn=in_the_child)


def signal_pid(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _status(rd: RunDir) -> dict:
    try:
        return json.loads(rd.status_file.read_text())
    except (OSError, ValueError):
        return {}


def _lock(rd: RunDir) -> dict:
    try:
        holder = json.loads(rd.lock_file.read_text())
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _writer(rd: RunDir) -> int | None:
    pid = _lock(rd).get("pid")
    return pid if isinstance(pid, int) else None


@dataclass
class Target:
    """A run caught at a point: the process training it (frozen unless caught loose), its last committed epoch and
    the SLURM job that process belongs to (None: not a SLURM job)."""

    run: RunDir
    pid: int
    epoch: int
    job: str | None = None


def catch_a_run(
    runs: Sequence[RunDir], past: int, rng: random.Random, going: Callable[[], bool], *, freeze: bool = True
) -> Target | None:
    """Wait for a run not done whose live writer's status is past epoch `past`; freeze its process (or, not
    `freeze`, leave it running) and return it. `going()` is asked once a second (it may start the command again);
    None when every run is done or it says nothing is left to train. The order the runs are looked at comes from a
    generator of its own, seeded by one draw of `rng`, so that the draws after this one do not hang on how many times
    it looked (the machine's speed): a seed gives the same faults, points and variants on any machine."""
    scan = random.Random(rng.getrandbits(64))
    checked = time.monotonic()
    while True:
        todo = [rd for rd in runs if not rd.is_done()]
        if not todo:
            return None
        for rd in scan.sample(todo, len(todo)):
            status, pid = _status(rd), _writer(rd)
            if status.get("state") != "running" or int(status.get("epoch") or 0) < past or pid is None:
                continue
            if not alive(pid) or state_of(pid) == "T":
                continue
            if freeze:
                signal_pid(pid, signal.SIGSTOP)
                if rd.is_done() or _writer(rd) != pid:  # it finished, or handed over, meanwhile
                    signal_pid(pid, signal.SIGCONT)
                    continue
            return Target(rd, pid, int(status.get("epoch") or 0), _lock(rd).get("slurm_job_id"))
        if time.monotonic() - checked > 1.0:  # asking is not free (squeue): once a second
            if not going():
                return None
            checked = time.monotonic()
        time.sleep(POLL_S)


# ------------------------------------------------------------------------------------- the W&B server, restartable


class WandbServer:
    """The tests' W&B stand-in (testing_support/wandb_endpoint.py) on one port, which can be killed (its socket
    closed: every connection refused) or hung (requests read, never answered) and brought back with everything it had
    got."""

    def __init__(self) -> None:
        self.server = self._serve(StandInServer(None))
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.down = False

    @staticmethod
    def _serve(server: StandInServer) -> StandInServer:
        server.daemon_threads = True
        server.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return server

    @property
    def runs(self):
        return self.server.runs

    def kill(self) -> None:
        if not self.down:
            self.server.released.set()
            self.server.shutdown()
            self.server.server_close()
            self.down = True

    def hang(self) -> None:
        self.server.go_silent()

    def restart(self) -> None:
        """Back, answering, with the runs it had (a server restarted on its database)."""
        if self.down:
            old = self.server
            self.server = self._serve(StandInServer(None, port=self.port))
            self.server.runs, self.server.artifacts = old.runs, old.artifacts
            self.down = False
        else:
            self.server.answer_again()

    def close(self) -> None:
        self.kill()


# ------------------------------------------------------------------------------------------------- the node daemon


def restart_slurmd(conf: Path, node: str) -> None:
    """Start the local cluster's slurmd again as slurm/cluster.sh does (it daemonizes; its pid file is the same),
    without the benchmark's tag, which it must not pass on as if it were ours."""
    env = {k: v for k, v in os.environ.items() if k != TAG_VAR}
    subprocess.run(
        ["slurmd", "-f", str(conf), "-N", node], env=env, cwd="/", stdin=subprocess.DEVNULL, check=True, timeout=60
    )


def slurmd_pid(cluster_dir: Path) -> int | None:
    try:
        return int((cluster_dir / "run" / "slurmd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------ the out-of-memory killer


def oom_killer_available() -> bool:
    """Whether a process can be put in a memory cgroup of its own here (cgroup v1, writable by this user)."""
    return (MEMORY_CGROUP / "memory.limit_in_bytes").exists() and os.access(_own_memory_cgroup(), os.W_OK)


def _own_memory_cgroup() -> Path:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return MEMORY_CGROUP / path.lstrip("/")
    return MEMORY_CGROUP


def out_of_memory(pid: int, name: str, guard_s: float = 60.0) -> int:
    """Have the kernel's out-of-memory killer end process `pid` (frozen). It is made the killer's first choice
    (oom_score_adj 1000) and moved into a new memory cgroup with a 16 MiB limit, where a second process asks for
    64 MiB: the cgroup is out of memory and the killer ends `pid` (its pages stay charged where they were, so its
    death frees nothing there, and the killer then ends the second process too). Returns how many processes the
    killer ended in the cgroup (2 when it worked); the cgroup is removed."""
    group = _own_memory_cgroup() / name
    group.mkdir()
    hog = None
    try:
        (group / "memory.limit_in_bytes").write_text(str(16 << 20))
        Path(f"/proc/{pid}/oom_score_adj").write_text("1000")
        (group / "cgroup.procs").write_text(str(pid))
        hog = subprocess.Popen(
            [
                "sh",
                "-c",
                f'echo $$ > "{group}/cgroup.procs" && exec "$0" -c "$1"',
                "python3",
                "import time; block = bytearray(64 << 20); time.sleep(60)",
            ],
            stdin=subprocess.DEVNULL,
        )
        wait_gone([pid], guard_s)
        for line in (group / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        for left in (group / "cgroup.procs").read_text().split():
            (group.parent / "cgroup.procs").write_text(left)  # back where it was, should it still live
        _remove_when_empty(group, guard_s)


def _remove_when_empty(group: Path, guard_s: float) -> None:
    """rmdir the cgroup once the killed process is reaped by its parent (a zombie keeps its cgroup busy)."""
    deadline = time.monotonic() + guard_s
    while True:
        try:
            group.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_gone(pids: Iterable[int], guard_s: float) -> bool:
    """Wait until none of `pids` lives (True), or `guard_s` passed (False)."""
    deadline = time.monotonic() + guard_s
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
