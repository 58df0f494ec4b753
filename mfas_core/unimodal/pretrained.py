"""Pretrained backbones with named taps: a user's module factory or a torchvision architecture.

Config (docs/your-encoders.md):
  {type: module, factory: "package.module:function", weights: file.pt, taps: [name, ...]}
  {type: torchvision, arch: resnet18, weights: file.pt, taps: [layer1, ...]}
  either with an optional `preprocess: {channels, resize: [H, W], mean, std}`.

Each tap is the named module's output, averaged over every axis after the channel axis
(spatial, temporal), as the built-in backbones' taps are. The network has no head for the
task: `TappedNet.head` is a linear layer on the last tap, fitted by train_backbone with the
backbone frozen. Weights load with torch.load(weights_only=True); every problem is one line
naming the file (or config key) and the field.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from mfas_core.config import ConfigError
from mfas_core.errors import InputError

PRETRAINED_TYPES = ("module", "torchvision")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"


def _pool(out, name: str) -> torch.Tensor:
    """Global average over every axis after the channel axis: [B, C, ...] -> [B, C]."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor) or out.dim() < 2:
        raise ValueError(f"tap {name!r} does not output a [batch, channels, ...] tensor")
    return out.mean(dim=tuple(range(2, out.dim()))) if out.dim() > 2 else out


class Preprocess(nn.Module):
    """Optional input preprocessing: channel axis/repeat, bilinear resize, mean/std."""

    def __init__(self, spec: dict | None):
        super().__init__()
        spec = dict(spec or {})
        self.channels = spec.get("channels")
        self.resize = tuple(spec["resize"]) if spec.get("resize") else None
        mean, std = spec.get("mean"), spec.get("std")
        self.register_buffer("mean", None if mean is None else torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", None if std is None else torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.channels is not None:
            if x.dim() == 3:  # [B, H, W]: add the channel axis
                x = x.unsqueeze(1)
            if x.shape[1] != self.channels:
                x = x.repeat(1, self.channels // x.shape[1], *([1] * (x.dim() - 2)))
        if self.resize is not None:
            x = F.interpolate(x, size=self.resize, mode="bilinear", align_corners=False)
        if self.mean is not None:
            x = x - self.mean
        if self.std is not None:
            x = x / self.std
        return x


class TappedNet(nn.Module):
    """A network whose named modules' pooled outputs are the taps; a linear head on the last."""

    def __init__(
        self,
        net: nn.Module,
        tap_names: list[str],
        input_shape: tuple[int, ...],
        n_classes: int,
        *,
        preprocess: dict | None = None,
        where: str = "backbone",
    ):
        super().__init__()
        self.net, self.tap_names = net, list(tap_names)
        self.input_shape = tuple(input_shape)
        self.preprocess = Preprocess(preprocess)
        modules = dict(net.named_modules())
        for name in self.tap_names:
            if not name or name not in modules:
                avail = ", ".join(n for n in modules if n)
                raise ConfigError(
                    f"config: {where}.taps: {name!r} is not a module of the network "
                    f"(available: {avail})"
                )
        self._outputs: dict[str, object] = {}
        for name in self.tap_names:
            modules[name].register_forward_hook(self._keeper(name))
        self.net.eval()
        try:
            with torch.no_grad():
                sizes = [int(t.shape[1]) for t in self.taps(torch.zeros(2, *self.input_shape))]
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"config: {where}: the network cannot take the input shape "
                f"{list(self.input_shape)} ({_first_line(exc)})"
            ) from None
        self.tap_sizes = sizes
        self.head = nn.Linear(sizes[-1], n_classes)

    def _keeper(self, name: str):
        def hook(_module, _inputs, output):
            self._outputs[name] = output

        return hook

    @property
    def frozen(self) -> bool:
        return not any(p.requires_grad for p in self.net.parameters())

    def freeze(self) -> None:
        for p in self.net.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True):
        """A frozen backbone stays in eval mode (its BatchNorm statistics are the weights')."""
        super().train(mode)
        if self.frozen:
            self.net.eval()
        return self

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        self._outputs = {}
        self.net(self.preprocess(x))
        out = [_pool(self._outputs[n], n) for n in self.tap_names]
        self._outputs = {}
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.taps(x)[-1])


def import_factory(ref: str, where: str):
    """`package.module:function` -> the function; the workflow directory is importable."""
    mod_name, sep, fn_name = str(ref).partition(":")
    if not sep or not mod_name or not fn_name:
        raise ConfigError(f"config: {where}.factory: {ref!r} is not 'package.module:function'")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ConfigError(
            f"config: {where}.factory: cannot import {mod_name!r} ({_first_line(exc)})"
        ) from None
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise ConfigError(f"config: {where}.factory: {mod_name!r} has no function {fn_name!r}")
    return fn


def torchvision_models(where: str):
    """torchvision.models, imported only for this route; one line if it cannot be."""
    try:
        import torchvision.models as models
    except Exception as exc:  # ImportError, or a CUDA-only build next to a CPU torch
        raise ConfigError(
            f"config: {where}.type: torchvision cannot be imported ({_first_line(exc)}); "
            f"install the torchvision release built for torch {torch.__version__}"
        ) from None
    return models


def build_network(spec: dict, where: str) -> nn.Module:
    """The bare network of a pretrained spec (random weights)."""
    if spec["type"] == "module":
        net = import_factory(spec["factory"], where)()
        if not isinstance(net, nn.Module):
            raise ConfigError(f"config: {where}.factory: {spec['factory']} returned no nn.Module")
        return net
    models = torchvision_models(where)
    try:
        return models.get_model(spec["arch"], weights=None)
    except ValueError as exc:
        raise ConfigError(f"config: {where}.arch: {_first_line(exc)}") from None


def load_weights(net: nn.Module, path: str | Path) -> None:
    """Load a state_dict file (weights_only) into `net`; InputError naming file and keys."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "weights", "missing file (no such state_dict file)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors and weights_only refusals
        raise InputError(
            path, "weights", f"unreadable with weights_only=True ({_first_line(exc)})"
        ) from None
    if not isinstance(state, dict):
        raise InputError(path, "weights", f"holds a {type(state).__name__}, not a state_dict")
    expected = set(net.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        raise InputError(path, "state_dict", "; ".join(parts))
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise InputError(path, "state_dict", _first_line(exc)) from None


def build_pretrained(
    spec: dict,
    input_shape: tuple[int, ...],
    n_classes: int,
    *,
    where: str = "backbone",
    weights: bool = True,
) -> TappedNet:
    """A TappedNet from a `module`/`torchvision` spec; `weights`: load the spec's file."""
    net = build_network(spec, where)
    if weights:
        load_weights(net, spec["weights"])
    return TappedNet(
        net, spec["taps"], input_shape, n_classes, preprocess=spec.get("preprocess"), where=where
    )
