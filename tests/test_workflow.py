"""End-to-end: the Snakemake workflow on config/smoke.yaml (run once per session)."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import copy_workflow, snakemake
from helpers import workflow_config

from mfas_core.data.instances import dataset_instances
from mfas_core.data.schema import read_attrs, read_split, validate_dataset
from mfas_core.unimodal.backbones import load_backbone
from mfas_core.unimodal.features import FeatureStore

pytestmark = pytest.mark.slow  # every test here runs the workflow (or a dry run of it)


def planned_rules(workdir, *args) -> dict[str, int]:
    """Rule name -> job count that `snakemake -n` would run."""
    out = snakemake(workdir, "-n", "--quiet", "rules", *args).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts


def test_dry_run_of_default_config_lists_every_stage(tmp_path):
    rules = planned_rules(copy_workflow(tmp_path))
    for rule in (
        "prepare_data",
        "train_backbone",
        "extract_features",
        "search_level",
        "train_dmf",
        "all",
    ):
        assert rule in rules, rules
    assert rules["prepare_data"] == 6  # avmnist, mfeat, mnist_halves at 4 damage levels


def test_training_jobs_ask_for_a_gpu_unless_the_config_pins_the_cpu(tmp_path):
    workdir = copy_workflow(tmp_path)
    target = "results/backbones/avmnist/image.pt"
    auto = snakemake(workdir, "-n", target).stdout
    cpu = snakemake(workdir, "-n", target, "--config", "device=cpu").stdout
    assert "rule train_backbone:" in auto and "rule train_backbone:" in cpu
    assert "gpu=1" in auto
    assert "gpu=1" not in cpu


def test_invalid_config_stops_before_any_rule_and_names_the_key(tmp_path):
    workdir = copy_workflow(tmp_path)
    cfg = yaml.safe_load((workdir / "config" / "smoke.yaml").read_text())
    cfg["search"]["k"] = 0
    (workdir / "bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(workdir, "--cores", "1", "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    assert "0 is less than the minimum of 1" in proc.stderr
    assert "On instance['search']['k']" in proc.stderr  # the key, not just any "k"
    assert not (workdir / "results").exists()


def test_smoke_run_writes_valid_datasets(smoke_workflow):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    for name in dataset_instances(cfg):
        attrs = validate_dataset(smoke_workflow / "results" / "data" / f"{name}.h5")
        assert attrs["sources"], name
        assert len(attrs["modalities"]) == 2


def test_smoke_run_caches_every_tap_of_both_backbones(smoke_workflow):
    for modality, taps in (("audio", 5), ("image", 3)):
        store = FeatureStore(smoke_workflow / "results" / "features" / "avmnist" / f"{modality}.h5")
        assert store.n_layers == taps
        data = smoke_workflow / "results" / "data" / "avmnist.h5"
        n_test = read_attrs(data)["params"]["n_test"]
        assert store.n_samples("test") == len(read_split(data, "test")[1]) == n_test == 200
        store.verify(smoke_workflow / "results" / "backbones" / "avmnist" / f"{modality}.pt", data)


def test_cached_features_are_the_backbone_run_on_the_raw_test_input(smoke_workflow):
    # The backbone spec as the run saw it: smoke.yaml merged over config/config.yaml, whose
    # avmnist audio backbone pools its input (input_pool: 2); smoke.yaml alone lacks that.
    results = smoke_workflow / "results"
    cfg = workflow_config(smoke_workflow, "smoke.yaml")
    data = results / "data" / "avmnist.h5"
    x, y = read_split(data, "test")
    for modality in ("image", "audio"):
        spec = dataset_instances(cfg)["avmnist"]["backbones"][modality]
        store = FeatureStore(results / "features" / "avmnist" / f"{modality}.h5")
        shape = tuple(read_attrs(data)["shapes"][modality])
        net = load_backbone(
            results / "backbones" / "avmnist" / f"{modality}.pt", spec, shape, store.n_classes
        ).eval()
        with torch.no_grad():
            raw = torch.from_numpy(x[modality])
            taps, logits = net.taps(raw), net(raw).numpy()
        for k, tap in enumerate(taps, 1):
            assert np.abs(tap.numpy() - store.layer("test", k)).max() < 1e-3, (modality, k)
        assert np.abs(logits - store.logits("test")).max() < 1e-3
        np.testing.assert_array_equal(store.labels("test"), y)
        metrics = json.loads(
            (results / "backbones" / "avmnist" / f"{modality}.metrics.json").read_text()
        )
        assert float((logits.argmax(1) == y).mean()) == pytest.approx(metrics["test"], abs=1e-9)


def test_unimodal_table_puts_the_paper_beside_ours(smoke_workflow):
    text = (smoke_workflow / "results" / "tables" / "unimodal.md").read_text()
    assert "74.52" in text and "66.06" in text


def planned_jobs(workdir, *args) -> list[dict]:
    """Every job of a dry run: {"rule", "log": [...], "benchmark": [...]} per job."""
    proc = snakemake(workdir, "-n", *args)
    out = proc.stdout + proc.stderr
    jobs = []
    for line in out.splitlines():
        m = re.match(r"^(?:local)?rule (\w+):$", line)
        if m:
            jobs.append({"rule": m.group(1), "log": [], "benchmark": []})
            continue
        m = re.match(r"^\s+(log|benchmark): (.+)$", line)
        if m and jobs:
            jobs[-1][m.group(1)] += [p.strip() for p in m.group(2).split(",")]
    return jobs


def test_every_job_of_every_rule_wrote_its_log_and_benchmark(smoke_workflow):
    jobs = planned_jobs(smoke_workflow, "--forceall", "--configfile", "config/smoke.yaml")
    rules = {j["rule"] for j in jobs} - {"all"}
    assert len(rules) >= 15 and len(jobs) > 40  # the whole smoke DAG was listed
    missing = []
    for job in jobs:
        if job["rule"] == "all":
            continue
        if len(job["log"]) != 1 or len(job["benchmark"]) != 1:
            missing.append(
                f"{job['rule']}: declares log {job['log']}, benchmark {job['benchmark']}"
            )
            continue
        log, bench = smoke_workflow / job["log"][0], smoke_workflow / job["benchmark"][0]
        if not log.is_file():
            missing.append(f"{job['rule']}: no log {log}")
        if not bench.is_file() or "s\th:m:s" not in bench.read_text():
            missing.append(f"{job['rule']}: no benchmark {bench}")
        if not job["log"][0].startswith(f"logs/{job['rule']}/"):
            missing.append(f"{job['rule']}: log outside logs/{job['rule']}/")
        if not job["benchmark"][0].startswith(f"results/benchmarks/{job['rule']}/"):
            missing.append(f"{job['rule']}: benchmark outside results/benchmarks/{job['rule']}/")
    assert not missing, "\n".join(missing)


def test_finished_workflow_has_nothing_left_to_do(smoke_workflow):
    assert planned_rules(smoke_workflow, "--configfile", "config/smoke.yaml") == {}


def test_config_edit_reruns_only_the_affected_rules(smoke_workflow, tmp_path):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    cfg["dmf"]["max_epochs"] += 1
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(cfg))
    rules = planned_rules(smoke_workflow, "--configfile", str(edited))
    assert "train_dmf" in rules
    assert not {"prepare_data", "train_backbone", "extract_features", "search_level"} & set(rules)


def test_dry_run_through_the_slurm_profile_plans_every_job_with_its_resources(tmp_path):
    workdir = copy_workflow(tmp_path)
    proc = snakemake(workdir, "-n", "--profile", "profiles/slurm")
    out = proc.stdout + proc.stderr
    assert "This was a dry-run" in out
    profile = yaml.safe_load((workdir / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    # jobs of a group job are printed indented under its "Group job <name>" line
    jobs = re.findall(r"^\s*rule (\w+):\n(.*?)(?=\n\n|\Z)", out, flags=re.M | re.S)
    rules = {r for r, _ in jobs}
    groups = re.findall(r"Group job (\w+) ", out)
    assert groups.count("search") == 6  # one per search (2 datasets x 3 seeds): its levels
    assert set(groups) == set(profile["groups"].values()) == {"search", "dmf"}
    assert {"prepare_data", "train_backbone", "search_level", "train_dmf"} <= rules
    assert set(profile["set-resources"]) <= rules  # no request for a rule that does not exist
    for rule, block in jobs:
        res = dict(re.findall(r"(\w+)=([^,\s]+)", block.split("resources:")[1]))
        want = profile["set-resources"].get(rule, {}).get("mem_mb")
        want = want or profile["default-resources"]["mem_mb"]
        assert int(res["mem_mb"]) == want, (rule, res)
        assert int(res["runtime"]) == profile["default-resources"]["runtime"]
        if rule in ("train_backbone", "search_level", "train_dmf"):
            assert res.get("gpu") == "1", (rule, res)  # the default config asks for a GPU


def ink_lost(workdir, level_suffix: str) -> dict[str, float]:
    """Per split: share of the right half's inked pixels (at d0) that are zero at this level."""
    data = workdir / "results" / "data"
    out = {}
    for split in ("train", "val", "test"):
        clean, y0 = read_split(data / "mnist_halves_d0.h5", split)
        hurt, y1 = read_split(data / f"mnist_halves_{level_suffix}.h5", split)
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_array_equal(clean["left"], hurt["left"])
        ink = clean["right"] > 0
        out[split] = float(((hurt["right"] == 0) & ink).sum() / ink.sum())
    return out


def test_smoke_damage_level_zeroes_that_share_of_every_split_right_half(smoke_workflow):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    assert cfg["datasets"]["mnist_halves"]["damage_levels"] == [0.0, 0.5]
    for split, lost in ink_lost(smoke_workflow, "d50").items():
        assert abs(lost - 0.5) < 0.02, split
    assert set(ink_lost(smoke_workflow, "d0").values()) == {0.0}


def test_dmf_errors_differ_between_damage_levels(smoke_workflow):
    errors = {}
    for path in (smoke_workflow / "results" / "dmf").glob(
        "mnist_halves_d*/disc/*/seed0/metrics.json"
    ):
        m = json.loads(path.read_text())
        errors[(path.parts[-5], m["model"])] = m["test_error"]
    models = {model for _, model in errors}
    assert models == {"emf", "imf", "dmf"}, errors
    for model in models:
        clean, hurt = errors[("mnist_halves_d0", model)], errors[("mnist_halves_d50", model)]
        assert clean != hurt, model
    # the damaged right half alone is harder to read, averaged over the three networks
    mean = lambda ds: np.mean([errors[(ds, m)]["only_right"] for m in models])  # noqa: E731
    assert mean("mnist_halves_d50") > mean("mnist_halves_d0")


def test_search_table_numbers_are_those_of_the_candidates(smoke_workflow):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())["search"]
    top_k = 5  # schema default of search.top_k (smoke does not set it)
    text = (smoke_workflow / "results" / "tables" / "search.md").read_text()
    for ds in ("avmnist", "mfeat"):
        root = smoke_workflow / f"results/search/{ds}/seed0"
        levels = [
            pd.read_csv(root / f"level{lv}/candidates.tsv", sep="\t")
            for lv in range(1, cfg["max_layers"] + 1)
        ]
        mfas = pd.concat(levels)["val_score"].sort_values(ascending=False).to_numpy()
        rand = pd.read_csv(root / "random/candidates.tsv", sep="\t")["val_score"]
        rand = rand.sort_values(ascending=False).to_numpy()
        # both methods: the top_k best of all they trained (smoke: search.k 4 < top_k 5)
        assert cfg["k"] < top_k
        for method, scores, n, used in (
            ("MFAS", mfas, len(mfas), mfas[:top_k]),
            (r"random \(paper\)", rand, len(rand), rand[:top_k]),
        ):
            row = re.search(
                rf"^\| {ds} \| {method} \| 0 \| (\d+) \| ([\d.]+) \(([\d.]+)\) \| ([\d.]+) \|",
                text,
                re.M,
            )
            assert row, (ds, method, text)
            assert int(row[1]) == n
            assert float(row[2]) == pytest.approx(used.mean(), abs=6e-5)
            assert float(row[3]) == pytest.approx(used.std(), abs=6e-5)
            assert float(row[4]) == pytest.approx(scores[0], abs=6e-5)


def test_search_plot_shows_every_step_of_the_candidates(smoke_workflow, tmp_path, monkeypatch):
    from mfas_core.report import plots

    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)
    root = smoke_workflow / "results/search/mfeat/seed0"
    tsvs = sorted(str(p) for p in root.glob("level*/candidates.tsv"))
    plots.plot_search(tsvs, str(tmp_path / "p.png"))
    frame = pd.concat(pd.read_csv(p, sep="\t") for p in tsvs)
    (fig,) = figures
    errors, temps = fig.axes
    scatter = errors.collections[0].get_offsets()
    assert len(scatter) == len(frame)
    np.testing.assert_allclose(np.sort(scatter[:, 1]), np.sort(1 - frame["val_score"]))
    (mean_line,) = errors.get_lines()
    steps = frame.groupby("step")["val_score"].mean()
    np.testing.assert_allclose(mean_line.get_xdata(), steps.index)
    np.testing.assert_allclose(mean_line.get_ydata(), 1 - steps.to_numpy())
    (temp_line,) = temps.get_lines()
    want = frame.groupby("step")["temperature"].first().dropna()
    np.testing.assert_allclose(temp_line.get_ydata(), want.to_numpy())


def search_frames(workdir, ds: str, names: list[str]) -> dict[str, pd.DataFrame]:
    root = workdir / f"results/search/{ds}/seed0"
    return {
        n: pd.read_csv(root / n / "candidates.tsv", sep="\t").drop(columns=["train_seconds"])
        for n in names
    }


def test_search_levels_two_and_three_and_random_search_repeat_exactly(smoke_workflow, tmp_path):
    cfg = yaml.safe_load((smoke_workflow / "config" / "smoke.yaml").read_text())
    cfg["search"].update(max_layers=3, datasets=["mfeat"])
    workdir = copy_workflow(tmp_path)
    (workdir / "config" / "three.yaml").write_text(yaml.safe_dump(cfg))
    for part in ("data", "backbones", "features"):  # copies keep their times: up to date
        shutil.copytree(smoke_workflow / "results" / part, workdir / "results" / part)
    root = workdir / "results/search/mfeat/seed0"
    targets = [str(root.relative_to(workdir) / n / "candidates.tsv") for n in ("level3", "random")]
    args = ("--cores", "2", "--configfile", "config/three.yaml", "--rerun-triggers", "mtime")
    names = ["level1", "level2", "level3", "random"]
    snakemake(workdir, *targets, *args)
    first = search_frames(workdir, "mfeat", names)
    for name in ("level2", "level3", "random"):
        shutil.rmtree(root / name)
    snakemake(workdir, *targets, *args)
    second = search_frames(workdir, "mfeat", names)
    assert len(first["level3"]) == cfg["search"]["iterations"] * cfg["search"]["k"]
    for name in names:
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)
