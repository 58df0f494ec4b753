"""Stage: final training of the found architectures and the fusion baselines, same budget.

Takes in: the search's `topk.tsv`, the cached taps (phase 2 also the raw data and backbones).
Writes: `results/final/<dataset>/{mfas,baselines}/…/metrics.json` (val and test scores, params).
Called by: rules `final_train`, `final_baseline` (rules/final.smk).
"""
