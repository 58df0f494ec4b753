"""The library's shape: one room per pipeline stage, imports only flowing downstream."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mfas_core.config import load_schema
from mfas_core.data.registry import KINDS
from mfas_core.models.registry import BASELINES, build_baseline
from mfas_core.search.batched import ACTIVATIONS
from mfas_core.search.space import NONLINEARITIES

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "mfas_core"

# Stages in the order data flows through them; `ground` serves everyone.
GROUND = ("errors", "atomic", "runtime", "rule_log", "config", "settings", "gpu")
# `training` (the one fit/predict/score core) needs no stage, and the backbones (unimodal),
# final training and DMF all train with it: it comes first after the ground.
ORDER = ["ground", "training", "data", "unimodal", "search", "models", "final", "dmf", "report"]
# Stages that sit side by side in the flow and must not lean on each other.
FORBIDDEN = {"dmf": {"search", "unimodal", "models", "final"}}


def stage_of(module: str) -> str:
    """'mfas_core.search.smbo' -> 'search'; the GROUND modules are the shared ground."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in GROUND:
        return "ground"
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every mfas_core module a file imports, at any depth of the file (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("mfas_core"):
                found.add(node.module)
                found.update(
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if (PACKAGE / Path(*node.module.split(".")[1:]) / a.name).exists()
                    or (PACKAGE / Path(*node.module.split(".")[1:]) / f"{a.name}.py").exists()
                )
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mfas_core"))
    return found


def import_edges() -> list[tuple[str, str]]:
    """(importing module, imported module) for every mfas_core file."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        src = module_name(path)
        edges += [(src, dst) for dst in sorted(imports_of(path)) if dst != "mfas_core"]
    return edges


def test_every_subpackage_and_module_belongs_to_a_known_stage():
    for path in PACKAGE.iterdir():
        if path.name.startswith(("_", ".")) or path.suffix not in ("", ".py"):
            continue
        assert stage_of(f"mfas_core.{path.stem}") in ORDER, path


def test_imports_run_only_from_later_stages_to_earlier_ones():
    wrong = [
        (src, dst)
        for src, dst in import_edges()
        if ORDER.index(stage_of(dst)) > ORDER.index(stage_of(src))
    ]
    assert not wrong, f"imports against the data flow: {wrong}"


def test_side_by_side_stages_do_not_import_each_other():
    wrong = [
        (src, dst)
        for src, dst in import_edges()
        if stage_of(dst) in FORBIDDEN.get(stage_of(src), set())
    ]
    assert not wrong, f"dmf leans on the MFAS half: {wrong}"


def test_import_checker_sees_a_lazy_import_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from mfas_core.search.space import SearchSpace\n")
    assert "mfas_core.search.space" in imports_of(probe)


def test_each_stage_package_says_what_it_takes_writes_and_which_rule_calls_it():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        for word in ("Takes in:", "Writes:", "Called by:"):
            assert word in doc, f"{init.relative_to(REPO)} docstring lacks {word!r}"


def test_schema_kind_enum_and_dataset_registry_name_the_same_kinds():
    entry = load_schema()["properties"]["datasets"]["additionalProperties"]
    assert sorted(entry["properties"]["kind"]["enum"]) == sorted(KINDS)


def test_schema_baselines_enum_and_baseline_registry_name_the_same_baselines():
    final = load_schema()["properties"]["final"]["properties"]
    assert sorted(final["baselines"]["items"]["enum"]) == sorted(BASELINES)
    for name in BASELINES:  # every registered name builds (unimodal: one run per modality)
        for method in ("unimodal_1", "unimodal_2") if name == "unimodal" else (name,):
            assert build_baseline(method, [[4, 6], [5]], 3, width=8, dropout=0.0) is not None


def test_every_searchable_nonlinearity_has_its_one_activation():
    assert sorted(ACTIVATIONS) == sorted(NONLINEARITIES)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_built_by_its_own_module(kind):
    build = KINDS[kind].build
    assert build.__module__.startswith("mfas_core.data."), build.__module__


def test_readme_layout_table_lists_exactly_what_ls_shows():
    text = (REPO / "README.md").read_text()
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`mfas_core/([A-Za-z_]+)(?:\.py|/)`", section))
    on_disk = {
        p.stem
        for p in PACKAGE.iterdir()
        if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix == ".py")
    }
    assert listed == on_disk, f"README lists {sorted(listed)}, mfas_core has {sorted(on_disk)}"
