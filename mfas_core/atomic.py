"""Shared ground: files on disk. Atomic writes (temporary path, then rename), the JSON
read-back of metrics files, and hashing."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mfas_core.errors import InputError


def _temp_for(path: Path) -> Path:
    """A new temporary file next to `path` (`.<name>.<8 random>.tmp`), after removing the ones
    a killed writer of `path` left behind (SIGKILL skips the cleanup below; Snakemake runs one
    job per output at a time, so an old temporary of the same output is always stale)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stale = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    for old in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if stale.fullmatch(old.name):
            old.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds.

    Nothing half-written is ever left at `path`: on error the temporary file is removed.
    """
    path = Path(path)
    tmp = _temp_for(path)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_files(paths: list[str | os.PathLike]) -> Iterator[list[Path]]:
    """Several outputs written as one: yield a temporary path per output, and move them all
    onto their outputs only if the block succeeds.

    A step that writes several files one after another (a search level's candidates,
    surrogate, bank and state) must never leave a set that looks complete but is not: if the
    block raises, every temporary file is removed and no output is touched; if moving one
    file into place fails, the outputs already moved are removed again, so either all
    outputs are new or none exists.
    """
    paths = [Path(p) for p in paths]
    if len(set(paths)) != len(paths):
        raise ValueError(f"atomic_files: the same output is named twice in {paths}")
    tmps: list[Path] = []
    placed: list[Path] = []
    try:
        for path in paths:
            tmps.append(_temp_for(path))
        yield list(tmps)
        umask = os.umask(0)
        os.umask(umask)
        for tmp in tmps:
            os.chmod(tmp, 0o666 & ~umask)
        try:
            for tmp, path in zip(tmps, paths, strict=True):
                os.replace(tmp, path)
                placed.append(path)
        except BaseException:
            for path in placed:
                path.unlink(missing_ok=True)
            raise
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write `obj` as pretty JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_tsv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as TSV, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False)


def save_torch(obj, path: str | os.PathLike) -> None:
    """torch.save `obj` to `path` (usually an atomic_path's temporary file), byte-reproducibly.

    torch.save into a file names the zip archive's root folder after the file, so a save to a
    random temporary name gives other bytes each run; saved through a buffer, the root is
    always `archive` and the same object gives the same bytes (torch.load reads both).
    """
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    Path(path).write_bytes(buf.getvalue())


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_metrics(paths) -> list[dict]:
    """metrics.json files (any JSON objects), in order, each with its path under "path".

    A missing or broken file is an InputError naming it, never a skipped row.
    """
    out = []
    for p in paths:
        try:
            out.append({**json.loads(Path(p).read_text()), "path": str(p)})
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(p, "file", f"not readable JSON ({exc.__class__.__name__})") from None
    return out
