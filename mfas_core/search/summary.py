"""The search's result: the top K over everything sampled at every level."""

from __future__ import annotations

import pandas as pd

from mfas_core.atomic import write_tsv


def summarize_search(candidate_tsvs: list[str], out_tsv: str, k: int) -> pd.DataFrame:
    """Top k over everything sampled in all levels (paper: return topK(B, A, K))."""
    frame = pd.concat([pd.read_csv(p, sep="\t") for p in candidate_tsvs], ignore_index=True)
    top = frame.sort_values("val_score", ascending=False, kind="stable").head(k).copy()
    top.insert(0, "rank", range(1, len(top) + 1))
    write_tsv(out_tsv, top)
    return top
