"""The one training core: the epoch loop, fit / predict / score, batches and optimiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score
from torch import nn

from mfas_core.training import (
    FitSettings,
    Validation,
    adam,
    fit,
    predict,
    score,
    shuffled_batches,
    train_epochs,
)


def blobs(n: int, seed: int, classes: int = 3, dim: int = 5):
    """Gaussian blobs: a problem a small net solves, with a little label noise."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 3, (classes, dim))
    y = rng.integers(0, classes, n)
    x = (centres[y] + rng.normal(0, 1, (n, dim))).astype(np.float32)
    return x, y


def settings(**kw) -> FitSettings:
    base = dict(epochs=5, lr=3e-3, weight_decay=1e-4, batch_size=32, seed=0)
    return FitSettings(**{**base, **kw})


def mlp(seed: int = 0, out: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, out))


def test_fit_learns_a_separable_problem_and_reports_the_kept_weights_val_score():
    (xt, yt), (xv, yv) = blobs(600, 1), blobs(200, 2)
    model = mlp()
    res = fit(model, ([xt], yt), ([xv], yv), task="single", settings=settings())
    assert res.val_score > 0.9
    assert score("single", yv, predict(model, [xv]))["score"] == pytest.approx(res.val_score)
    assert res.val_score == max(h["val_score"] for h in res.history)


def test_same_seed_gives_the_same_numbers():
    (xt, yt), (xv, yv) = blobs(300, 1), blobs(100, 2)
    runs = [fit(mlp(), ([xt], yt), ([xv], yv), task="single", settings=settings())
            for _ in range(2)]  # fmt: skip
    assert runs[0].history == runs[1].history


def test_fine_tuning_from_current_weights_never_ends_worse_on_validation():
    (xt, yt), (xv, yv) = blobs(300, 1), blobs(100, 2)
    model = mlp()
    first = fit(model, ([xt], yt), ([xv], yv), task="single", settings=settings())
    # training on systematically wrong labels wrecks the net: the starting weights stay
    again = fit(model, ([xt], (yt + 1) % 3), ([xv], yv), task="single",
                settings=settings(lr=1e-2, epochs=2), start_from_current=True)  # fmt: skip
    assert max(h["val_score"] for h in again.history) < first.val_score - 0.2
    assert again.best_epoch == 0 and again.val_score == pytest.approx(first.val_score)
    assert score("single", yv, predict(model, [xv]))["score"] == pytest.approx(first.val_score)


def test_min_steps_raises_the_epochs_of_small_training_sets():
    assert settings(epochs=2, min_steps=100, batch_size=32).epochs_for(320) == 10
    assert settings(epochs=2, min_steps=0).epochs_for(320) == 2


def test_multitask_outputs_are_all_trained_and_the_first_one_predicts():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(5, 3), nn.Linear(5, 3)

        def forward(self, x):
            return self.a(x), self.b(x)

    (xt, yt), (xv, yv) = blobs(300, 1), blobs(100, 2)
    torch.manual_seed(0)
    model = TwoHeads()
    b0 = model.b.weight.detach().clone()
    fit(model, ([xt], yt), ([xv], yv), task="single", settings=settings(epochs=2))
    assert not torch.equal(model.b.weight, b0)
    np.testing.assert_allclose(predict(model, [xv]), model.a(torch.from_numpy(xv)).detach())


def test_multi_label_scores_are_sklearns_weighted_and_macro_f1():
    rng = np.random.default_rng(0)
    y = (rng.random((50, 6)) < 0.3).astype(np.uint8)
    logits = rng.normal(size=(50, 6))
    s = score("multi", y, logits)
    pred = (logits > 0).astype(int)
    assert s["score"] == pytest.approx(f1_score(y, pred, average="weighted", zero_division=0))
    assert s["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))


def test_multi_label_fit_learns_with_weighted_bce():
    (xt, ct), (xv, cv) = blobs(600, 1), blobs(200, 2)
    yt = np.eye(3, dtype=np.float32)[ct]  # one genre each, as multi-hot rows
    yv = np.eye(3, dtype=np.float32)[cv]
    res = fit(mlp(), ([xt], yt), ([xv], yv), task="multi", settings=settings())
    assert res.val_score > 0.85 and 0 < res.val_macro_f1 <= 1


def test_shuffled_batches_cover_one_permutation_and_drop_only_when_asked():
    kept = shuffled_batches(10, 4, np.random.default_rng(0))
    dropped = shuffled_batches(10, 4, np.random.default_rng(0), drop_last=True)
    order = np.random.default_rng(0).permutation(10)
    assert [len(b) for b in kept] == [4, 4, 2] and [len(b) for b in dropped] == [4, 4]
    np.testing.assert_array_equal(np.concatenate(kept), order)
    np.testing.assert_array_equal(np.concatenate(dropped), order[:8])


def test_train_epochs_keeps_the_first_strictly_best_epoch_and_stops_on_patience():
    model = nn.Linear(2, 1)
    scores = iter([0.5, 0.7, 0.7, 0.6, 0.9])
    seen = {}

    def validate(epoch):
        seen[epoch] = model.weight.detach().clone()
        return Validation(next(scores), {"val": epoch})

    opt, sched = adam(model, 0.1, 0.0)
    assert sched is None
    x = torch.randn(6, 2)
    res = train_epochs(
        model, epochs=5, batches=lambda _: [np.arange(3), np.arange(3, 6)],
        batch_loss=lambda idx: model(x[idx]).pow(2).mean(), validate=validate,
        optimizer=opt, patience=2,
    )  # fmt: skip
    assert res.best_epoch == 2 and res.best.score == 0.7 and res.epochs == 4
    assert [r["val"] for r in res.history] == [1, 2, 3, 4]
    assert set(res.history[0]) == {"epoch", "train_loss", "val"}
    assert torch.equal(model.weight, seen[2]) and not model.training


def test_adam_with_cosine_steps_anneals_to_eta_min_per_batch():
    model = nn.Linear(2, 1)
    opt, sched = adam(model, 1.0, 0.0, cosine_steps=4, eta_min=0.2)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1.0) and lrs[2] == pytest.approx(0.6)
    assert lrs[4] == pytest.approx(0.2)
