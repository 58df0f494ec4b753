"""GPU slot allocator (mfas_core.gpu): one GPU per job, with a faked device count.

The machine running the tests has no GPU: MFAS_GPU_COUNT fakes the count; the locks are real
(separate processes, real fcntl.flock, real SIGKILL).
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mfas_core.gpu import GpuSlotTimeout, claim_gpu
from mfas_core.rule_log import rule_log

# A job that claims a slot, prints "<slot> <CUDA_VISIBLE_DEVICES>" and holds it until stdin closes.
HOLDER = """
import os, sys
from mfas_core.gpu import claim_gpu
claim = claim_gpu(sys.argv[1], wait_s=float(sys.argv[2]), poll_s=0.05)
print(claim.slot, os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
sys.stdin.read()
"""


def job_env(n_gpus: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    env["MFAS_GPU_COUNT"] = str(n_gpus)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


def start_holder(lock_dir: Path, n_gpus: int, wait_s: float = 30) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir), str(wait_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=job_env(n_gpus),
    )


def read_line(proc: subprocess.Popen, timeout: float) -> str | None:
    """The holder's first output line, or None if it printed nothing within `timeout` s."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if ready else None


def stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


@pytest.fixture
def no_scheduler(monkeypatch, tmp_path):
    """This process as a local job on a machine with one (faked) GPU, in a scratch dir."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setenv("MFAS_GPU_COUNT", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lock_is_held(path: Path) -> bool:
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def test_four_concurrent_jobs_get_distinct_slots(tmp_path):
    procs = [start_holder(tmp_path, 4) for _ in range(4)]
    try:
        lines = [read_line(p, 30) for p in procs]
        slots = sorted(int(line.split()[0]) for line in lines)
        assert slots == [0, 1, 2, 3]
        assert all(line.split()[0] == line.split()[1] for line in lines)  # CUDA_VISIBLE_DEVICES
    finally:
        stop(procs)


def test_fifth_job_waits_until_one_exits(tmp_path):
    procs = [start_holder(tmp_path, 4) for _ in range(4)]
    try:
        slots = {int(read_line(p, 30).split()[0]): p for p in procs}
        fifth = start_holder(tmp_path, 4)
        procs.append(fifth)
        assert read_line(fifth, 2.0) is None  # all four slots held: it waits
        slots[2].stdin.close()  # the job holding slot 2 finishes
        slots[2].wait()
        assert read_line(fifth, 30).split()[0] == "2"
    finally:
        stop(procs)


def test_holder_killed_with_sigkill_frees_its_slot(tmp_path):
    procs = [start_holder(tmp_path, 1)]
    try:
        assert read_line(procs[0], 30).split()[0] == "0"
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        procs.append(start_holder(tmp_path, 1, wait_s=10))
        assert read_line(procs[1], 30).split()[0] == "0"
    finally:
        stop(procs)


def test_no_free_slot_fails_after_timeout_naming_the_lock_dir(no_scheduler):
    holder = start_holder(no_scheduler / "slots", 1)
    try:
        assert read_line(holder, 30).split()[0] == "0"
        with pytest.raises(GpuSlotTimeout, match=str(no_scheduler / "slots")):
            claim_gpu(no_scheduler / "slots", wait_s=0.3, poll_s=0.05)
    finally:
        stop([holder])


def test_scheduler_set_devices_are_trusted_and_no_lock_taken(no_scheduler, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    claim = claim_gpu(no_scheduler / "slots", wait_s=0)
    assert claim.slot is None and "CUDA_VISIBLE_DEVICES" in claim.reason
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert claim_gpu(no_scheduler / "slots", wait_s=0).slot is None
    assert not (no_scheduler / "slots").exists()


def fake_rule(log: Path, gpu: int, device: str) -> SimpleNamespace:
    """What a workflow script sees as `snakemake` (the fields rule_log reads)."""
    return SimpleNamespace(log=[str(log)], resources={"gpu": gpu}, params={"device": device})


def test_gpu_job_holds_its_slot_for_the_rule_lifetime(no_scheduler):
    lock = no_scheduler / ".snakemake" / "gpu_slots" / "gpu0.lock"
    with rule_log(fake_rule(no_scheduler / "job.log", gpu=1, device="auto")):
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
        assert lock_is_held(lock)
    assert not lock_is_held(lock)
    assert "GPU slot 0 of 1" in (no_scheduler / "job.log").read_text()


@pytest.mark.parametrize("gpu", [0, 1])
def test_device_cpu_takes_no_slot(no_scheduler, gpu):
    with rule_log(fake_rule(no_scheduler / "job.log", gpu=gpu, device="cpu")):
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not (no_scheduler / ".snakemake" / "gpu_slots").exists()
    log = (no_scheduler / "job.log").read_text().splitlines()
    assert log == ["device: cpu (config); no GPU slot taken"]


@pytest.mark.parametrize(
    "fields",
    [
        {"resources": {"gpu": 0}, "params": {"device": "auto"}},
        {"resources": {}, "params": {}},  # a rule that declares no gpu and passes no device
        {},  # a script run with neither field (e.g. a report rule)
    ],
    ids=["gpu=0", "no keys", "no fields"],
)
def test_job_without_gpu_resource_takes_no_slot_and_writes_no_device_line(no_scheduler, fields):
    with rule_log(SimpleNamespace(log=[str(no_scheduler / "job.log")], **fields)):
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not (no_scheduler / ".snakemake" / "gpu_slots").exists()
    assert (no_scheduler / "job.log").read_text() == ""


def test_no_gpu_runs_on_cpu_and_the_log_says_so(no_scheduler, monkeypatch):
    monkeypatch.setenv("MFAS_GPU_COUNT", "0")
    with rule_log(fake_rule(no_scheduler / "job.log", gpu=1, device="auto")):
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert "no GPU on this machine" in (no_scheduler / "job.log").read_text()


def test_slurm_job_id_is_written_to_the_log(no_scheduler, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "1234")
    with rule_log(fake_rule(no_scheduler / "job.log", gpu=0, device="cpu")):
        pass
    assert "SLURM_JOB_ID=1234" in (no_scheduler / "job.log").read_text().splitlines()[0]
