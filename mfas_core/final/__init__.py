"""Stage: final training of the found architectures and the fusion baselines, same budget;
their cost and their robustness to a missing or noisy modality.

Takes in: the search's `topk.tsv`, the cached taps (phase 2 also the raw data and backbones;
robustness the raw test split and the backbones).
Writes: `results/final/<dataset>/{mfas,baselines}/…/{metrics.json,model.pt}` (val and test
scores, params; the trained weights), `results/final/<dataset>/cost.json` (FLOPs,
latency), `results/robustness/<dataset>/…`
(perturbed test caches, every final model's perturbed scores).
Called by: rules `train_final`, `train_final_baseline`, `measure_final_cost`,
`extract_perturbed_features`, `evaluate_final_robustness` (rules/final.smk,
rules/robustness.smk).
"""
