"""Stage: tables and plots of every result, with the papers' numbers (`paper.py`) beside ours.

Takes in: metrics JSON and candidate TSV files written by the earlier stages.
Writes: `results/tables/*.md`, `results/plots/*.png`.
Called by: rules `tabulate_*`, `plot_*`, `dmf_*_table`, `dmf_plot_curves`.
"""
