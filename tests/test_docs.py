"""The documentation: generated pages are current, links resolve, the README stays short, and
no text points outside the repository or at how the work was organised."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_reference_is_up_to_date_with_the_schema():
    config_doc = _tool("config_doc")
    schema_path = config_doc.schema_path()
    expected = config_doc.render(yaml.safe_load(schema_path.read_text()))
    committed = (ROOT / "config" / "README.md").read_text()
    assert committed == expected, (
        "config/README.md is out of date with the schema: run `make config-doc`"
    )
    # every top-level section of the schema has its own section in the page
    for key, prop in yaml.safe_load(schema_path.read_text())["properties"].items():
        if prop.get("type") == "object":
            assert f"## `{key}`" in committed


def test_config_reference_check_mode_fails_on_a_stale_page(tmp_path):
    config_doc = _tool("config_doc")
    stale = tmp_path / "README.md"
    stale.write_text("# Config reference\n")
    assert config_doc.main(out=stale, check=True) == 1
    assert config_doc.main(out=stale) == 0
    assert config_doc.main(out=stale, check=True) == 0


UNIMODAL = """\
# Unimodal backbones

Scores in %, one seed.

| dataset | modality | backbone | params | metric | val | test | paper (test) | epochs (best) | seconds |
|---|---|---|---|---|---|---|---|---|---|
| avmnist | audio | conv 5×3 | 14,521 | accuracy | 68.36 | 62.89 | 66.06 (LeNet-5 spectrogram only) | 3 (3) | 428 |
"""

DMF_SVM = """\
# SVM on joint representations (DMF encoder–decoder variant)

Accuracy %, mean ± std over seeds.

## mnist_halves_d0

| input | EMF | IMF | DMF | raw inputs | PCA | best code | disc. |
|---|---:|---:|---:|---:|---:|---|---:|
| left+right | 90.24 ± 0.06 | 91.77 ± 0.37 | 93.72 ± 0.11 | 90.36 ± 0.15 | 93.69 ± 0.05 | DMF | 94.73 |
"""


def test_results_doc_is_written_from_the_tables(tmp_path):
    results_doc = _tool("results_doc")
    tables = tmp_path / "results" / "tables"
    tables.mkdir(parents=True)
    (tables / "dmf_svm.md").write_text(DMF_SVM)
    (tables / "unimodal.md").write_text(UNIMODAL)
    out = tmp_path / "results.md"
    text = results_doc.main(tables, out, command="snakemake --cores 2", date="2026-11-23")
    assert out.read_text() == text

    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    header = text.split("\n## ")[0]
    assert f"- **commit**: {commit}" in header
    assert "- **date**: 2026-11-23" in header
    assert "- **command**: `snakemake --cores 2`" in header
    cpu = re.search(r"- \*\*machine\*\*: (.+), (\d+) cores", header)
    assert cpu and int(cpu.group(2)) >= 1
    assert "make results-doc" in header

    # fixed order: unimodal before the DMF tables, whatever the file names' order
    assert text.index("## Unimodal backbones") < text.index("## SVM on joint representations")
    # every line of each table appears verbatim, in order; only headings move one level down
    for table in (UNIMODAL, DMF_SVM):
        lines = table.rstrip("\n").split("\n")[1:]
        expected = "\n".join("#" + ln if ln.startswith("#") else ln for ln in lines).strip("\n")
        assert expected in text
    assert "### mnist_halves_d0" in text
    # default command
    assert "- **command**: `make run`" in results_doc.main(tables, out, date="2026-11-23")


def test_results_doc_copies_each_datasets_top1_picture_beside_the_page(tmp_path):
    results_doc = _tool("results_doc")
    tables = tmp_path / "results" / "tables"
    tables.mkdir(parents=True)
    (tables / "final_mfeat.md").write_text("# Final training on mfeat\n\n| a |\n|---|\n| 1 |\n")
    svg = tmp_path / "results" / "plots" / "arch" / "mfeat" / "top1.svg"
    svg.parent.mkdir(parents=True)
    svg.write_text("<svg>top1 of mfeat</svg>")
    out = tmp_path / "docs" / "results.md"
    out.parent.mkdir()
    text = results_doc.main(tables, out, date="2026-12-02")
    assert (tmp_path / "docs" / "img" / "top1_mfeat.svg").read_text() == svg.read_text()
    assert "](img/top1_mfeat.svg)" in text
    assert "robustness_mfeat.png" not in text  # the run made no such plot


def _doc_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "config" / "README.md"]
    return files + sorted((ROOT / "docs").rglob("*.md"))


LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")


def test_every_relative_link_in_readme_and_docs_resolves():
    broken = []
    for path in _doc_files():
        assert path.exists(), f"{path.relative_to(ROOT)} is missing"
        text = CODE.sub("", FENCE.sub("", path.read_text()))
        for target in LINK.findall(text):
            if re.match(r"(https?://|mailto:|#)", target):
                continue
            target = target.split("#", 1)[0]
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)


SCANNED = [
    "README.md",
    "CHANGELOG.md",
    "Makefile",
    "Snakefile",
    "pyproject.toml",
    "docs",
    "mfas_core",
    "rules",
    "config",
    "report",
    "workflow_scripts",
    "benchmarks",
    "tools",
    "profiles",
]
TEXT_SUFFIXES = {".md", ".py", ".smk", ".yaml", ".yml", ".rst", ".toml", ".txt", ".sh", ""}
FORBIDDEN = [
    (re.compile(r"\.\./shared"), "a path outside the repository"),
    (re.compile(r"/work/"), "a development machine's path"),
    (re.compile(r"/tmp/fullrun"), "a development machine's scratch path"),
    (re.compile(r"\bissues?[ _#-]*\d+", re.I), "an issue number"),
    (re.compile(r"\bissue set\b", re.I), "how the work was organised"),
    (re.compile(r"\bCONTRACTS\.md\b"), "a removed page (now docs/architecture.md)"),
    (re.compile(r"\blab-notes\b"), "a removed folder (folded into docs/)"),
]


def _scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
            ]
    return files


def test_no_text_points_outside_the_repository_or_at_issue_numbers():
    found = []
    for path in _scanned_files():
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            for pattern, why in FORBIDDEN:
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {why}: {line.strip()}")
    assert not found, "\n".join(found)


def test_readme_is_at_most_200_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines"


LINT_OUTPUT = """\
Lints for rule prepare_data (line 4, rules/data.smk):
    * Specify a conda environment or container for each rule.:
      This way, the used software for each specific step is documented, and the
      workflow can be executed on any machine without prerequisites.

Lints for rule search_level (line 37, rules/search.smk):
    * Specify a conda environment or container for each rule.:
      This way, the used software for each specific step is documented.
    * Do not access input and output files individually by index in shell commands:
      When individual access to input or output files is needed (i.e., just writing
      '{input}' is impossible), use names ('{input.somename}') instead of index based access.
"""


def test_snakemake_lint_filter_drops_only_the_conda_advice():
    lint = _tool("snakemake_lint")
    seen, kept = lint.findings(LINT_OUTPUT)
    assert seen == 3
    assert kept[0].startswith("rule search_level (line 37, rules/search.smk): Do not access")
    assert all("conda" not in line for line in kept)
    assert lint.findings(LINT_OUTPUT.split("\nLints for rule search_level")[0]) == (1, [])
