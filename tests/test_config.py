"""Config: schema validation, dataset instances, cross-field checks."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import REPO
from snakemake.utils import validate

from mfas_core.config import SCHEMA_PATH, ConfigError, check_config
from mfas_core.data.instances import dataset_instances

SCHEMA = str(SCHEMA_PATH)


def load(name: str) -> dict:
    cfg = yaml.safe_load((REPO / "config" / name).read_text())
    validate(cfg, SCHEMA)
    return cfg


@pytest.mark.parametrize(
    "name", ["config.yaml", "smoke.yaml", "paper.yaml", "three_views.yaml", "search_ops.yaml"]
)
def test_shipped_configs_validate_and_pass_cross_checks(name):
    cfg = load(name)
    check_config(cfg, dataset_instances(cfg))


def test_validation_fills_search_defaults_from_the_reference_code():
    cfg = load("config.yaml")
    s = cfg["search"]
    assert (s["iterations"], s["k"], s["max_layers"], s["epochs"]) == (3, 15, 4, 3)
    assert (s["t_max"], s["t_min"], s["sigma"]) == (10.0, 0.2, 4.0)


def test_reordering_keys_in_a_dataset_entry_leaves_its_params_text_unchanged():
    # Snakemake compares params by their text: a reordered entry must not re-run its jobs.
    a = {"kind": "avmnist", "snr_db": 0.0, "backbones": {"audio": {"type": "conv", "blocks": 5}}}
    b = {"backbones": {"audio": {"blocks": 5, "type": "conv"}}, "snr_db": 0.0, "kind": "avmnist"}
    spec_a = dataset_instances(load_with({"x": a}))["x"]
    spec_b = dataset_instances(load_with({"x": b}))["x"]
    assert repr(spec_a) == repr(spec_b)


def test_modality_order_of_the_backbones_follows_the_dataset_not_the_alphabet():
    cfg = load_with({"m": {"kind": "mfeat", "views": ["pix", "fou"]}})
    assert list(dataset_instances(cfg)["m"]["backbones"]) == ["pix", "fou"]


def load_with(datasets: dict) -> dict:
    cfg = load("config.yaml")
    cfg["datasets"] = datasets
    validate(cfg, SCHEMA)
    return cfg


def test_mnist_halves_entry_expands_to_one_dataset_per_damage_level():
    cfg = load("config.yaml")
    inst = dataset_instances(cfg)
    halves = sorted(k for k, v in inst.items() if v["kind"] == "mnist_halves")
    assert halves == ["mnist_halves_d0", "mnist_halves_d30", "mnist_halves_d50", "mnist_halves_d70"]
    assert inst["mnist_halves_d30"]["damage"] == 0.3


def test_avmnist_modality_one_is_audio_with_five_taps():
    inst = dataset_instances(load("config.yaml"))["avmnist"]
    assert inst["modalities"] == ["audio", "image"]
    assert inst["backbones"]["audio"]["blocks"] == 5 and inst["backbones"]["image"]["blocks"] == 3


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["search"].update(max_layers=0), "max_layers"),
        (lambda c: c["search"].update(nonlinearities=["tanh"]), "nonlinearities"),
        (lambda c: c["datasets"]["avmnist"].update(kind="imagenet"), "kind"),
        (lambda c: c.update(unknown_key=1), "unknown_key"),
    ],
)
def test_schema_rejects_bad_values_naming_the_key(edit, key):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    edit(cfg)
    with pytest.raises(Exception, match=key):
        validate(cfg, SCHEMA)


def test_k_larger_than_the_one_layer_pool_is_an_error_naming_search_k():
    cfg = load("config.yaml")
    cfg["search"]["k"] = 31  # avmnist: 5 x 3 x 2 = 30 one-layer architectures
    with pytest.raises(ConfigError, match="search.k"):
        check_config(cfg, dataset_instances(cfg))


def test_search_dataset_must_be_defined():
    cfg = copy.deepcopy(load("config.yaml"))
    cfg["search"]["datasets"] = ["nope"]
    with pytest.raises(ConfigError, match="search.datasets"):
        check_config(cfg, dataset_instances(cfg))


def test_a_dmf_training_cap_for_an_undefined_dataset_is_an_error_naming_the_key():
    cfg = load("config.yaml")
    cfg["dmf"]["encdec_max_train"] = {"mnist_halves": 5000, "mnist_halfs": 100}
    with pytest.raises(ConfigError, match=r"dmf\.encdec_max_train\.mnist_halfs"):
        check_config(cfg, dataset_instances(cfg))


def test_a_dmf_training_cap_may_name_a_dataset_dmf_does_not_train():
    cfg = load("config.yaml")
    cfg["dmf"]["datasets"] = ["mfeat"]  # the default caps still name mnist_halves
    check_config(cfg, dataset_instances(cfg))


def test_default_config_caps_dmf_training_on_mnist_halves_only():
    cfg = load("config.yaml")
    for key in ("max_train", "encdec_max_train"):
        assert cfg["dmf"][key] == {"mnist_halves": 5000}
    assert load("paper.yaml")["dmf"]["max_train"] == 0


def test_bring_your_own_kind_needs_a_path():
    cfg = load("config.yaml")
    cfg["datasets"]["mine"] = {"kind": "hdf5"}
    with pytest.raises(ConfigError, match="datasets.mine.path"):
        check_config(cfg, dataset_instances(cfg))


def test_default_config_searches_three_seeds_and_paper_config_five():
    from snakemake.utils import update_config

    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    update_config(paper, yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    for cfg in (default, paper):
        validate(cfg, SCHEMA)
        check_config(cfg, dataset_instances(cfg))
    assert default["search"]["seeds"] == [0, 1, 2]
    assert paper["search"]["seeds"] == [0, 1, 2, 3, 4]
    assert paper["search"]["datasets"] == ["avmnist", "mfeat"]


def test_a_kind_without_defaults_gets_mlp_backbones_for_its_file_modalities():
    cfg = load("config.yaml")
    cfg["datasets"]["mine"] = {"kind": "hdf5", "path": "mine.h5", "modalities": ["u", "v"]}
    spec = dataset_instances(cfg)["mine"]
    assert spec["modalities"] == ["u", "v"]
    assert {b["type"] for b in spec["backbones"].values()} == {"mlp"}


def test_search_k_is_checked_against_the_three_modal_pool_of_one_layer_architectures():
    cfg = load("three_views.yaml")
    cfg["search"]["datasets"] = ["mfeat3"]
    pool = 3 * 3 * 3 * len(cfg["search"].get("nonlinearities", ["relu", "sigmoid"]))
    cfg["search"]["k"] = pool + 1  # pix: conv of 3 blocks, fou and kar: MLPs of 3 layers
    with pytest.raises(ConfigError, match=rf"search\.k: {pool + 1} is larger than the {pool} "):
        check_config(cfg, dataset_instances(cfg))
    cfg["search"]["k"] = pool
    check_config(cfg, dataset_instances(cfg))


def test_search_ops_preset_searches_each_dataset_in_the_paper_and_the_extended_space():
    inst = dataset_instances(load("search_ops.yaml"))
    assert "search_fusion_ops" not in inst["avmnist"] and "search_fusion_ops" not in inst["mfeat"]
    for name in ("avmnist_ops", "mfeat_ops"):
        assert inst[name]["search_fusion_ops"] == ["concat", "product", "gated", "lowrank"]
        assert inst[name]["kind"] == inst[name.removesuffix("_ops")]["kind"]


def test_search_ops_preset_merged_over_the_default_pairs_each_dataset_with_its_extended_space():
    """As the workflow reads it: search_ops.yaml merged over config/config.yaml (whose
    AV-MNIST audio backbone pools its input; the pair must not differ in that)."""
    from snakemake.utils import update_config

    from mfas_core.search.settings import space_pairs

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    update_config(cfg, yaml.safe_load((REPO / "config" / "search_ops.yaml").read_text()))
    validate(cfg, SCHEMA)
    inst = dataset_instances(cfg)
    pairs = space_pairs(inst, cfg["search"]["datasets"], cfg["search"]["fusion_ops"])
    assert pairs == [["avmnist", "avmnist_ops"], ["mfeat", "mfeat_ops"]]


def test_the_three_seed_overlay_changes_only_the_search_seeds():
    from snakemake.utils import update_config

    cfg = yaml.safe_load((REPO / "config" / "search_ops.yaml").read_text())
    merged = copy.deepcopy(cfg)
    update_config(merged, yaml.safe_load((REPO / "config" / "search_ops_seeds3.yaml").read_text()))
    cfg["search"]["seeds"] = [0, 1, 2]
    assert merged == cfg
    validate(merged, SCHEMA)


def test_a_conv_size_written_out_at_its_default_still_pairs_the_two_spaces():
    from mfas_core.search.settings import space_pairs

    conv = {"type": "conv", "blocks": 5, "channels": 3}
    inst = {
        "a": {"name": "a", "group": "a", "kind": "k", "backbones": {"x": {**conv, "input_pool": 1}}},
        "b": {"name": "b", "group": "b", "kind": "k", "backbones": {"x": conv},
              "search_fusion_ops": ["concat", "gated"]},
    }  # fmt: skip
    assert space_pairs(inst, ["a", "b"], ["concat"]) == [["a", "b"]]
    inst["a"]["backbones"]["x"]["input_pool"] = 2
    assert space_pairs(inst, ["a", "b"], ["concat"]) == []
