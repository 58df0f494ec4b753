"""Stage: Dense Multimodal Fusion (Hu et al.) — EMF / IMF / DMF networks and their evaluation.

Takes in: a prepared two-modality dataset file (`results/data/<dataset>.h5`).
Writes: checkpoints and metrics under `results/dmf/<dataset>/<variant>/<model>/seed<s>/`.
Called by: rules `dmf_train`, `dmf_svm`, `dmf_retrieval` (rules/dmf.smk).
"""
