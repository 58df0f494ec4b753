"""Final training: takes the search's topk.tsv, the cached taps (and for phase 2 the raw
data and backbones); trains each found architecture and every fusion baseline on the same
budget and writes results/final/<ds>/.../metrics.json (rules final_train, final_baseline)."""
