"""Ground helpers: device choice and seeding (runtime), rule logs, input errors."""

from __future__ import annotations

import random
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from mfas_core.atomic import sha256_file
from mfas_core.errors import InputError
from mfas_core.rule_log import rule_log
from mfas_core.runtime import pick_device, set_seed


def fake_gpus(monkeypatch, free: list[int]) -> None:
    """Pretend torch sees len(free) CUDA devices with these free bytes (no GPU on CI)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: bool(free))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(free))
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (free[i], max(free)))
    monkeypatch.setattr(
        torch.cuda, "get_device_name", lambda d: f"Fake GPU {torch.device(d).index}"
    )


def test_auto_picks_the_visible_gpu_with_the_most_free_memory(monkeypatch):
    fake_gpus(monkeypatch, [2 << 30, 9 << 30, 5 << 30])
    assert pick_device("auto") == torch.device("cuda:1")
    assert pick_device("cuda") == torch.device("cuda:1")


def test_the_log_names_the_chosen_gpu_its_model_and_the_visible_devices(monkeypatch, capsys):
    fake_gpus(monkeypatch, [2 << 30, 9 << 30])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6")
    pick_device("auto")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    pick_device("auto")
    assert capsys.readouterr().err.splitlines() == [
        "device: cuda:1 Fake GPU 1 (CUDA_VISIBLE_DEVICES=4,6)",
        "device: cuda:1 Fake GPU 1 (CUDA_VISIBLE_DEVICES=all)",
    ]


def test_cpu_is_used_when_asked_or_when_no_gpu_is_visible(monkeypatch, capsys):
    fake_gpus(monkeypatch, [4 << 30])
    assert pick_device("cpu") == torch.device("cpu")
    fake_gpus(monkeypatch, [])
    assert pick_device("auto") == torch.device("cpu")
    assert capsys.readouterr().err.splitlines() == [
        "device: running on the CPU (config says cpu)",
        "device: running on the CPU (torch sees no CUDA device)",
    ]


def test_asking_for_cuda_without_a_gpu_is_an_error_naming_the_key(monkeypatch):
    fake_gpus(monkeypatch, [])
    with pytest.raises(RuntimeError, match="device: cuda"):
        pick_device("cuda")


def test_set_seed_reaches_python_numpy_and_torch():
    def draws():
        return random.random(), np.random.rand(), torch.rand(1).item()

    set_seed(7)
    a = draws()
    set_seed(7)
    assert draws() == a
    set_seed(8)
    b = draws()
    assert all(x != y for x, y in zip(a, b, strict=True))


def test_set_seed_asks_for_deterministic_kernels_without_importing_the_compiler():
    code = (
        "import sys, torch\n"
        "from mfas_core.runtime import set_seed\n"
        "set_seed(0)\n"
        "assert torch.are_deterministic_algorithms_enabled()\n"
        "assert torch.is_deterministic_algorithms_warn_only_enabled()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch._inductor', 'torch._dynamo'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_input_error_is_one_line_naming_file_and_field():
    err = InputError("data/x.h5", "/train/labels", "has NaN")
    assert str(err) == "data/x.h5: /train/labels: has NaN"
    assert (err.path, err.field, err.problem) == ("data/x.h5", "/train/labels", "has NaN")


def test_rule_log_sends_stderr_to_the_log_and_exits_with_one_line(tmp_path, capsys):
    log = tmp_path / "logs" / "rule" / "job.log"
    job = types.SimpleNamespace(log=[str(log)])
    with pytest.raises(SystemExit) as stop:
        with rule_log(job):
            print("progress 50%", file=sys.stderr)
            raise InputError("in.h5", "attrs/task", "unknown")
    assert stop.value.code == 1
    text = log.read_text()
    assert "progress 50%" in text and "Traceback" in text
    assert capsys.readouterr().err.strip() == "Error: in.h5: attrs/task: unknown"


def test_rule_log_restores_stderr_after_a_successful_job(tmp_path):
    old = sys.stderr
    with rule_log(types.SimpleNamespace(log=[str(tmp_path / "a.log")])):
        assert sys.stderr is not old
    assert sys.stderr is old


def test_sha256_of_a_file_is_that_of_its_bytes(tmp_path):
    import hashlib

    p = tmp_path / "f.bin"
    p.write_bytes(b"x" * 3_000_000)  # more than one read chunk
    assert sha256_file(p) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_cpu_kernels_are_pinned_to_avx2_where_the_cpu_has_it_unless_the_user_chose(tmp_path):
    from mfas_core.runtime import pin_cpu_kernels

    avx2 = tmp_path / "avx2"
    avx2.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n")
    old = tmp_path / "old"
    old.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx\n")
    env = {}
    assert (
        pin_cpu_kernels(env, str(avx2))
        == env
        == {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}
    )
    env = {"ATEN_CPU_CAPABILITY": "avx512"}
    assert pin_cpu_kernels(env, str(avx2)) == {"MKL_CBWR": "AVX2"}
    assert env["ATEN_CPU_CAPABILITY"] == "avx512"
    env = {}
    assert pin_cpu_kernels(env, str(old)) == {} == env
    assert pin_cpu_kernels(env, str(tmp_path / "missing")) == {} == env


def test_the_workflow_pins_the_cpu_kernels_of_its_jobs():
    from pathlib import Path

    snakefile = (Path(__file__).resolve().parent.parent / "Snakefile").read_text()
    assert "\npin_cpu_kernels()\n" in snakefile
