"""A plain (non-editable) `pip install .` ships everything the library reads: the config
schema lives inside the package, so a config validates without a checkout next to it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO

CHECK = """
import sys
from pathlib import Path

import jsonschema
import yaml

import mfas_core
from mfas_core.config import SCHEMA_PATH, dataset_defaults, load_schema

target = Path(sys.argv[1]).resolve()
assert Path(mfas_core.__file__).resolve().is_relative_to(target), mfas_core.__file__
assert SCHEMA_PATH.resolve().is_relative_to(target), SCHEMA_PATH
schema = load_schema()
config = yaml.safe_load(Path(sys.argv[2]).read_text())
jsonschema.Draft202012Validator(schema).validate(config)
assert dataset_defaults(schema)
print("ok")
"""


@pytest.mark.slow
def test_a_non_editable_install_loads_the_schema_and_validates_a_config(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy2(REPO / "pyproject.toml", src)
    shutil.copytree(REPO / "mfas_core", src / "mfas_core",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
           "--no-build-isolation", "--target", str(target), str(src)]  # fmt: skip
    subprocess.run(pip, check=True, cwd=tmp_path, capture_output=True, text=True)
    assert (target / "mfas_core" / "schema.yaml").is_file()
    run = tmp_path / "run"  # no checkout anywhere near: the schema must come from the package
    run.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(target), str(REPO / "config" / "config.yaml")],
        cwd=run, capture_output=True, text=True, env={"PYTHONPATH": str(target)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
