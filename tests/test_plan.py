"""Which DMF and final-training runs a config asks for (mfas_core.dmf.plan, mfas_core.final.plan)."""

from __future__ import annotations

import pytest

from mfas_core.config import ConfigError
from mfas_core.dmf import plan as dmf_plan
from mfas_core.final import plan as final_plan

INSTANCES = {
    "halves_d0": {"kind": "mnist_halves", "group": "halves", "damage": 0.0},
    "halves_d30": {"kind": "mnist_halves", "group": "halves", "damage": 0.3},
    "halves_d50": {"kind": "mnist_halves", "group": "halves", "damage": 0.5},
    "mfeat": {"kind": "mfeat", "group": "mfeat"},
    "avmnist": {"kind": "avmnist", "group": "avmnist"},
}
DMF = ["halves_d0", "halves_d30", "halves_d50", "mfeat"]


def test_encoder_decoders_train_on_every_other_dataset_and_the_listed_damage_levels():
    assert dmf_plan.encdec_datasets(DMF, INSTANCES, [0.0, 0.5]) == [
        "mfeat", "halves_d0", "halves_d50"
    ]  # fmt: skip


def test_encoder_decoders_fall_back_to_the_lowest_damage_level_when_none_is_listed():
    assert dmf_plan.encdec_datasets(DMF[1:], INSTANCES, [0.7]) == ["mfeat", "halves_d30"]


def test_mnist_halves_share_one_table_and_other_datasets_get_their_own():
    assert dmf_plan.tables(DMF, INSTANCES) == ["mnist", "mfeat"]
    assert dmf_plan.table_datasets("mnist", DMF, INSTANCES) == DMF[:3]
    assert dmf_plan.table_datasets("mfeat", DMF, INSTANCES) == ["mfeat"]
    assert dmf_plan.tables(["mfeat"], INSTANCES) == ["mfeat"]


def test_final_training_takes_the_searched_datasets_of_final_datasets_in_search_order():
    got = final_plan.final_datasets(["mfeat", "avmnist"], ["avmnist", "mfeat"], INSTANCES)
    assert got == ["avmnist", "mfeat"]
    # an inherited default entry that is not searched is skipped, not an error
    assert final_plan.final_datasets(["avmnist", "mfeat"], ["mfeat"], INSTANCES) == ["mfeat"]


def test_final_datasets_name_an_undefined_dataset():
    with pytest.raises(ConfigError, match="final.datasets: 'nope'"):
        final_plan.final_datasets(["nope"], ["mfeat"], INSTANCES)


def test_unimodal_becomes_one_baseline_per_modality():
    assert final_plan.methods(["unimodal", "gmu"], ["pix", "fou"]) == [
        "unimodal_pix", "unimodal_fou", "gmu"
    ]  # fmt: skip
