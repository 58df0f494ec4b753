"""Specifications of dataset preparation: bring-your-own loaders and bad-input handling.

Bring-your-own formats are tested on small generated files of those exact layouts.
"""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402

from mfas_core.data.byo import MMIMDB_GENRES  # noqa: E402
from mfas_core.data.mnist import read_idx  # noqa: E402
from mfas_core.data.prepare import prepare_dataset  # noqa: E402
from mfas_core.data.schema import read_attrs, read_split, validate_dataset, write_dataset  # noqa: E402
from mfas_core.errors import InputError  # noqa: E402

RNG = np.random.default_rng(0)


def small_dataset(path, n=(12, 4, 6), corrupt=None):
    """A tiny valid file of our schema, optionally corrupted after writing."""
    splits = {
        s: {"a": RNG.random((k, 5), dtype=np.float32), "b": RNG.random((k, 2, 3), dtype=np.float32)}
        for s, k in zip(("train", "val", "test"), n, strict=True)
    }
    labels = {s: RNG.integers(0, 3, k) for s, k in zip(("train", "val", "test"), n, strict=True)}
    write_dataset(
        path,
        splits,
        labels,
        name="toy",
        kind="hdf5",
        classes=["x", "y", "z"],
        sources={},
        params={},
    )
    if corrupt:
        with h5py.File(path, "a") as f:
            corrupt(f)
    return path


def avmnist_npy_folder(root, n_train=20, n_test=6, image_shape=(784,), audio=None):
    (root / "image").mkdir(parents=True)
    (root / "audio").mkdir()
    for part, n in (("train", n_train), ("test", n_test)):
        np.save(
            root / "image" / f"{part}_data.npy", RNG.random((n, *image_shape), dtype=np.float32)
        )
        np.save(
            root / "audio" / f"{part}_data.npy",
            audio
            if audio is not None and part == "train"
            else RNG.random((n, 112, 112), dtype=np.float32),
        )
        np.save(root / f"{part}_labels.npy", RNG.integers(0, 10, n))
    return root


def mmimdb_file(path, n=30, fuel_split=True, genres=23):
    """Layout of the GMU release: vgg_features, features, genres, Fuel split table."""
    with h5py.File(path, "w") as f:
        f["vgg_features"] = RNG.random((n, 4096), dtype=np.float32)
        f["features"] = RNG.random((n, 300), dtype=np.float32)
        f["genres"] = (RNG.random((n, genres)) < 0.2).astype(np.int8)
        f["images"] = np.zeros((n, 3, 4, 4), np.uint8)
        if fuel_split:
            dt = np.dtype(
                [
                    ("split", "S5"),
                    ("source", "S12"),
                    ("start", np.int64),
                    ("stop", np.int64),
                    ("indices", h5py.special_dtype(ref=h5py.Reference)),
                    ("available", np.bool_),
                    ("comment", "S1"),
                ]
            )
            rows = []
            for split, lo, hi in (("train", 0, 18), ("dev", 18, 22), ("test", 22, n)):
                for src in ("features", "genres", "vgg_features"):
                    rows.append((split, src, lo, hi, h5py.Reference(), True, "."))
            f.attrs["split"] = np.array(rows, dtype=dt)
    return path


def spec(kind, **kw):
    return {"name": "mine", "kind": kind, "val_fraction": 0.15, **kw}


def test_hdf5_of_our_schema_is_validated_and_copied(tmp_path):
    src = small_dataset(tmp_path / "in.h5")
    out = tmp_path / "out.h5"
    prepare_dataset(out, spec("hdf5", path=str(src), modalities=["a", "b"]), seed=0)
    data, y = read_split(out, "val")
    np.testing.assert_array_equal(data["b"], read_split(src, "val")[0]["b"])
    assert read_attrs(out)["classes"] == ["x", "y", "z"]


def test_avmnist_npy_folder_gives_last_rows_as_validation(tmp_path):
    root = avmnist_npy_folder(tmp_path / "avmnist")
    out = tmp_path / "out.h5"
    prepare_dataset(out, spec("avmnist_npy", path=str(root), n_val=5), seed=0)
    attrs = read_attrs(out)
    assert attrs["shapes"] == {"audio": [112, 112], "image": [28, 28]}
    val, y = read_split(out, "val")
    np.testing.assert_array_equal(y, np.load(root / "train_labels.npy")[-5:])
    np.testing.assert_allclose(
        val["image"].reshape(5, 784), np.load(root / "image/train_data.npy")[-5:]
    )
    assert len(read_split(out, "train")[1]) == 15


def test_mmimdb_file_gives_multi_hot_genres_and_fuel_splits(tmp_path):
    src = mmimdb_file(tmp_path / "multimodal_imdb.hdf5")
    out = tmp_path / "out.h5"
    prepare_dataset(out, spec("mmimdb", path=str(src)), seed=0)
    attrs = read_attrs(out)
    assert attrs["task"] == "multi" and attrs["classes"] == MMIMDB_GENRES
    assert attrs["modalities"] == ["image", "text"]
    data, y = read_split(out, "val")
    assert (
        y.shape == (4, 23) and data["image"].shape == (4, 4096) and data["text"].shape == (4, 300)
    )


def test_mmimdb_without_split_table_needs_the_release_size(tmp_path):
    src = mmimdb_file(tmp_path / "m.hdf5", fuel_split=False)
    with pytest.raises(InputError, match=r"m\.hdf5: attrs/split"):
        prepare_dataset(tmp_path / "out.h5", spec("mmimdb", path=str(src)), seed=0)


BAD_FILES = {
    "wrong shape": (
        lambda f: (
            f["val"].pop("a"),
            f["val"].create_dataset("a", data=np.zeros((4, 6), np.float32)),
        ),
        "/val/a: shape",
    ),
    "NaN": (lambda f: f["train"]["a"].__setitem__((0, 0), np.nan), "/train/a: contains NaN"),
    "inf": (
        lambda f: f["test"]["b"].__setitem__((1, 0, 0), np.inf),
        "/test/b: contains NaN or inf",
    ),
    "label out of range": (
        lambda f: f["train"]["labels"].__setitem__(0, 3),
        "/train/labels: values outside",
    ),
    "negative label": (
        lambda f: f["val"]["labels"].__setitem__(0, -1),
        "/val/labels: values outside",
    ),
    "missing split": (lambda f: f.pop("test"), "/test: missing split"),
}


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
def test_validator_rejects_bad_hdf5_naming_file_and_field(tmp_path, problem):
    corrupt, message = BAD_FILES[problem]
    src = small_dataset(tmp_path / "bad.h5", corrupt=corrupt)
    with pytest.raises(InputError, match=f"bad.h5: {message}"):
        validate_dataset(src)


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
def test_bad_source_leaves_no_output_behind(tmp_path, problem):
    src = small_dataset(tmp_path / "bad.h5", corrupt=BAD_FILES[problem][0])
    out = tmp_path / "results" / "out.h5"
    with pytest.raises(InputError):
        prepare_dataset(out, spec("hdf5", path=str(src)), seed=0)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_preparation_failing_mid_write_leaves_neither_output_nor_temporary(tmp_path, monkeypatch):
    src = small_dataset(tmp_path / "in.h5")
    out = tmp_path / "results" / "out.h5"
    real, made = h5py.Group.create_dataset, []

    def fail_on_the_third_array(self, *args, **kwargs):  # two arrays are already in the file
        made.append(args[0] if args else kwargs.get("name"))
        if len(made) == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", fail_on_the_third_array)
    with pytest.raises(OSError, match="disk full"):
        prepare_dataset(out, spec("hdf5", path=str(src), modalities=["a", "b"]), seed=0)
    assert len(made) == 3
    assert list(out.parent.iterdir()) == []


def test_missing_source_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.h5: path: missing source"):
        prepare_dataset(tmp_path / "o.h5", spec("hdf5", path=str(tmp_path / "nowhere.h5")), seed=0)


def test_unreadable_source_is_named(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(InputError, match=r"junk\.h5: file: cannot open"):
        prepare_dataset(tmp_path / "o.h5", spec("hdf5", path=str(junk)), seed=0)


def test_npy_with_wrong_audio_shape_is_named(tmp_path):
    root = avmnist_npy_folder(tmp_path / "av", audio=np.zeros((20, 100, 112), np.float32))
    with pytest.raises(InputError, match=r"audio/train_data\.npy: shape"):
        prepare_dataset(tmp_path / "o.h5", spec("avmnist_npy", path=str(root)), seed=0)


def test_npy_with_nan_is_named(tmp_path):
    bad = np.zeros((20, 112, 112), np.float32)
    bad[3, 4, 5] = np.nan
    root = avmnist_npy_folder(tmp_path / "av", audio=bad)
    with pytest.raises(InputError, match=r"audio/train_data\.npy: data: contains NaN"):
        prepare_dataset(tmp_path / "o.h5", spec("avmnist_npy", path=str(root)), seed=0)


def test_mmimdb_with_wrong_genre_count_is_named(tmp_path):
    src = mmimdb_file(tmp_path / "m.hdf5", genres=20)
    with pytest.raises(InputError, match=r"m\.hdf5: /genres: shape"):
        prepare_dataset(tmp_path / "o.h5", spec("mmimdb", path=str(src)), seed=0)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"kind": "avmnist", "n_train": 10, "n_val": 5, "n_test": 5, "snr_db": "loud"}, "snr_db"),
        (
            {
                "kind": "mnist_halves",
                "n_train": 10,
                "n_val": 5,
                "n_test": 5,
                "damage": 0.3,
                "pca_energy_removed": 2,
            },
            "pca_energy_removed",
        ),
        ({"kind": "mfeat", "views": ["pix", "nope"]}, "views"),
        ({"kind": "tiff"}, "kind"),
        ({"kind": "mnist_halves", "n_train": 10, "n_val": 5, "n_test": 5}, "damage"),
    ],
)
def test_schema_invalid_config_is_rejected_naming_the_key(tmp_path, entry, field):
    with pytest.raises(InputError, match=rf"^config: datasets\.mine\.{field}"):
        prepare_dataset(tmp_path / "o.h5", {"name": "mine", **entry}, seed=0)
    assert not (tmp_path / "o.h5").exists()


def test_more_pairs_than_mnist_holds_is_rejected(tmp_path):
    s = {
        "name": "mine",
        "kind": "mnist_halves",
        "n_train": 50001,
        "n_val": 5,
        "n_test": 5,
        "damage": 0.0,
    }
    with pytest.raises(InputError, match=r"config: datasets\.mine\.n_train"):
        prepare_dataset(tmp_path / "o.h5", s, seed=0)


def test_malformed_idx_file_is_named(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(bad, "wb") as fh:
        fh.write(
            (2051).to_bytes(4, "big")
            + (10).to_bytes(4, "big")
            + (28).to_bytes(4, "big") * 2
            + b"\0" * 100
        )
    with pytest.raises(InputError, match=r"ubyte\.gz: data: 100 bytes"):
        read_idx(bad)


def n_modal_dataset(path, n_modalities, n=(12, 4, 6)):
    """A tiny valid file of our schema with `n_modalities` vector modalities m0, m1, ..."""
    splits = {
        s: {f"m{i}": RNG.random((k, 3 + i), dtype=np.float32) for i in range(n_modalities)}
        for s, k in zip(("train", "val", "test"), n, strict=True)
    }
    labels = {s: RNG.integers(0, 3, k) for s, k in zip(("train", "val", "test"), n, strict=True)}
    write_dataset(
        path, splits, labels, name="toy", kind="hdf5", classes=list("xyz"), sources={}, params={}
    )
    return path


@pytest.mark.parametrize("n_modalities", [3, 8])
def test_hdf5_with_three_to_eight_modalities_is_valid_and_keeps_their_order(tmp_path, n_modalities):
    src = n_modal_dataset(tmp_path / "in.h5", n_modalities)
    out = tmp_path / "out.h5"
    prepare_dataset(out, spec("hdf5", path=str(src)), seed=0)
    assert read_attrs(out)["modalities"] == [f"m{i}" for i in range(n_modalities)]


@pytest.mark.parametrize("count", [1, 9])
def test_hdf5_with_one_or_more_than_eight_modalities_is_rejected_naming_the_attribute(
    tmp_path, count
):
    src = n_modal_dataset(tmp_path / "bad.h5", 2)
    with h5py.File(src, "a") as f:
        f.attrs["modalities"] = json.dumps([f"m{i}" for i in range(count)])
    with pytest.raises(InputError, match=r"bad\.h5: attrs/modalities: needs 2 to 8"):
        validate_dataset(src)


def test_mfeat_takes_three_of_its_views_in_the_configured_order(tmp_path):
    out = tmp_path / "m.h5"
    prepare_dataset(out, spec("mfeat", views=["pix", "fou", "kar"], test_fraction=0.25), seed=0)
    attrs = read_attrs(out)
    assert attrs["modalities"] == ["pix", "fou", "kar"]
    assert attrs["shapes"] == {"pix": [15, 16], "fou": [76], "kar": [64]}


def test_backbone_of_a_modality_the_dataset_lacks_is_rejected_naming_the_key(tmp_path):
    from mfas_core.config import ConfigError
    from mfas_core.data.instances import dataset_instances

    config = {
        "datasets": {
            "mine": {"kind": "mfeat", "views": ["pix", "fou", "kar"], "backbones": {"zer": {}}}
        }
    }
    with pytest.raises(ConfigError, match=r"datasets\.mine\.backbones\.zer: not a modality"):
        dataset_instances(config)
