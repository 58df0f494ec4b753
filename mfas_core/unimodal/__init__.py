"""Stage: unimodal backbones (trained, then frozen) and the per-layer feature cache.

Takes in: a prepared dataset file (`results/data/<dataset>.h5`).
Writes: `results/backbones/<dataset>/<modality>.pt` and the pooled taps `results/features/<dataset>/<modality>.h5`.
Called by: rules `train_backbone`, `extract_features` (rules/backbones.smk).
"""
