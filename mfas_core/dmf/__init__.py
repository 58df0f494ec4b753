"""Stage: Dense Multimodal Fusion (Hu et al.) — EMF / IMF / DMF networks and their evaluation.

Takes in: a prepared dataset file of 2 to 8 modalities (`results/data/<dataset>.h5`), single- or
multi-label (multi-label: encoder-decoder only).
Writes: checkpoints, metrics and evaluations under `results/dmf/<dataset>/…` (per model and
seed; raw-input baselines under `baselines/`). Called by: rules `dmf_train`, `dmf_evaluate`,
`dmf_baselines` (rules/dmf.smk).
"""
