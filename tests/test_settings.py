"""One settings policy: the schema is the only source of defaults, a job's settings hold
exactly the keys it reads, and an unknown or missing key is an error naming it."""

from __future__ import annotations

import dataclasses

import pytest

from mfas_core.config import ConfigError
from mfas_core.dmf.cd import CDSettings
from mfas_core.dmf.settings import DMFSettings, EvalSettings, eval_params
from mfas_core.dmf.settings import train_params as dmf_train_params
from mfas_core.final.settings import (
    BaselineSettings,
    FinalSettings,
    RobustnessSettings,
    baseline_params,
    robustness_params,
    table_setup,
)
from mfas_core.final.settings import train_params as final_train_params
from mfas_core.search.settings import (
    RandomSearchSettings,
    SearchSettings,
    TrainSettings,
    level_params,
    random_params,
)
from mfas_core.settings import build, schema_defaults
from mfas_core.unimodal.backbones import BackboneTraining, training_params

SEARCH, DMF, FINAL = (schema_defaults(s) for s in ("search", "dmf", "final"))
BACKBONE = schema_defaults("backbone_training")
DEVICE = "auto"  # the schema's top-level default


def _flat(settings) -> dict:
    """A settings value as flat plain values (nested settings inlined, tuples as lists)."""
    out = {}
    for f in dataclasses.fields(settings):
        v = getattr(settings, f.name)
        if dataclasses.is_dataclass(v):
            out |= _flat(v)
        else:
            out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


# Each job's settings class, built by the rule's params function from the schema's defaults:
# (name, class, params, how the class is built from params).
JOBS = {
    "train_backbone": (BackboneTraining, training_params(BACKBONE)),
    "search_level": (SearchSettings, level_params(SEARCH, DEVICE, 0)),
    "search_random": (RandomSearchSettings, random_params(SEARCH, DEVICE, 0)),
    "train_final": (FinalSettings, final_train_params(FINAL)),
    "train_final_baseline[lrtf]": (BaselineSettings, baseline_params(FINAL, "lrtf")),
    "train_dmf[disc]": (DMFSettings, {**dmf_train_params(DMF, "disc", DEVICE), "threads": None}),
    "evaluate_dmf": (EvalSettings, {**eval_params(DMF, DEVICE), "threads": None}),
    "extract_perturbed_features": (
        RobustnessSettings,
        robustness_params(schema_defaults("robustness")),
    ),
}


@pytest.mark.parametrize("job", JOBS)
def test_dataclass_defaults_equal_the_schema_defaults(job):
    cls, params = JOBS[job]
    built = cls.from_params(**params)
    assert _flat(cls()) == _flat(built)


def test_every_search_field_is_a_schema_key_of_its_section():
    keys = set(SEARCH) | {"seed", "device"}
    for cls in (TrainSettings, SearchSettings, RandomSearchSettings):
        assert {f.name for f in dataclasses.fields(cls)} - {"train"} <= keys, cls


def test_the_encoder_decoder_default_reads_the_schemas_encdec_keys_and_cd():
    s = DMFSettings.from_params(**dmf_train_params(DMF, "encdec", DEVICE), threads=None)
    assert (s.lr, s.max_epochs, s.max_train) == (
        DMF["encdec_lr"], DMF["encdec_max_epochs"], DMF["encdec_max_train"]
    )  # fmt: skip
    assert s.modality_dropout == DMF["modality_dropout"]
    assert s.cd == CDSettings(DMF["cd_k"], DMF["cd_epochs"], DMF["cd_lr"], DMF["batch_size"],
                              DMF["cd_min_steps"])  # fmt: skip


@pytest.mark.parametrize("job", JOBS)
def test_a_key_missing_from_a_rules_settings_is_an_error_naming_it(job):
    cls, params = JOBS[job]
    key = sorted(params)[0]
    with pytest.raises(ConfigError, match=f"missing setting.*'{key}'"):
        cls.from_params(**{k: v for k, v in params.items() if k != key})


@pytest.mark.parametrize("job", JOBS)
def test_an_unknown_key_in_a_rules_settings_is_an_error_naming_it(job):
    cls, params = JOBS[job]
    with pytest.raises(ConfigError, match="unknown setting.*'no_such_key'"):
        cls.from_params(**params, no_such_key=1)


def test_a_nested_settings_error_names_its_section():
    with pytest.raises(ConfigError, match=r"search: missing setting.*'epochs'"):
        SearchSettings.from_params(**{k: v for k, v in level_params(SEARCH, "cpu", 0).items()
                                      if k != "epochs"})  # fmt: skip


def test_build_turns_lists_into_tuples_and_dicts_into_nested_settings():
    s = build(DMFSettings, {**dmf_train_params(DMF, "encdec", "cpu"), "threads": 1}, "dmf")
    assert s.modality_sizes == tuple(DMF["modality_sizes"]) and isinstance(s.cd, CDSettings)


def test_discriminative_settings_do_not_read_encoder_decoder_keys():
    edited = DMF | {"encdec_lr": 0.5, "encdec_max_train": 7, "encdec_max_epochs": 2,
                    "modality_dropout": 0.9}  # fmt: skip
    assert dmf_train_params(edited, "disc", "cpu") == dmf_train_params(DMF, "disc", "cpu")


def test_encoder_decoder_settings_do_not_read_discriminative_keys():
    edited = DMF | {"lr": 0.5, "max_train": 7, "max_epochs": 2}
    assert dmf_train_params(edited, "encdec", "cpu") == dmf_train_params(DMF, "encdec", "cpu")


def test_cd_settings_reach_only_the_variants_cd_pretrain_names():
    edited = DMF | {"cd_k": 3}
    assert dmf_train_params(edited, "disc", "cpu") == dmf_train_params(DMF, "disc", "cpu")
    assert dmf_train_params(edited, "encdec", "cpu")["cd"]["k"] == 3


def test_random_search_does_not_read_the_surrogate_and_levels_not_the_random_protocol():
    assert random_params(SEARCH | {"surrogate_lr": 0.5}, "cpu", 0) == random_params(
        SEARCH, "cpu", 0
    )
    assert level_params(SEARCH | {"random_protocol": "depth_matched"}, "cpu", 0) == level_params(
        SEARCH, "cpu", 0
    )


def test_lrtf_rank_reaches_the_lrtf_baseline_only():
    edited = FINAL | {"lrtf_rank": 9}
    assert baseline_params(edited, "gmu") == baseline_params(FINAL, "gmu")
    assert baseline_params(edited, "lrtf")["lrtf_rank"] == 9
    assert "lrtf_rank" not in final_train_params(FINAL)


def test_the_final_tables_setup_states_the_whole_section_and_the_search_seeds():
    setup = table_setup(FINAL, [0, 1])
    assert setup["search_seeds"] == [0, 1] and setup["top"] == FINAL["top"]
    assert setup["lrtf_rank"] == FINAL["lrtf_rank"]


def test_a_config_section_without_a_key_is_named_when_params_are_built():
    with pytest.raises(ConfigError, match=r"final\.width is missing"):
        final_train_params({k: v for k, v in FINAL.items() if k != "width"})


def test_a_training_cap_mapping_caps_the_datasets_it_names_and_no_other():
    capped = DMF | {"max_train": {"mnist_halves": 5000}, "encdec_max_train": {"mnist_halves": 300}}
    assert dmf_train_params(capped, "disc", "cpu", "mnist_halves")["max_train"] == 5000
    assert dmf_train_params(capped, "encdec", "cpu", "mnist_halves")["max_train"] == 300
    assert dmf_train_params(capped, "disc", "cpu", "mine")["max_train"] == 0  # all pairs
    assert dmf_train_params(DMF | {"max_train": 700}, "disc", "cpu", "mine")["max_train"] == 700
