"""DMF settings: one frozen dataclass built once from the rule's params (config section `dmf`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from mfas_core.dmf.cd import CDSettings


@dataclass(frozen=True)
class DMFSettings:
    """Training settings of one EMF/IMF/DMF network (see config/schema.yaml, `dmf`).

    The encoder-decoder variant has its own learning rate, epoch cap and training-set cap
    (`encdec_*`): reconstruction needs more passes than classification to give a usable code.
    """

    modality_sizes: tuple[int, ...] = (512, 128)
    shared_sizes: tuple[int, ...] = (512, 256, 64)
    max_epochs: int = 20
    patience: int = 3
    min_steps: int = 0
    batch_size: int = 128
    lr: float = 0.003
    weight_decay: float = 0.0
    max_train: int = 0
    val_max: int = 2000
    encdec_lr: float = 0.003
    encdec_max_epochs: int = 20
    encdec_max_train: int = 0
    modality_dropout: float = 0.5
    cd_pretrain: tuple[str, ...] = ("encdec",)
    cd_k: int = 1
    cd_epochs: int = 2
    cd_lr: float = 0.05
    cd_min_steps: int = 150
    device: str = "auto"
    threads: int | None = None

    @classmethod
    def from_params(cls, **params) -> DMFSettings:
        """Settings from a rule's params (plain builtins); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in params.items() if k in known}
        for k in ("modality_sizes", "shared_sizes"):
            if k in kw:
                kw[k] = tuple(int(v) for v in kw[k])
        if isinstance(kw.get("cd_pretrain"), bool):  # True / False: every variant / none
            kw["cd_pretrain"] = ("disc", "encdec") if kw["cd_pretrain"] else ()
        elif "cd_pretrain" in kw:
            kw["cd_pretrain"] = tuple(kw["cd_pretrain"])
        return cls(**kw)

    def for_variant(self, variant: str) -> dict:
        """Learning rate, epoch cap, training-set cap and CD pretraining of a variant."""
        cd = variant in self.cd_pretrain
        if variant == "encdec":
            return {
                "lr": self.encdec_lr,
                "max_epochs": self.encdec_max_epochs,
                "max_train": self.encdec_max_train,
                "cd": cd,
            }
        return {"lr": self.lr, "max_epochs": self.max_epochs, "max_train": self.max_train, "cd": cd}

    @property
    def cd(self) -> CDSettings:
        return CDSettings(
            k=self.cd_k,
            epochs=self.cd_epochs,
            lr=self.cd_lr,
            batch_size=self.batch_size,
            min_steps=self.cd_min_steps,
        )


@dataclass(frozen=True)
class EvalSettings:
    """Evaluation of joint codes and the baselines beside them (rules dmf_evaluate, dmf_baselines).

    Both rules draw the same samples from (seed, these settings): the SVM's training subset and
    the retrieval queries / items (`mfas_core.dmf.evaluate.evaluation_samples`).
    """

    svm_c: float = 1.0
    svm_kernel: str = "rbf"
    svm_max_train: int = 2000
    retrieval_max_queries: int = 500
    query_fraction: float = 0.25
    cca_components: int = 10
    device: str = "auto"
    threads: int | None = None

    @classmethod
    def from_params(cls, **params) -> EvalSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in known})
