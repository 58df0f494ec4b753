"""Stage: datasets — one module per source, `schema` for the shared HDF5 layout, `prepare` to build.

Takes in: real data shipped inside Python packages (MNIST, UCI mfeat, eSpeak NG) or a user's file.
Writes: `results/data/<dataset>.h5` (train/val/test splits of two modalities and labels).
Called by: rule `prepare_data` (rules/data.smk).
"""
