"""The MFAS search space (paper §3.1)."""

import pytest

from mfas_core.search.space import SearchSpace, arch_to_text, check_nonlinearities, text_to_arch


def test_space_size_matches_paper_ntu_figure():
    assert SearchSpace(taps=(4, 4), p=3, max_layers=4).size() == 5_308_416


def test_space_size_matches_paper_mmimdb_figure():
    assert SearchSpace(taps=(8, 2), p=3, max_layers=3).size() == 110_592


def test_level_one_enumerates_exactly_mnp_distinct_triples():
    space = SearchSpace(taps=(5, 3), p=2, max_layers=4)
    archs = space.level_one()
    assert len(archs) == 5 * 3 * 2 == len(set(archs))
    assert all(len(a) == 1 for a in archs)
    space.check(archs[-1])


def test_canonical_text_form_round_trips():
    arch = ((5, 3, 1), (4, 1, 2))
    assert arch_to_text(arch) == "5-3-1_4-1-2"
    assert text_to_arch("5-3-1_4-1-2") == arch


def test_malformed_architecture_text_is_rejected():
    with pytest.raises(ValueError, match="three fields"):
        text_to_arch("5-3_4-1-2")


def test_extend_appends_every_triple_to_every_parent():
    space = SearchSpace(taps=(2, 2), p=2, max_layers=3)
    parents = space.level_one()[:3]
    children = space.extend(parents)
    assert len(children) == 3 * 8 == len(set(children))
    assert all(c[:1] in parents and len(c) == 2 for c in children)


def test_extend_beyond_max_layers_is_rejected():
    space = SearchSpace(taps=(2, 2), p=2, max_layers=1)
    with pytest.raises(ValueError, match="L=1"):
        space.extend(space.level_one())


def test_check_nonlinearities_rejects_an_unknown_one_naming_the_key():
    with pytest.raises(ValueError, match="search.nonlinearities"):
        check_nonlinearities(["relu", "tanh"])


def test_three_modal_space_counts_every_tap_of_every_modality():
    space = SearchSpace(taps=(2, 3, 4), p=2, max_layers=2)  # hand count: 2·3·4·2 = 48 per layer
    assert space.n_triples == 48 and space.size() == 48**2 and space.size(1) == 48
    archs = space.level_one()
    assert len(archs) == 48 == len(set(archs))
    assert archs[0] == ((1, 1, 1, 1),) and archs[1] == ((1, 1, 1, 2),)  # p fastest
    assert archs[-1] == ((2, 3, 4, 2),)
    assert len(space.extend(archs[:2])) == 2 * 48


def test_three_modal_text_form_has_one_field_per_modality_and_p():
    arch = ((5, 3, 2, 1), (4, 1, 1, 2))
    assert arch_to_text(arch) == "5-3-2-1_4-1-1-2"
    assert text_to_arch("5-3-2-1_4-1-1-2", n_modalities=3) == arch
    assert text_to_arch("5-3-1_4-1-2", n_modalities=2) == ((5, 3, 1), (4, 1, 2))


def test_architecture_with_a_field_count_wrong_for_the_dataset_is_rejected():
    with pytest.raises(ValueError, match=r"'5-3-1': 3 fields per layer, but the dataset has 3"):
        text_to_arch("5-3-1", n_modalities=3)


def test_three_modal_space_rejects_a_layer_outside_one_modality():
    space = SearchSpace(taps=(2, 3, 4), p=2, max_layers=2)
    space.check(((2, 3, 4, 2),))
    with pytest.raises(ValueError, match=r"\(1, 1, 5, 1\) is outside M1=2, M2=3, M3=4, P=2"):
        space.check(((1, 1, 5, 1),))
    with pytest.raises(ValueError, match="outside"):
        space.check(((1, 1, 1),))


def test_random_three_modal_architectures_stay_inside_the_space():
    import numpy as np

    space = SearchSpace(taps=(2, 3, 4), p=2, max_layers=3)
    rng = np.random.default_rng(0)
    drawn = [space.random_arch(rng, 3) for _ in range(200)]
    for a in drawn:
        space.check(a)
    assert {layer[2] for a in drawn for layer in a} == {1, 2, 3, 4}
