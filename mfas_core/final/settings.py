"""The `final:` config section as frozen dataclasses, one per job kind.

A found architecture's final training reads the phase-1 budget and phase 2 (fine-tuning);
a baseline reads the phase-1 budget, and the low-rank tensor fusion its rank as well. The
`*_params` functions pick exactly those keys for a rule's `settings` param, so editing
`final.lrtf_rank` re-runs the lrtf baseline only. Defaults equal the schema's
(tests/test_settings.py); `from_params` requires every field.
"""

from __future__ import annotations

from dataclasses import dataclass

from mfas_core.config import ConfigError
from mfas_core.settings import build, field_names, pick
from mfas_core.training import FitSettings


@dataclass(frozen=True)
class PhaseOneSettings:
    """Phase 1 (frozen backbones, cached taps): the budget every final run shares."""

    width: int = 64
    dropout: float = 0.4
    epochs: int = 5
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    min_steps: int = 500

    def phase1(self, seed: int) -> FitSettings:
        return FitSettings(
            self.epochs, self.lr, self.weight_decay, self.batch_size, seed, self.min_steps
        )


@dataclass(frozen=True)
class FinalSettings(PhaseOneSettings):
    """Final training of a found architecture: phase 1, then `finetune_epochs` of phase 2."""

    finetune_epochs: int = 0
    finetune_lr: float = 1e-3

    @classmethod
    def from_params(cls, **params) -> FinalSettings:
        return build(cls, params, "final")

    def phase2(self, seed: int) -> FitSettings:
        return FitSettings(self.finetune_epochs, self.finetune_lr, self.weight_decay,
                           self.batch_size, seed)  # fmt: skip


@dataclass(frozen=True)
class BaselineSettings(PhaseOneSettings):
    """A fusion baseline: phase 1's budget; `lrtf_rank` for lrtf only (None for the others)."""

    lrtf_rank: int | None = 4

    @classmethod
    def from_params(cls, **params) -> BaselineSettings:
        return build(cls, params, "final")


def train_params(final: dict) -> dict:
    """The `settings` param of rule train_final."""
    return pick(final, field_names(FinalSettings), "final")


def baseline_params(final: dict, method: str) -> dict:
    """The `settings` param of rule train_final_baseline for one method."""
    keys = [k for k in field_names(BaselineSettings) if k != "lrtf_rank"]
    return pick(final, keys, "final") | {
        "lrtf_rank": final["lrtf_rank"] if method == "lrtf" else None
    }


def table_setup(final: dict, search_seeds: list[int]) -> dict:
    """What the final table states of the setup (rule tabulate_final)."""
    keys = (*field_names(FinalSettings), "lrtf_rank", "top", "seeds")
    return pick(final, keys, "final") | {"search_seeds": list(search_seeds)}


@dataclass(frozen=True)
class RobustnessSettings:
    """The `robustness:` section: how each modality of the test split is perturbed."""

    enabled: bool = True
    noise_levels: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    snr_db: tuple[float, ...] = (20.0, 10.0, 0.0, -10.0)
    snr_modalities: tuple[str, ...] = ("audio",)

    @classmethod
    def from_params(cls, **params) -> RobustnessSettings:
        cfg = build(cls, params, "robustness")
        if len(cfg.noise_levels) != len(cfg.snr_db):
            raise ConfigError(
                f"robustness: noise_levels has {len(cfg.noise_levels)} levels, snr_db "
                f"{len(cfg.snr_db)}; give both the same number (one curve per modality)"
            )
        return cfg

    @property
    def names(self) -> list[str]:
        """File names of the perturbations, the same for every modality."""
        return ["zero", *[f"noise{i}" for i in range(1, len(self.noise_levels) + 1)]]

    def perturbations(self, modality: str) -> list[dict]:
        """The perturbations of one modality, weakest first after `zero` (missing): each a
        dict with its file name (`zero`, `noise1`, ...), kind and strength."""
        out = [{"name": "zero", "kind": "zero", "level": None}]
        if modality in self.snr_modalities:
            out += [{"name": f"noise{i}", "kind": "snr", "level": float(v)}
                    for i, v in enumerate(self.snr_db, 1)]  # fmt: skip
        else:
            out += [{"name": f"noise{i}", "kind": "noise", "level": float(v)}
                    for i, v in enumerate(self.noise_levels, 1)]  # fmt: skip
        return out


def robustness_params(robustness: dict) -> dict:
    """The `settings` param of the robustness rules (the whole `robustness:` section)."""
    return pick(robustness, field_names(RobustnessSettings), "robustness")
