"""Shared ground: the one error type for bad input files, named by path and field."""

from __future__ import annotations

import os


class InputError(ValueError):
    """Bad input: the message is one line naming the file and the field."""

    def __init__(self, path: str | os.PathLike, field: str, problem: str):
        self.path, self.field, self.problem = str(path), field, problem
        super().__init__(f"{path}: {field}: {problem}")
