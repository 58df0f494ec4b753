"""Stage: Dense Multimodal Fusion (Hu et al.) — EMF / IMF / DMF networks and their evaluation.

Takes in: a prepared two-modality dataset file (`results/data/<dataset>.h5`).
Writes: checkpoints, metrics and evaluations under `results/dmf/<dataset>/…` (per model and
seed; raw-input baselines under `baselines/`). Called by: rules `dmf_train`, `dmf_evaluate`,
`dmf_baselines` (rules/dmf.smk).
"""
