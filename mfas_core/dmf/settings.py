"""DMF settings (config section `dmf`): one frozen dataclass per job, built once from the
rule's `settings` param.

A discriminative and an encoder-decoder net read different keys of `dmf` (the `encdec_*`
learning rate, epoch cap and training-set cap; modality dropout; CD pretraining only where
`cd_pretrain` names the variant), so `train_params` gives each variant's job exactly what it
reads: editing `dmf.max_train` re-runs the discriminative nets only. Defaults equal the
schema's (tests/test_settings.py); `from_params` requires every field.
"""

from __future__ import annotations

from dataclasses import dataclass

from mfas_core.dmf.cd import CDSettings
from mfas_core.settings import build, pick

VARIANTS = ("disc", "encdec")
# Keys both variants read, under the same name in the config and the settings.
SHARED_KEYS = ("modality_sizes", "shared_sizes", "patience", "min_steps", "batch_size",
               "weight_decay", "val_max")  # fmt: skip
# Config keys of each variant's learning rate, epoch cap and training-set cap.
VARIANT_KEYS = {
    "disc": {"lr": "lr", "max_epochs": "max_epochs", "max_train": "max_train"},
    "encdec": {"lr": "encdec_lr", "max_epochs": "encdec_max_epochs", "max_train": "encdec_max_train"},
}  # fmt: skip
CD_KEYS = {"k": "cd_k", "epochs": "cd_epochs", "lr": "cd_lr", "min_steps": "cd_min_steps"}
EVAL_KEYS = ("svm_c", "svm_kernel", "svm_max_train", "retrieval_max_queries", "query_fraction")


@dataclass(frozen=True)
class DMFSettings:
    """Training settings of one EMF/IMF/DMF net of one variant (see `train_params`).

    Defaults: the schema's for the discriminative variant (no modality dropout, no CD)."""

    modality_sizes: tuple[int, ...] = (512, 128)
    shared_sizes: tuple[int, ...] = (512, 256, 64)
    max_epochs: int = 20
    patience: int = 3
    min_steps: int = 300
    batch_size: int = 128
    lr: float = 0.003
    weight_decay: float = 0.0
    max_train: int = 0
    val_max: int = 2000
    modality_dropout: float = 0.0
    cd: CDSettings | None = None
    device: str = "auto"
    threads: int | None = None

    @classmethod
    def from_params(cls, **params) -> DMFSettings:
        """From a rule's `settings` param (plus the job's threads); every field required."""
        return build(cls, params, "dmf")


def training_cap(cap: int | dict, dataset: str | None) -> int:
    """A `max_train` / `encdec_max_train` value for one dataset (its name under `datasets`):
    a number caps every dataset; a mapping caps those it names, every other one is uncapped."""
    if isinstance(cap, dict):
        return int(cap.get(dataset, 0))
    return int(cap)


def train_params(dmf: dict, variant: str, device: str, dataset: str | None = None) -> dict:
    """The `settings` param of rule train_dmf for one variant of one dataset (its name under
    `datasets`, which a per-dataset training cap is keyed by): what that variant reads."""
    if variant not in VARIANTS:
        raise ValueError(f"DMF variant {variant!r} is not one of {VARIANTS}")
    out = pick(dmf, SHARED_KEYS, "dmf")
    out |= {name: dmf[key] for name, key in VARIANT_KEYS[variant].items()}
    out["max_train"] = training_cap(out["max_train"], dataset)
    out["modality_dropout"] = dmf["modality_dropout"] if variant == "encdec" else 0.0
    cd = None
    if variant in dmf["cd_pretrain"]:
        cd = {name: dmf[key] for name, key in CD_KEYS.items()} | {"batch_size": dmf["batch_size"]}
    return out | {"cd": cd, "device": device}


@dataclass(frozen=True)
class EvalSettings:
    """Evaluation of joint codes and the baselines beside them (rules evaluate_dmf,
    evaluate_dmf_baselines); defaults = the schema.

    Both rules draw the same samples from (seed, these settings): the SVM's training subset and
    the retrieval queries / items (`mfas_core.dmf.evaluate.evaluation_samples`).
    """

    svm_c: float = 1.0
    svm_kernel: str = "rbf"
    svm_max_train: int = 2000
    retrieval_max_queries: int = 500
    query_fraction: float = 0.25
    device: str = "auto"
    threads: int | None = None

    @classmethod
    def from_params(cls, **params) -> EvalSettings:
        """From a rule's `settings` param (plus the job's threads); every field required."""
        return build(cls, params, "dmf")


def eval_params(dmf: dict, device: str) -> dict:
    """The `settings` param shared by rules evaluate_dmf and evaluate_dmf_baselines."""
    return pick(dmf, EVAL_KEYS, "dmf") | {"device": device}
