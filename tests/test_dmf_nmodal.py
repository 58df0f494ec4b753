"""DMF for more than two modalities and on multi-label data (mfas_core.dmf, report tables).

Three pathways: EMF concatenates the three inputs, IMF joins the three top layers, DMF's shared
layer l takes every pathway's layer l and shared layer l-1 (paper Eq. 3). Multi-label: the
MM-IMDB file layout, scored as the paper's MIR-Flickr Table 3 (one linear SVM per label, mAP).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import dmf_settings, eval_settings

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import h5py  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from mfas_core.data.prepare import prepare_dataset  # noqa: E402
from mfas_core.data.schema import write_dataset  # noqa: E402
from mfas_core.dmf import plan as dmf_plan  # noqa: E402
from mfas_core.dmf.cd import CDSettings, pretrain_cd  # noqa: E402
from mfas_core.dmf.evaluate import evaluate_baselines, evaluate_encdec, svm_label_map  # noqa: E402
from mfas_core.dmf.nets import FusionNet, graph_spec  # noqa: E402
from mfas_core.dmf.train import _drop_modality, input_conditions, train_dmf  # noqa: E402
from mfas_core.errors import InputError  # noqa: E402
from mfas_core.report.dmf_tables import (  # noqa: E402
    dataset_table,
    retrieval_table,
    svm_table,
)

MODS = ("text", "audio", "video")
SMALL = {"modality_sizes": [12, 8], "shared_sizes": [16, 12, 8], "min_steps": 0,
         "max_epochs": 15, "encdec_max_epochs": 4, "patience": 15, "lr": 0.01,
         "batch_size": 64, "cd_epochs": 1, "cd_min_steps": 10}  # fmt: skip
EVAL = {"svm_max_train": 200, "retrieval_max_queries": 40}


def three_modal_file(path, n=(300, 60, 100), seed=0):
    """Three vector modalities that each carry part of a 4-class label."""
    rng = np.random.default_rng(seed)
    proj = {name: rng.normal(size=(4, d)) for name, d in zip(MODS, (12, 10, 8), strict=True)}
    splits, labels = {}, {}
    for split, k in zip(("train", "val", "test"), n, strict=True):
        y = rng.integers(0, 4, k)
        splits[split] = {
            m: (rng.normal(size=(k, p.shape[1])) + 2 * np.eye(4)[y] @ p).astype(np.float32)
            for m, p in proj.items()
        }
        labels[split] = y
    write_dataset(path, splits, labels, name="tri", kind="hdf5", classes=list("abcd"),
                  sources={}, params={})  # fmt: skip
    return path


@pytest.fixture(scope="module")
def tri_h5(tmp_path_factory):
    return three_modal_file(tmp_path_factory.mktemp("tri") / "tri.h5")


def test_three_pathway_dmf_fuses_every_pathway_and_the_shared_layer_below_at_every_level():
    nodes, edges = graph_spec("dmf", (12, 10, 8), [6, 4], [9, 7, 5])
    assert [s for s, t in edges if t == "s1"] == ["x1", "y1", "z1"]
    assert [s for s, t in edges if t == "s2"] == ["x2", "y2", "z2", "s1"]
    assert [s for s, t in edges if t == "s3"] == ["x3", "y3", "z3", "s2"]
    assert [nodes[n] for n in ("x1", "y1", "z1", "z2", "z3", "s3")] == [12, 10, 8, 6, 4, 5]


def test_three_pathway_emf_concatenates_the_inputs_and_imf_joins_the_top_layers():
    _, emf = graph_spec("emf", (12, 10, 8), [6, 4], [9, 7, 5])
    assert emf == [("x1", "s1"), ("y1", "s1"), ("z1", "s1"), ("s1", "s2"), ("s2", "s3")]
    _, imf = graph_spec("imf", (12, 10, 8), [6, 4], [9, 7, 5])
    assert [(s, t) for s, t in imf if t.startswith("s")] == [
        ("x3", "s3"),
        ("y3", "s3"),
        ("z3", "s3"),
    ]
    assert ("z2", "z3") in imf and ("z1", "z2") in imf


@pytest.mark.parametrize("model", ["emf", "imf", "dmf"])
def test_three_pathway_nets_give_codes_logits_and_three_reconstructions(model):
    torch.manual_seed(0)
    disc = FusionNet(model, (12, 10, 8), [6, 4], [9, 7, 5], n_classes=3)
    xs = [torch.rand(4, d) for d in (12, 10, 8)]
    assert disc.encode(*xs).shape == (4, 5) and disc(*xs).shape == (4, 3)
    encdec = FusionNet(model, (12, 10, 8), [6, 4], [9, 7, 5], decoder=True)
    recon = encdec.decode(encdec.encode(*xs))
    assert [tuple(r.shape) for r in recon] == [(4, 12), (4, 10), (4, 8)]
    with pytest.raises(ValueError, match="takes 3"):
        disc.encode(*xs[:2])


def test_three_pathway_shared_layer_sums_one_term_per_pathway_plus_the_shared_layer_below():
    torch.manual_seed(0)
    net = FusionNet("dmf", (5, 4, 3), [2], [3, 2])
    x, y, z = torch.rand(2, 5), torch.rand(2, 4), torch.rand(2, 3)
    act = net.encode_all(x, y, z)

    def unit(name, inp):
        layer = net.enc[name]
        return torch.sigmoid(inp @ layer.weight.T + layer.bias)

    # level 1: s1 = f(W^x x + W^y y + W^z z + b), W's column blocks in pathway order
    w1 = net.enc["s1"].weight
    s1 = torch.sigmoid(x @ w1[:, :5].T + y @ w1[:, 5:9].T + z @ w1[:, 9:].T + net.enc["s1"].bias)
    # level 2: s2 = f(W^x h^x_2 + W^y h^y_2 + W^z h^z_2 + W^s s1 + b)
    hx, hy, hz = unit("x2", x), unit("y2", y), unit("z2", z)
    w2 = net.enc["s2"].weight
    s2 = torch.sigmoid(
        hx @ w2[:, 0:2].T + hy @ w2[:, 2:4].T + hz @ w2[:, 4:6].T + s1 @ w2[:, 6:].T
        + net.enc["s2"].bias
    )  # fmt: skip
    assert net.enc["s2"].weight.shape == (2, 2 + 2 + 2 + 3)
    assert torch.allclose(act["s1"], s1, atol=1e-6)
    assert torch.allclose(act["s2"], s2, atol=1e-6)


def test_three_modal_input_conditions_keep_one_modality_and_zero_the_other_two():
    arrays = [np.full((3, d), v, np.float32) for d, v in ((2, 1.0), (3, 2.0), (4, 3.0))]
    conds = input_conditions(arrays, list(MODS))
    assert list(conds) == ["both", "only_text", "only_audio", "only_video"]
    kept = conds["only_audio"]
    assert not kept[0].any() and (kept[1] == 2).all() and not kept[2].any()
    assert all((a == b).all() for a, b in zip(conds["both"], arrays, strict=True))


def test_three_modal_dropout_zeroes_one_modality_chosen_evenly():
    batch = [torch.ones(6000, d) for d in (3, 2, 4)]
    out = _drop_modality(batch, 0.6, torch.Generator().manual_seed(0))
    gone = torch.stack([a.sum(1) == 0 for a in out])
    assert int(gone.sum(0).max()) == 1  # never two at once
    for share in gone.float().mean(1):
        assert abs(float(share) - 0.2) < 0.02


def test_cd_pretraining_of_three_pathways_initialises_every_unit(tri_h5):
    from mfas_core.dmf.pairs import load_pairs

    data, _ = load_pairs(tri_h5)
    torch.manual_seed(0)
    net = FusionNet("dmf", (12, 10, 8), [6], [7, 5], decoder=True)
    before = {n: layer.weight.detach().clone() for n, layer in net.enc.items()}
    errors = pretrain_cd(net, data["train"][:-1], CDSettings(epochs=1), seed=0)
    assert set(errors) == set(net.enc) == {"x2", "y2", "z2", "s1", "s2"}
    assert all(not torch.equal(before[n], net.enc[n].weight) for n in net.enc)
    # the decoder of z2 starts from s2's z2 block, transposed
    z2 = net.sources["s2"].index("z2")
    assert z2 == 2 and torch.equal(net.dec["z2"].weight, net.enc["s2"].weight[:, 12:18].T)


def _train(h5, out, variant, model, **kw):
    return train_dmf(h5, out / f"{variant}_{model}.pt", out / f"{variant}_{model}.json",
                     dataset="tri", variant=variant, model=model, seed=0, threads=1,
                     **dmf_settings(variant, **{**SMALL, **kw}))  # fmt: skip


@pytest.fixture(scope="module")
def tri_runs(tri_h5, tmp_path_factory):
    """Both variants of EMF and DMF on the three-modal file, their evaluations and baselines."""
    out = tmp_path_factory.mktemp("tri_runs")
    disc = [_train(tri_h5, out, "disc", m, max_epochs=60, lr=0.03) for m in ("emf", "dmf")]
    evals = []
    for m in ("emf", "dmf"):
        _train(tri_h5, out, "encdec", m)
        evals.append(evaluate_encdec(out / f"encdec_{m}.pt", tri_h5, out / f"e_{m}.json",
                                     dataset="tri", model=m, seed=0, threads=1,
                                     **eval_settings(**EVAL)))  # fmt: skip
    base = evaluate_baselines(tri_h5, out / "base.json", dataset="tri", seed=0, code_dim=8,
                              cca_components=3, threads=1, **eval_settings(**EVAL))  # fmt: skip
    return disc, evals, [base]


def test_three_modal_discriminative_nets_learn_and_report_each_modality_alone(tri_runs):
    disc, _, _ = tri_runs
    for m in disc:
        assert set(m["test_error"]) == {"both", "only_text", "only_audio", "only_video"}
        assert m["in_sizes"] == [12, 10, 8]
        assert m["test_error"]["both"] < 50.0  # chance is 75 %


def test_three_modal_evaluation_scores_every_condition_and_every_ordered_pair(tri_runs):
    _, evals, base = tri_runs
    pairs = {f"{a}2{b}" for a in MODS for b in MODS if a != b}
    for e in evals:
        assert set(e["accuracy"]) == {"both", "only_text", "only_audio", "only_video"}
        assert set(e["map"]) == pairs and all(0 <= v <= 1 for v in e["map"].values())
    assert set(base[0]["map"]["cca"]) == pairs
    assert base[0]["map"]["raw_cosine"] is None  # the three widths differ


def test_dataset_table_has_one_modality_only_row_per_modality(tri_runs):
    text = dataset_table(tri_runs[0])
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ")]
    assert rows[1:] == ["| text+audio+video", "| text only", "| audio only", "| video only"]
    assert "trained on all 3 modalities" in text


def test_svm_and_retrieval_tables_of_three_modalities_list_every_condition_and_pair(tri_runs):
    disc, evals, base = tri_runs
    svm = svm_table(evals, base, disc)
    for label in ("text+audio+video", "text only", "audio only", "video only"):
        assert f"| {label} |" in svm
    ret = retrieval_table(evals, base)
    arrows = [f"| {a}→{b} |" for a in MODS for b in MODS if a != b]
    assert all(a in ret for a in arrows) and ret.count("→") >= 6
    assert "retrieval is pairwise" in ret and "fit per pair" in ret


def test_setup_line_says_how_many_pairs_of_how_many_the_cap_kept(tri_h5, tmp_path):
    capped = _train(tri_h5, tmp_path, "disc", "emf", max_train=120, max_epochs=1)
    assert capped["n_train"] == 120 and capped["n_train_available"] == 300
    assert "Setup: 120 of 300 training pairs (`dmf.max_train` cap)" in dataset_table([capped])
    full = _train(tri_h5, tmp_path, "disc", "imf", max_epochs=1)
    assert "Setup: 300 training pairs, Adam" in dataset_table([full])


# ---------------------------------------------------------------------------- multi-label


def mmimdb_file(path, n=240, seed=0):
    """The MM-IMDB (GMU release) layout: vgg_features [N, 4096], features [N, 300], genres
    [N, 23] multi-hot, a Fuel split table; both features carry the genres."""
    rng = np.random.default_rng(seed)
    genres = (rng.random((n, 23)) < 0.25).astype(np.int8)
    genres[np.arange(n), rng.integers(0, 23, n)] = 1
    with h5py.File(path, "w") as f:
        for key, d in (("vgg_features", 4096), ("features", 300)):
            f[key] = (rng.random((n, d)) + genres @ rng.random((23, d))).astype(np.float32)
        f["genres"] = genres
        dt = np.dtype([("split", "S5"), ("source", "S12"), ("start", np.int64),
                       ("stop", np.int64)])  # fmt: skip
        cuts = (("train", 0, 160), ("dev", 160, 180), ("test", 180, n))
        rows = [(s, src, lo, hi) for s, lo, hi in cuts for src in ("genres", "features")]
        f.attrs["split"] = np.array(rows, dtype=dt)
    return path


@pytest.fixture(scope="module")
def imdb(tmp_path_factory):
    """An encoder-decoder DMF on a generated MM-IMDB file, its evaluation and baselines."""
    out = tmp_path_factory.mktemp("imdb")
    src = mmimdb_file(out / "multimodal_imdb.hdf5")
    h5 = out / "imdb.h5"
    prepare_dataset(h5, {"name": "imdb", "kind": "mmimdb", "path": str(src)}, seed=0)
    _train(h5, out, "encdec", "dmf", modality_sizes=[32, 16], shared_sizes=[32, 16, 8])
    ev = evaluate_encdec(out / "encdec_dmf.pt", h5, out / "e.json", dataset="imdb", model="dmf",
                         seed=0, threads=1, **eval_settings(**EVAL))  # fmt: skip
    base = evaluate_baselines(h5, out / "b.json", dataset="imdb", seed=0, code_dim=8,
                              cca_components=3, threads=1, **eval_settings(**EVAL))  # fmt: skip
    return h5, out, ev, base


def test_one_linear_svm_per_label_is_scored_by_the_mean_of_the_per_label_average_precision():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6))
    y = np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0.5, rng.random(120) < 0.3], axis=1)
    y = y.astype(np.int64)
    got = svm_label_map(x[:80], y[:80], x[80:], y[80:], c=1.0, seed=0)
    scaler = StandardScaler().fit(x[:80])
    aps = []
    for k in range(3):
        svm = LinearSVC(C=1.0, random_state=0).fit(scaler.transform(x[:80]), y[:80, k])
        aps.append(
            average_precision_score(y[80:, k], svm.decision_function(scaler.transform(x[80:])))
        )
    assert got == pytest.approx(np.mean(aps), abs=1e-12)
    assert aps[0] > 0.9 and aps[1] > 0.8  # the separable labels are found


def test_multi_label_encoder_decoder_code_is_scored_by_mean_average_precision(imdb):
    _, _, ev, base = imdb
    assert ev["task"] == "multi" and "accuracy" not in ev
    assert set(ev["mean_ap"]) == {"both", "only_image", "only_text"}
    assert set(base["mean_ap"]) == {"raw", "pca"}
    prevalence = 0.28  # about the share of positives per label: a random score's AP
    assert ev["mean_ap"]["both"] > prevalence + 0.1
    assert base["mean_ap"]["raw"]["both"] > prevalence + 0.1
    assert set(ev["map"]) == {"image2text", "text2image"}


def test_multi_label_svm_table_reports_mean_average_precision_beside_pca_and_raw(imdb):
    _, _, ev, base = imdb
    text = svm_table([ev], [base], [])
    assert "one linear SVM per label" in text and "average precision" in text
    row = next(line for line in text.splitlines() if line.startswith("| image+text |"))
    cells = row.split(" | ")
    assert cells[1] == f"{100 * ev['mean_ap']['both']:.2f} ± 0.00"
    assert cells[2] == f"{100 * base['mean_ap']['raw']['both']:.2f} ± 0.00"
    assert cells[3] == f"{100 * base['mean_ap']['pca']['both']:.2f} ± 0.00"


def test_the_discriminative_variant_refuses_multi_label_data_naming_the_task(imdb, tmp_path):
    h5 = imdb[0]
    with pytest.raises(InputError, match=r"imdb\.h5: attrs/task"):
        _train(h5, tmp_path, "disc", "dmf")
    assert not list(tmp_path.iterdir())


def test_multi_label_datasets_get_the_encoder_decoder_variant_only():
    instances = {"imdb": {"kind": "mmimdb"}, "mfeat": {"kind": "mfeat"}}
    assert dmf_plan.disc_datasets(["imdb", "mfeat"], instances) == ["mfeat"]
    assert dmf_plan.encdec_datasets(["imdb", "mfeat"], instances, []) == ["imdb", "mfeat"]
    assert dmf_plan.tables(["imdb", "mfeat"], instances) == ["mfeat"]


def test_svm_table_says_how_many_pairs_the_encoder_decoder_cap_kept(tri_h5, tmp_path):
    _train(tri_h5, tmp_path, "encdec", "emf", encdec_max_train=100, encdec_max_epochs=1)
    ev = evaluate_encdec(tmp_path / "encdec_emf.pt", tri_h5, tmp_path / "e.json", dataset="tri",
                         model="emf", seed=0, threads=1, **eval_settings(**EVAL))  # fmt: skip
    base = evaluate_baselines(tri_h5, tmp_path / "b.json", dataset="tri", seed=0, code_dim=8,
                              cca_components=3, threads=1, **eval_settings(**EVAL))  # fmt: skip
    text = svm_table([ev], [base], [])
    assert (
        "Encoder–decoders trained on 100 of 300 training pairs (`dmf.encdec_max_train` cap)."
        in text
    )
