"""Stage: MFAS search (paper Algorithm 1) and the random-search baseline, on cached features.

Takes in: the two per-layer feature caches of a dataset (`results/features/<dataset>/*.h5`).
Writes: one folder per SMBO level, `topk.tsv`, `random/candidates.tsv` under `results/search/`.
Called by: rules `search_level`, `search_random`, `search_summary` (rules/search.smk).
"""
