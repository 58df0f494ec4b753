"""The MFAS search space (paper §3.1)."""

import pytest

from mfas_core.search.space import SearchSpace, arch_to_text, check_nonlinearities, text_to_arch


def test_space_size_matches_paper_ntu_figure():
    assert SearchSpace(m=4, n=4, p=3, max_layers=4).size() == 5_308_416


def test_space_size_matches_paper_mmimdb_figure():
    assert SearchSpace(m=8, n=2, p=3, max_layers=3).size() == 110_592


def test_level_one_enumerates_exactly_mnp_distinct_triples():
    space = SearchSpace(m=5, n=3, p=2, max_layers=4)
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
    space = SearchSpace(m=2, n=2, p=2, max_layers=3)
    parents = space.level_one()[:3]
    children = space.extend(parents)
    assert len(children) == 3 * 8 == len(set(children))
    assert all(c[:1] in parents and len(c) == 2 for c in children)


def test_extend_beyond_max_layers_is_rejected():
    space = SearchSpace(m=2, n=2, p=2, max_layers=1)
    with pytest.raises(ValueError, match="L=1"):
        space.extend(space.level_one())


def test_check_nonlinearities_rejects_an_unknown_one_naming_the_key():
    with pytest.raises(ValueError, match="search.nonlinearities"):
        check_nonlinearities(["relu", "tanh"])
