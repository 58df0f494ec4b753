"""Atomic writing: a failure inside a write, after data reached the temporary file, leaves
neither the output nor a temporary file behind (and never a set of outputs that looks
complete)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from mfas_core import atomic
from mfas_core.atomic import atomic_files, atomic_path, write_json, write_text, write_tsv


class ReplaceFails(OSError):
    """The injected failure."""


@pytest.fixture
def replace_fails(monkeypatch):
    """Make the rename into place fail after checking that the data did reach the temporary
    file; returns the list of (temporary path, bytes) seen at the moment of failure."""
    seen = []
    real = os.replace

    def failing(src, dst, *a, **kw):
        seen.append((str(src), os.path.getsize(src)))
        raise ReplaceFails(f"disk full while moving {src} to {dst}")

    monkeypatch.setattr(atomic.os, "replace", failing)
    yield seen
    monkeypatch.setattr(atomic.os, "replace", real)


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_atomic_path_moves_the_written_file_into_place_with_usual_permissions(tmp_path):
    out = tmp_path / "sub" / "out.txt"
    with atomic_path(out) as tmp:
        assert tmp != out and tmp.parent == out.parent
        tmp.write_text("done")
        assert not out.exists()
    umask = os.umask(0)
    os.umask(umask)
    assert out.read_text() == "done"
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert leftovers(out.parent) == ["out.txt"]


def test_error_after_writing_the_temporary_file_leaves_nothing(tmp_path):
    out = tmp_path / "out.txt"
    with pytest.raises(RuntimeError, match="mid-write"):
        with atomic_path(out) as tmp:
            tmp.write_text("half of it")
            raise RuntimeError("mid-write")
    assert leftovers(tmp_path) == []


def test_error_inside_a_write_keeps_the_previous_output_unchanged(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(out) as tmp:
            tmp.write_text("new")
            raise RuntimeError("mid-write")
    assert out.read_text() == "old"
    assert leftovers(tmp_path) == ["out.txt"]


@pytest.mark.parametrize(
    "writer",
    [
        lambda p: write_json(p, {"a": [1, 2, 3]}),
        lambda p: write_text(p, "some text\n"),
        lambda p: write_tsv(p, pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})),
    ],
    ids=["json", "text", "tsv"],
)
def test_writers_failing_after_the_data_is_written_leave_nothing(tmp_path, replace_fails, writer):
    with pytest.raises(ReplaceFails):
        writer(tmp_path / "out")
    assert len(replace_fails) == 1 and replace_fails[0][1] > 0  # the data had been written
    assert leftovers(tmp_path) == []


def test_writers_write_what_they_were_given(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1.5]})
    write_tsv(tmp_path / "a.tsv", pd.DataFrame({"x": [1, 2], "y": ["u", "v"]}))
    write_text(tmp_path / "a.txt", "hello")
    assert (tmp_path / "a.json").read_text() == '{\n  "a": [\n    1.5\n  ],\n  "b": 1\n}\n'
    assert json.loads((tmp_path / "a.json").read_text()) == {"b": 1, "a": [1.5]}
    assert (tmp_path / "a.tsv").read_text() == "x\ty\n1\tu\n2\tv\n"
    assert (tmp_path / "a.txt").read_text() == "hello"


def test_dataset_file_failing_mid_write_leaves_nothing(tmp_path, replace_fails):
    from mfas_core.data.schema import write_dataset

    rng = np.random.default_rng(0)
    splits = {s: {"a": rng.random((4, 3), dtype=np.float32)} for s in ("train", "val", "test")}
    splits = {s: {**v, "b": v["a"] * 2} for s, v in splits.items()}
    labels = {s: np.arange(4) % 2 for s in splits}
    with pytest.raises(ReplaceFails):
        write_dataset(
            tmp_path / "d.h5", splits, labels, name="toy", kind="hdf5", classes=["x", "y"],
            sources={}, params={},
        )  # fmt: skip
    assert replace_fails[0][1] > 1000  # a whole HDF5 file was in the temporary file
    assert leftovers(tmp_path) == []


def test_dmf_table_writer_failing_mid_write_leaves_nothing(tmp_path, replace_fails, monkeypatch):
    from mfas_core.report import dmf_tables

    monkeypatch.setattr(dmf_tables, "read_metrics", lambda paths: [])
    monkeypatch.setattr(dmf_tables, "mnist_table", lambda metrics: "| a table |\n")
    with pytest.raises(ReplaceFails):
        dmf_tables.write_mnist_table([], tmp_path / "mnist.md")
    assert replace_fails[0][1] > 0
    assert leftovers(tmp_path) == []


# --- several outputs written as one (a search level's four files) -------------------------

FOUR = ("candidates.tsv", "surrogate.pt", "bank.pt", "state.json")


def test_several_outputs_appear_together_when_the_block_succeeds(tmp_path):
    outs = [tmp_path / "level_2" / n for n in FOUR]
    with atomic_files(outs) as tmps:
        assert len(tmps) == 4 and len(set(tmps)) == 4
        for i, tmp in enumerate(tmps):
            tmp.write_text(f"file {i}")
            assert not any(o.exists() for o in outs)
    assert [o.read_text() for o in outs] == [f"file {i}" for i in range(4)]
    assert leftovers(tmp_path / "level_2") == sorted(FOUR)


def test_failure_between_two_of_the_files_leaves_no_output_and_no_temporary(tmp_path):
    outs = [tmp_path / n for n in FOUR]
    with pytest.raises(RuntimeError, match="surrogate"):
        with atomic_files(outs) as tmps:
            tmps[0].write_text("candidates")
            tmps[1].write_text("surrogate")
            raise RuntimeError("surrogate could not be saved")
    assert leftovers(tmp_path) == []


def test_failure_while_moving_the_files_into_place_removes_those_already_moved(
    tmp_path, monkeypatch
):
    outs = [tmp_path / n for n in FOUR]
    real, calls = os.replace, []

    def third_fails(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise ReplaceFails("disk full")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", third_fails)
    with pytest.raises(ReplaceFails):
        with atomic_files(outs) as tmps:
            for tmp in tmps:
                tmp.write_text("x")
    assert len(calls) == 3  # two files had been moved into place before the failure
    assert leftovers(tmp_path) == []


def test_failure_of_a_set_leaves_older_unrelated_files_alone(tmp_path):
    (tmp_path / "level_1.tsv").write_text("earlier level")
    with pytest.raises(RuntimeError):
        with atomic_files([tmp_path / "a", tmp_path / "b"]) as tmps:
            tmps[0].write_text("a")
            raise RuntimeError("stop")
    assert leftovers(tmp_path) == ["level_1.tsv"]


def test_the_same_output_named_twice_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="twice"):
        with atomic_files([tmp_path / "a", tmp_path / "a"]):
            pass
    assert leftovers(tmp_path) == []


def test_several_outputs_get_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    outs = [tmp_path / "a", tmp_path / "b"]
    with atomic_files(outs) as tmps:
        for tmp in tmps:
            tmp.write_text("x")
    assert {stat.S_IMODE(o.stat().st_mode) for o in outs} == {0o666 & ~umask}


def test_search_level_failing_between_its_files_leaves_no_level_output(tmp_path, monkeypatch):
    from test_search import settings, write_digit_features

    from mfas_core.search.batched import WeightBank
    from mfas_core.search.smbo import run_search_level

    features = write_digit_features(tmp_path / "digits", n=300)

    def bank_save_fails(self, path):
        raise ReplaceFails("disk full while saving the weight bank")

    monkeypatch.setattr(WeightBank, "save", bank_save_fails)
    out = tmp_path / "level1"
    with pytest.raises(ReplaceFails):
        run_search_level(features, str(out), 1, None, settings(k=2, epochs=1))
    assert leftovers(out) == []


def test_read_metrics_keeps_order_adds_the_path_and_names_a_broken_file(tmp_path):
    from mfas_core.atomic import read_metrics
    from mfas_core.errors import InputError

    paths = [tmp_path / "b.json", tmp_path / "a.json"]
    for i, p in enumerate(paths):
        write_json(p, {"val": i})
    assert read_metrics(paths) == [
        {"val": 0, "path": str(paths[0])},
        {"val": 1, "path": str(paths[1])},
    ]
    (tmp_path / "bad.json").write_text("{not json")
    for bad in (tmp_path / "bad.json", tmp_path / "missing.json"):
        with pytest.raises(InputError, match=f"{bad}: file: not readable JSON"):
            read_metrics([paths[0], bad])


KILLED_WRITER = """
import os, signal, sys
from mfas_core.atomic import atomic_files, atomic_path
out = sys.argv[1]
with (atomic_path(out) if sys.argv[2] == "one" else atomic_files([out, out + ".b"])) as tmp:
    (tmp if sys.argv[2] == "one" else tmp[0]).write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup runs
"""


@pytest.mark.parametrize("kind", ["one", "set"])
def test_a_rerun_removes_the_temporary_files_a_killed_writer_left(tmp_path, kind):
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "metrics.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out), kind], env=env)
    assert proc.returncode == -9
    left = leftovers(tmp_path)
    assert left and all(n.startswith(".metrics.json.") and n.endswith(".tmp") for n in left)
    (tmp_path / ".metrics.json.c.abcdefgh.tmp").write_text("another output's")
    (tmp_path / ".other.json.abcdefgh.tmp").write_text("another output's")
    if kind == "one":
        write_json(out, {"a": 1})
    else:
        with atomic_files([out, tmp_path / "metrics.json.b"]) as tmps:
            for t in tmps:
                t.write_text("{}")
    assert leftovers(tmp_path) == sorted(
        [".metrics.json.c.abcdefgh.tmp", ".other.json.abcdefgh.tmp", "metrics.json"]
        + (["metrics.json.b"] if kind == "set" else [])
    )


def test_torch_files_repeat_byte_for_byte_whatever_the_temporary_name(tmp_path):
    import torch

    from mfas_core.atomic import save_torch

    state = {"w": torch.arange(6.0).reshape(2, 3)}
    for name in ("a.pt", "b.pt"):
        with atomic_path(tmp_path / name) as tmp:
            save_torch(state, tmp)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert torch.equal(torch.load(tmp_path / "a.pt", weights_only=True)["w"], state["w"])
