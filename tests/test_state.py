"""LevelState: what one SMBO level leaves for the next (state.json), and how a bad one is named."""

from __future__ import annotations

import json

import pytest

from mfas_core.errors import InputError
from mfas_core.search.space import text_to_arch
from mfas_core.search.state import LevelState

STATE = LevelState(level=2, seed=3, next_step=7, sampled=["1-1-1_2-1-2"], topk=["1-1-1_2-1-2"])


def test_saved_state_loads_back_equal(tmp_path):
    STATE.save(tmp_path / "state.json")
    assert LevelState.load(tmp_path / "state.json", level=2, seed=3) == STATE


@pytest.mark.parametrize("text", ["{not json", json.dumps({"level": 2, "unknown": 1})])
def test_a_file_that_is_not_a_level_state_is_named_with_its_field(tmp_path, text):
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(InputError, match=r"^.*state\.json: state: not a level state \(") as err:
        LevelState.load(path)
    assert (err.value.path, err.value.field) == (str(path), "state")


def test_a_state_of_another_level_is_rejected_naming_both_levels(tmp_path):
    STATE.save(tmp_path / "state.json")
    with pytest.raises(InputError, match=r"state\.json: level: is level 2, expected 3$") as err:
        LevelState.load(tmp_path / "state.json", level=3, seed=3)
    assert (err.value.path, err.value.field) == (str(tmp_path / "state.json"), "level")


def test_parents_are_all_sampled_architectures_or_only_the_top_k():
    state = LevelState(level=2, seed=0, next_step=1, sampled=["1-1-1", "2-1-1"], topk=["2-1-1"])
    assert state.parents("sampled") == [text_to_arch("1-1-1"), text_to_arch("2-1-1")]
    assert state.parents("topk") == [text_to_arch("2-1-1")]
