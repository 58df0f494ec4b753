"""Every script in benchmarks/ run end to end on smoke-size data made here, its printed table
checked for numbers. Searches run with the schema's settings shrunk (fewer levels, steps and
surrogate epochs) by patching the script's `schema_defaults`, so each test takes seconds."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from sklearn.datasets import load_digits
from test_search import write_digit_features

from mfas_core.data.schema import write_dataset

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import conv_layout  # noqa: E402
import critical_path  # noqa: E402
import dmf_cd_compare  # noqa: E402
import dmf_cd_table  # noqa: E402
import extract_features  # noqa: E402
import gpu_check  # noqa: E402
import pretrain_mnist_encoder  # noqa: E402
import report_screenshot  # noqa: E402
import search_throughput  # noqa: E402
import search_variants  # noqa: E402
import surrogate_rank  # noqa: E402

NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?"
AVMNIST_TAPS = {"left": [3, 6, 12, 24, 48], "right": [3, 6, 12]}  # the avmnist conv backbones


@pytest.fixture(autouse=True)
def one_thread():
    """Scripts that set torch's thread count (conv_layout: 2) must not leak it."""
    yield
    torch.set_num_threads(1)


def table_rows(text: str) -> list[list[str]]:
    """Cells of the markdown table rows of `text` (header and separator lines dropped)."""
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.strip().startswith("|")
    ]
    return [r for r in rows[2:] if not set("".join(r)) <= set("-:")]


def is_number(cell: str) -> bool:
    return re.fullmatch(NUMBER, cell.replace(" %", "")) is not None


def small_search(monkeypatch, module) -> None:
    """The script's schema defaults for `search:`, shrunk: 2 levels, 1 step, K=4, 1 epoch."""
    real = module.schema_defaults

    def shrunk(section):
        d = real(section)
        if section == "search":
            d |= {"max_layers": 2, "iterations": 1, "k": 4, "epochs": 1, "surrogate_epochs": 5}
            d |= {"surrogate_hidden": 8, "workers": 1}
        return d

    monkeypatch.setattr(module, "schema_defaults", shrunk)


# ------------------------------------------------------------------------- critical_path.py
BASE = {  # rule/job -> (s, cpu_time); the real TSV format, values chosen for hand sums
    "prepare_data/mfeat": (10.0, 8.0),
    "train_backbone/mfeat/pix": (20.0, 15.0),
    "train_backbone/mfeat/fou": (5.0, 4.0),
    "search_level/mfeat/seed0/level1": (7.0, 6.0),
    "search_level/mfeat/seed0/level2": (3.0, 2.0),
    "search_level/mfeat/seed1/level1": (30.0, 1.0),
    "tabulate_search/search": (1.0, 0.5),
}
# A real benchmark file of the smoke run (search_level/mfeat/seed0/level1.tsv).
BENCHMARK_TSV = (
    "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    "6.87\t0:00:06\t374.43\t802.99\t253.06\t297.74\t0.00\t1.16\t85.09\t6.32\n"
)
# The DAG as `snakemake --dag` prints it: labels name only the wildcards a job adds to its
# dependencies' (the level-2 job shows no seed, the backbones no dataset).
DOT = r"""digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
	0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
	1[label = "tabulate_search", color = "0.48 0.6 0.85", style="rounded,dashed"];
	2[label = "search_level\nlevel: 2", color = "0.25 0.6 0.85", style="rounded"];
	3[label = "search_level\nlevel: 1\nseed: 0", color = "0.25 0.6 0.85", style="rounded"];
	4[label = "train_backbone\nmodality: pix", color = "0.54 0.6 0.85", style="rounded"];
	5[label = "prepare_data\ndataset: mfeat", color = "0.22 0.6 0.85", style="rounded"];
	6[label = "train_backbone\nmodality: fou", color = "0.54 0.6 0.85", style="rounded"];
	7[label = "search_level\nlevel: 1\nseed: 1", color = "0.25 0.6 0.85", style="rounded"];
	1 -> 0
	2 -> 1
	7 -> 1
	3 -> 2
	4 -> 3
	6 -> 3
	4 -> 7
	6 -> 7
	5 -> 4
	5 -> 6
}
"""


def write_benchmarks(root: Path) -> Path:
    """results/benchmarks/ in Snakemake's format (a real file's columns), mtimes set so that
    the run spans 100 s."""
    template = pd.read_csv(io.StringIO(BENCHMARK_TSV), sep="\t")
    t0 = 1_700_000_000.0
    for i, (job, (s, cpu)) in enumerate(BASE.items()):
        path = root / f"{job}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        row = template.copy()
        row["s"], row["cpu_time"] = s, cpu
        row.to_csv(path, sep="\t", index=False)
        end = t0 + (100.0 if job == "tabulate_search/search" else s + i * 0.1)
        os.utime(path, (end, end))
    return root


@pytest.fixture
def bench_dir(tmp_path):
    return write_benchmarks(tmp_path / "results" / "benchmarks")


def test_critical_path_sums_stages_finds_the_longest_chain_and_idle_cores(
    bench_dir, tmp_path, capsys
):
    (tmp_path / "dag.dot").write_text(DOT)
    out = tmp_path / "profile.json"
    argv = ["--benchmarks", str(bench_dir), "--dag", str(tmp_path / "dag.dot"), "--cores", "2"]
    critical_path.main([*argv, "--json", "--out", str(out)])
    p = json.loads(out.read_text())
    stages = {s["rule"]: s for s in p["stages"]}
    assert stages["train_backbone"]["jobs"] == 2
    assert stages["train_backbone"]["wall_s"] == pytest.approx(25.0)
    assert stages["search_level"]["cpu_s"] == pytest.approx(9.0)
    assert p["cpu_sum_s"] == pytest.approx(36.5)
    # prepare 10 -> backbone pix 20 -> level1 seed1 30 -> tabulate 1 = 61 (seed 0's chain
    # through level 2 is 10 + 20 + 7 + 3 + 1 = 41)
    chain = p["critical_path"]["jobs"]
    assert p["critical_path"]["total_s"] == pytest.approx(61.0)
    assert [(j["rule"], j["job"]) for j in chain] == [
        ("prepare_data", "mfeat"),
        ("train_backbone", "mfeat/pix"),
        ("search_level", "mfeat/seed1/level1"),
        ("tabulate_search", "search"),
    ]  # `all` (no benchmark, 0 s) adds nothing
    # run: first start = t0 (prepare_data ends at t0 + 10 after 10 s), last end t0 + 100
    assert p["run_wall_s"] == pytest.approx(100.0)
    assert p["idle_core_s"] == pytest.approx(2 * 100.0 - 36.5)
    assert p["warnings"] == ["rules of the DAG without benchmark files (counted as 0 s): all"]

    critical_path.main([*argv, "--wall", "50", "--cores", "4"])
    md = capsys.readouterr().out
    assert "| search_level | 3 | 40.0 | 9.0 |" in md
    assert "Critical path total: **61.0 s**" in md
    assert "| idle core-seconds | 163.5 |" in md  # 4 x 50 - 36.5
    assert "| 3 | search_level | mfeat/seed1/level1 | 30.0 | 60.0 |" in md


def test_critical_path_pairs_the_level_2_job_through_its_ancestors(bench_dir):
    nodes, edges = critical_path.parse_dot(DOT)
    bench = critical_path.read_benchmarks(bench_dir)
    matched, warnings = critical_path.match_jobs(nodes, edges, bench)
    job = {n: bench.at[r, "job"] for n, r in matched.items()}
    assert job["2"] == "mfeat/seed0/level2" and job["3"] == "mfeat/seed0/level1"
    assert job["7"] == "mfeat/seed1/level1" and job["4"] == "mfeat/pix"
    assert "0" not in job


def test_critical_path_runs_snakemake_dry_run_itself(tmp_path, bench_dir, capsys):
    fake = tmp_path / "snakemake"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{DOT}EOF\n")
    fake.chmod(0o755)
    critical_path.main(["--snakemake", str(fake), "--workdir", str(tmp_path)])
    assert "Critical path total: **61.0 s**" in capsys.readouterr().out


# ------------------------------------------------------------------------ search benchmarks
@pytest.fixture(scope="module")
def features(tmp_path_factory):
    """Digit features with the tap widths of the avmnist backbones (audio first)."""
    return write_digit_features(tmp_path_factory.mktemp("feat"), n=120, widths=AVMNIST_TAPS)


@pytest.fixture(scope="module")
def avmnist_h5(tmp_path_factory):
    """A tiny raw dataset file in the avmnist format (small spectrograms and images)."""
    rng = np.random.default_rng(0)
    n = {"train": 72, "val": 24, "test": 24}
    path = tmp_path_factory.mktemp("raw") / "avmnist.h5"
    write_dataset(
        path,
        {
            s: {
                "audio": rng.random((k, 32, 32), dtype=np.float32),
                "image": rng.random((k, 16, 16), dtype=np.float32),
            }
            for s, k in n.items()
        },
        {s: rng.integers(0, 10, k) for s, k in n.items()},
        name="avmnist",
        kind="avmnist",
        classes=[str(i) for i in range(10)],
        sources={},
        params={},
    )
    return path


def test_search_throughput_prints_rates_and_the_full_search_time(features, avmnist_h5, monkeypatch):
    small_search(monkeypatch, search_throughput)
    text = search_throughput.main(
        ["--features", *features, "--data", str(avmnist_h5), "--loop-batches", "2"]
        + ["--one-by-one", "1", "--workers", "1", "--full-search"]
    )
    rows = table_rows(text)
    assert [r[0][:4] for r in rows] == ["(a) ", "(a2)", "(b) ", "(c) "]
    assert all(is_number(r[1]) and float(r[1]) > 0 for r in rows)
    assert re.search(rf"a/c = {NUMBER}×", text) and re.search(rf"a/b = {NUMBER}×", text)
    assert re.search(rf"Whole default search \(L=2.*: {NUMBER} s wall", text)


def test_search_throughput_times_a_mixed_depth_random_step_against_one_net_per_depth(
    features, avmnist_h5, monkeypatch
):
    small_search(monkeypatch, search_throughput)
    text = search_throughput.main(
        ["--features", *features, "--data", str(avmnist_h5), "--loop-batches", "2"]
        + ["--one-by-one", "1", "--workers", "1", "--random-step"]
    )
    assert re.search(
        rf"depths 1..2 \(2, 2 of each\), 1 epoch; largest validation-score difference {NUMBER}",
        text,
    )
    rows = {r[0]: r[1:] for r in table_rows(text)}
    assert is_number(rows["one net, every depth"][0]) and is_number(rows["one net per depth"][0])
    assert re.fullmatch(rf"{NUMBER}×", rows["one net, every depth"][1])


def test_search_throughput_reports_the_extended_space_beside_the_paper_space_for_two_and_three_modalities(
    features, monkeypatch
):
    small_search(monkeypatch, search_throughput)
    text = search_throughput.main(["--features", *features, "--spaces", "--spaces-k", "2"])
    rows = table_rows(text)
    assert [(r[0], r[1]) for r in rows] == [
        (n, space) for n in ("2", "3") for space in (
            "paper (concat)", "extended (random operators)", "extended, product only",
            "extended, gated only", "extended, lowrank only",
        )
    ]  # fmt: skip
    assert all(is_number(r[2]) and float(r[2]) > 0 for r in rows)
    assert [r[4] for r in rows if r[1] == "paper (concat)"] == ["1.00× time"] * 2


@pytest.fixture(scope="module")
def variants_out(features, tmp_path_factory):
    """search_variants.py over two seeds (default and one variant), its printed table."""
    mp = pytest.MonkeyPatch()
    small_search(mp, search_variants)
    out = tmp_path_factory.mktemp("variants")
    try:
        text = search_variants.main(
            ["--features", *features, "--seeds", "0", "1", "--out", str(out), "--workers", "1"]
            + ["--variant", "default", "--variant", "surrogate_memory=step", "--top-k", "3"]
        )
    finally:
        mp.undo()
    return out, text


def test_search_variants_tables_each_variant_and_random_per_seed(variants_out):
    out, text = variants_out
    rows = {r[0]: r for r in table_rows(text)}
    assert set(rows) == {"default", "surrogate_memory=step", "random"}
    for r in rows.values():
        assert is_number(r[1]) and is_number(r[2])  # seed 0, seed 1
    assert re.search(rf"{NUMBER} \[{NUMBER}, {NUMBER}\], p = ", rows["random"][5])
    assert "default vs random:" in text
    assert len(list(out.glob("default/seed*/level*/candidates.tsv"))) == 4


def test_surrogate_rank_replays_the_searches_it_is_given(variants_out, capsys):
    out, _ = variants_out
    tsvs = sorted(str(p) for p in out.glob("default/seed*/level*/candidates.tsv"))
    text = surrogate_rank.main(["--space", "5", "3", "2", *tsvs, "--surrogate-epochs", "5"])
    assert text.startswith("2 searches;")
    rows = table_rows(text)
    assert [r[0] for r in rows] == list(surrogate_rank.MEMORIES)
    assert all(re.fullmatch(rf"{NUMBER} \({NUMBER}\)", c) for r in rows for c in r[1:])

    text = surrogate_rank.main(
        ["--space", "5", "3", "2", *tsvs, "--encodings", "--splits", "2", "--epochs", "20"]
    )
    rows = table_rows(text)
    assert [r[0] for r in rows] == list(surrogate_rank.ENCODINGS)
    assert all(is_number(c) for r in rows for c in r[1:])


# --------------------------------------------------------------------------- other scripts
def test_conv_layout_tables_layouts_and_threads(monkeypatch, capsys):
    argv = ["conv_layout.py", "--steps", "1", "--shape", "16", "16", "--blocks", "2"]
    monkeypatch.setattr(sys, "argv", [*argv, "--channels", "2"])
    conv_layout.main()
    rows = table_rows(capsys.readouterr().out)
    assert [(r[0], r[1]) for r in rows] == [
        ("contiguous", "1"),
        ("contiguous", "2"),
        ("channels-last", "1"),
        ("channels-last", "2"),
    ]
    assert all(is_number(c) for r in rows for c in r[2:])
    assert rows[1][5] == "1.00"  # the reference row


def test_extract_features_reports_throughput_and_memory(tmp_path, monkeypatch, capsys):
    from mfas_core.data.instances import dataset_instances
    from mfas_core.unimodal.backbones import build_backbone

    x, y = load_digits(return_X_y=True)
    img = (x.reshape(-1, 8, 8) / 16).astype(np.float32)[:300]
    vec = np.concatenate([img.sum(1), img.sum(2)], axis=1)
    cut = {"train": slice(0, 200), "val": slice(200, 250), "test": slice(250, 300)}
    data = tmp_path / "digits.h5"
    write_dataset(
        data,
        {s: {"image": img[c], "profile": vec[c]} for s, c in cut.items()},
        {s: y[:300][c] for s, c in cut.items()},
        name="digits",
        kind="hdf5",
        classes=[str(i) for i in range(10)],
        sources={},
        params={},
    )
    cfg = {"datasets": {"digits": {"kind": "hdf5", "path": str(data)}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    spec = dataset_instances(cfg)["digits"]["backbones"]["profile"]
    torch.save(build_backbone(spec, (16,), 10).state_dict(), tmp_path / "profile.pt")
    monkeypatch.setattr(
        sys,
        "argv",
        ["extract_features.py", str(data), str(tmp_path / "profile.pt"), "profile"]
        + ["--config", str(tmp_path / "config.yaml"), "--batch-size", "64", "--threads", "1"],
    )
    extract_features.main()
    (row,) = table_rows(capsys.readouterr().out)
    assert row[:3] == ["digits", "profile", "300"]
    assert all(is_number(c) for c in row[3:])


def write_dmf_run(results: Path, dataset: str, seeds, shift: float) -> None:
    """metrics.json / evaluation.json of both DMF variants as the workflow writes them."""
    for seed in seeds:
        base = results / "dmf" / dataset
        disc = base / "disc" / "dmf" / f"seed{seed}"
        encdec = base / "encdec" / "dmf" / f"seed{seed}"
        disc.mkdir(parents=True)
        encdec.mkdir(parents=True)
        err = {"both": 30.0 + shift + seed, "only_fou": 80.0 - seed, "only_pix": 40.0 + shift}
        (disc / "metrics.json").write_text(json.dumps({"best_epoch": 5 + seed, "test_error": err}))
        (encdec / "metrics.json").write_text(json.dumps({"best_epoch": 4 + seed}))
        ev = {
            "accuracy": {
                "both": 0.25 + shift / 100 + seed / 50,
                "only_fou": 0.28,
                "only_pix": 0.27,
            },
            "map": {"fou2pix": 0.13 + seed / 100, "pix2fou": 0.14 + shift / 100},
        }
        (encdec / "evaluation.json").write_text(json.dumps(ev))


def test_dmf_cd_compare_reads_both_runs_per_variant(tmp_path, monkeypatch, capsys):
    write_dmf_run(tmp_path / "default", "mfeat", [0, 1, 2], 0.0)
    write_dmf_run(tmp_path / "swapped", "mfeat", [0, 1, 2], 2.0)
    monkeypatch.setattr(
        sys,
        "argv",
        ["dmf_cd_compare.py", str(tmp_path / "default"), str(tmp_path / "swapped")]
        + ["--dataset", "mfeat", "--seeds", "0", "1", "2"],
    )
    dmf_cd_compare.main()
    rows = table_rows(capsys.readouterr().out)
    by = {(r[0], r[1]): r for r in rows}
    # disc: no CD = default run (30, 31, 32), CD-1 = swapped run (+2)
    assert by[("disc", "disc test error % (both)")][2:4] == ["31.00 ± 1.00", "33.00 ± 1.00"]
    assert by[("disc", "disc test error % (both)")][4] == "—"  # constant difference: no test
    assert ("encdec", "encdec retrieval mAP (fou2pix)") in by
    for r in rows:
        for cell in r[2:4]:
            assert re.fullmatch(rf"{NUMBER} ± {NUMBER}", cell)


def test_dmf_cd_table_trains_both_variants_with_and_without_cd(monkeypatch, capsys):
    short = {"max_epochs": 2, "encdec_max_epochs": 2, "cd_epochs": 1, "cd_min_steps": 5}
    for k, v in short.items():
        monkeypatch.setitem(dmf_cd_table.COMMON, k, v)
    monkeypatch.setitem(dmf_cd_table.EVAL, "svm_max_train", 200)
    monkeypatch.setitem(dmf_cd_table.EVAL, "retrieval_max_queries", 20)
    dmf_cd_table.main([0, 1])
    rows = table_rows(capsys.readouterr().out)
    names = [r[0] for r in rows]
    assert "disc error % (both)" in names and "encdec mAP left→right" in names
    assert "encdec epochs to best val" in names
    for r in rows:
        for cell in r[1:]:
            assert re.fullmatch(rf"{NUMBER} ± {NUMBER}", cell), r


CHROMIUM = report_screenshot.find_chromium()


def test_report_screenshot_without_arguments_prints_its_usage():
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "report_screenshot.py")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "usage: python benchmarks/report_screenshot.py" in proc.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_report_screenshot_renders_a_page_and_saves_a_png(tmp_path, capsys):
    page = tmp_path / "report.html"
    words = " ".join(report_screenshot.SECTIONS)
    page.write_text(
        "<html><body><div id=app></div><script>document.getElementById('app').textContent = "
        f"{json.dumps(words)};</script><!-- {report_screenshot.CATEGORIES[0]} --></body></html>"
    )
    assert report_screenshot.main(str(page), str(tmp_path / "report.png")) == 0
    assert (tmp_path / "report.png").stat().st_size > 0
    assert "renders with sections" in capsys.readouterr().out


def test_pretrain_mnist_encoder_saves_weights_the_module_route_loads(tmp_path):
    from mfas_core.unimodal.pretrained import build_pretrained

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 128)
    x = rng.random((128, 28, 28)) * 0.2
    x[np.arange(128), 2 * y + 3, 5:20] = 1.0  # a bar whose row is the digit
    net = pretrain_mnist_encoder.pretrain(x, y, tmp_path / "w.pt", epochs=15)
    assert pretrain_mnist_encoder.accuracy(net, x, y) > 0.3  # chance: 0.1
    spec = {"type": "module", "factory": "pretrain_mnist_encoder:lenet",
            "weights": str(tmp_path / "w.pt"), "taps": ["block1", "block2", "block3"]}  # fmt: skip
    model = build_pretrained(spec, (28, 28), 10).eval()
    assert model.tap_sizes == [8, 16, 32]
    with torch.no_grad():
        torch.testing.assert_close(model.net(torch.from_numpy(x[:4]).float()),
                                   net(torch.from_numpy(x[:4]).float()))  # fmt: skip


def test_every_benchmark_script_has_a_test_here():
    here = Path(__file__).read_text()
    for script in sorted((REPO / "benchmarks").glob("*.py")):
        assert f"import {script.stem}  # noqa" in here, script.name


# ------------------------------------------------------------------------------ gpu_check.py
def test_gpu_check_without_a_gpu_says_so_in_one_line_and_exits_non_zero(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # no device visible even on a GPU host
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--out", str(tmp_path / "r.md")],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("gpu-check: no GPU")
    assert not (tmp_path / "r.md").exists()


def test_gpu_check_covers_every_rule_that_declares_a_gpu():
    assert set(gpu_check.training_rules()) == {
        "train_backbone", "extract_features", "search_level", "search_random", "train_dmf",
        "evaluate_dmf", "train_final", "train_final_baseline", "extract_perturbed_features",
        "evaluate_final_robustness", "measure_final_cost",
    }  # fmt: skip


def test_gpu_check_flags_a_training_log_that_names_no_cuda_device(tmp_path):
    good = "device: GPU slot 0 of 1 (x)\ndevice: cuda:0 NVIDIA H200 (CUDA_VISIBLE_DEVICES=0)\n"
    (tmp_path / "train_dmf" / "a").mkdir(parents=True)
    (tmp_path / "train_dmf" / "a" / "ok.log").write_text(good)
    (tmp_path / "train_dmf" / "a" / "cpu.log").write_text("device: running on the CPU (x)\n")
    n, problems = gpu_check.check_device_logs(tmp_path, ["train_dmf", "search_level"])
    assert n == 2
    assert [p.split(": ", 1)[0] for p in problems] == [
        str(tmp_path / "train_dmf" / "a" / "cpu.log"), str(tmp_path / "search_level"),
    ]  # fmt: skip


def test_gpu_check_inputs_feed_the_throughput_benchmark(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "PAPER_SPLITS", {"train": 96, "val": 32, "test": 32})
    monkeypatch.setattr(gpu_check, "RAW_PER_SPLIT", 16)
    monkeypatch.setattr(gpu_check, "RAW_SHAPES", {"audio": (32, 32), "image": (16, 16)})
    features, raw = gpu_check.write_paper_size_inputs(tmp_path)
    small_search(monkeypatch, search_throughput)
    text = search_throughput.main(
        ["--features", *features, "--data", raw, "--loop-batches", "2", "--one-by-one", "1"]
        + ["--workers", "1", "--device", "cpu"]
    )
    assert "96 training samples" in text and "device cpu" in text
    assert [r[0][:4] for r in table_rows(text)] == ["(a) ", "(a2)", "(b) ", "(c) "]
