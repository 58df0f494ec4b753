"""Weight sharing end to end (paper sec. 3.2): a search level's candidates start from the
fusion weights the level before wrote to bank.pt, and sharing changes what a level finds.

Each level runs as the workflow runs it (run_search_level reading the previous level's
directory); nothing is stubbed.
"""

from __future__ import annotations

import pytest
import torch
from test_search import settings, write_digit_features

from mfas_core.search.batched import WeightBank
from mfas_core.search.smbo import run_search_level


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    return write_digit_features(tmp_path_factory.mktemp("digits"), n=300)


def two_levels(features, root, **over):
    """Levels 1 and 2 of one search; (level-1 frame, level-2 frame)."""
    s = settings(**over)
    first = run_search_level(features, str(root / "level1"), 1, settings=s)
    second = run_search_level(features, str(root / "level2"), 2, str(root / "level1"), s)
    return first, second


def test_level_two_candidates_start_from_the_bank_level_one_wrote(features, tmp_path):
    # A learning rate of 1e-9 leaves every weight within 1e-6 of where it started, so the
    # layer-1 weights level 2 writes back are the ones its candidates started from: level 1's
    # bank entries for the same keys if the bank is read, their own random init if not.
    two_levels(features, tmp_path, lr=1e-9, weight_decay=0.0, epochs=1)
    bank1 = WeightBank.load(tmp_path / "level1" / "bank.pt")
    bank2 = WeightBank.load(tmp_path / "level2" / "bank.pt")
    shared = sorted(set(bank1.entries) & set(bank2.entries))
    assert shared, "level 2 wrote no key that level 1 wrote"
    assert all(k.startswith("layer1_") for k in shared)
    for key in shared:
        (w1, b1), (w2, b2) = bank1.entries[key], bank2.entries[key]
        assert torch.allclose(w1, w2, atol=1e-5), key
        assert torch.allclose(b1, b2, atol=1e-5), key
    assert any(k.startswith("layer2_") for k in bank2.entries)  # and level 2 added its own


def test_level_two_with_sharing_differs_from_the_same_search_without(features, tmp_path):
    on1, on2 = two_levels(features, tmp_path / "on", weight_sharing=True)
    off1, off2 = two_levels(features, tmp_path / "off", weight_sharing=False)
    # Level 1's single step reads the bank as it was before the step (empty): no difference.
    assert on1["val_score"].tolist() == off1["val_score"].tolist()
    # Level 2 starts from level 1's weights only with sharing.
    first_step = on2["step"] == on2["step"].min()
    assert on2["architecture"][first_step].tolist() == off2["architecture"][first_step].tolist()
    assert on2["val_score"][first_step].tolist() != off2["val_score"][first_step].tolist()
