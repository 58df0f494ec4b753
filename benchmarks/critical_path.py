"""Run profile of a finished workflow run: per-stage time, critical path, idle core-seconds.

Reads the Snakemake `benchmark:` files of a run (`results/benchmarks/<rule>/<wildcards>.tsv`,
one per job) and the run's DAG (`snakemake --dag` DOT text), and prints a markdown report:
per stage (rule) the jobs, summed wall time and core-seconds (`cpu_time`), peak RSS; the
longest dependency chain (critical path) weighted by each job's wall time; the run's wall
time and the idle core-seconds (cores x run wall - summed cpu_time).

Usage (from a finished run's workflow directory):
    snakemake -n --dag --configfile config/smoke.yaml > dag.dot
    python benchmarks/critical_path.py --dag dag.dot --cores 2
or let the tool run the dry run itself (cheap: no job runs):
    python benchmarks/critical_path.py --snakemake .venv/bin/snakemake --workdir . \
        --configfile config/smoke.yaml [--benchmarks results/benchmarks] [--json] [--out F]

The run's wall time is the span from the first job start to the last job end, from the
benchmark files' mtimes (end = mtime, start = end - s; benchmark TSVs carry no timestamps), or
`--wall SECONDS`. Files copied without their mtimes give a wrong span: the report warns when
the span is shorter than the critical path.

Matching DAG nodes to benchmark files: a DOT label holds the rule name and only the
wildcards a job adds to its dependencies' (Snakemake's `new_wildcards`), so a node's
wildcard values are its label's plus (possibly) its ancestors'. Per rule, every label value
must appear in the file's path; nodes and files are then paired one to one (maximum total
number of path characters covered by the node's possible values). No rule name is built in.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

NODE_RE = re.compile(r'^\s*(\d+)\s*\[\s*label\s*=\s*"((?:[^"\\]|\\.)*)"', re.M)
EDGE_RE = re.compile(r"^\s*(\d+)\s*->\s*(\d+)", re.M)


# ---------------------------------------------------------------------------------- inputs
def parse_dot(text: str) -> tuple[dict[str, dict], list[tuple[str, str]]]:
    """DOT text of `snakemake --dag` -> ({id: {"rule", "wildcards"}}, [(dependency, job)])."""
    nodes = {}
    for nid, label in NODE_RE.findall(text):
        rule, *rest = label.split("\\n")
        wildcards = {}
        for item in rest:
            name, _, value = item.partition(": ")
            wildcards[name.strip()] = value.strip()
        nodes[nid] = {"rule": rule.strip(), "wildcards": wildcards}
    edges = [(a, b) for a, b in EDGE_RE.findall(text) if a in nodes and b in nodes]
    if not nodes:
        raise ValueError("no DAG nodes found in the DOT text (is it `snakemake --dag` output?)")
    return nodes, edges


def run_snakemake_dag(snakemake: str, workdir: str, configfile: list[str], extra: list[str]) -> str:
    """DOT text of a dry run (`snakemake -n --dag`) in `workdir`."""
    cmd = [snakemake, "-n", "--dag", *extra]
    for cf in configfile:
        cmd += ["--configfile", cf]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def read_benchmarks(root: Path) -> pd.DataFrame:
    """One row per benchmark file: rule, job (path below the rule's folder, no .tsv), s,
    cpu_time, max_rss, end (mtime), start (end - s). Rows of `repeat()` files are summed."""
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            continue
        df = pd.read_csv(path, sep="\t")
        if df.empty or "s" not in df:
            continue
        s = float(df["s"].sum())
        cpu = pd.to_numeric(df.get("cpu_time", pd.Series([np.nan])), errors="coerce").sum()
        rss = pd.to_numeric(df.get("max_rss", pd.Series([np.nan])), errors="coerce").max()
        end = path.stat().st_mtime
        rows.append(
            {
                "rule": rel.parts[0],
                "job": str(Path(*rel.parts[1:]).with_suffix("")),
                "s": s,
                "cpu_time": float(cpu),
                "max_rss": float(rss),
                "end": end,
                "start": end - s,
            }
        )
    if not rows:
        raise ValueError(f"no benchmark TSV files under {root}")
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------- matching
def _boundary(path: str, i: int, j: int) -> bool:
    """path[i:j] is a whole value: not glued to a letter/digit of the same kind."""
    before = path[i - 1] if i > 0 else "/"
    after = path[j] if j < len(path) else "/"
    first, last = path[i], path[j - 1]

    def glued(a: str, b: str) -> bool:
        return (a.isdigit() and b.isdigit()) or (a.isalpha() and b.isalpha())

    return not glued(before, first) and not glued(last, after)


def _occurrences(path: str, value: str) -> list[tuple[int, int]]:
    if not value:
        return []
    out, start = [], path.find(value)
    while start >= 0:
        if _boundary(path, start, start + len(value)):
            out.append((start, start + len(value)))
        start = path.find(value, start + 1)
    return out


def _score(path: str, required: set[str], possible: set[str]) -> int:
    """-1 when a required value is missing from `path`, else the characters of `path`
    covered by occurrences of the possible values."""
    if any(not _occurrences(path, v) for v in required):
        return -1
    covered = np.zeros(len(path), bool)
    for v in possible | required:
        for i, j in _occurrences(path, v):
            covered[i:j] = True
    return int(covered.sum())


def ancestors(nodes: dict, edges: list[tuple[str, str]]) -> dict[str, set[str]]:
    deps = defaultdict(set)
    for a, b in edges:
        deps[b].add(a)
    memo: dict[str, set[str]] = {}

    def visit(n: str) -> set[str]:
        if n not in memo:
            memo[n] = set()
            acc = set()
            for d in deps[n]:
                acc |= {d} | visit(d)
            memo[n] = acc
        return memo[n]

    for n in nodes:
        visit(n)
    return memo


def match_jobs(
    nodes: dict, edges: list[tuple[str, str]], bench: pd.DataFrame
) -> tuple[dict[str, int], list[str]]:
    """{DAG node id: benchmark row index} and warnings (ambiguous or unmatched jobs)."""
    from scipy.optimize import linear_sum_assignment

    anc = ancestors(nodes, edges)
    warnings = []
    matched: dict[str, int] = {}
    unbenchmarked: list[str] = []
    by_rule = defaultdict(list)
    for nid, node in nodes.items():
        by_rule[node["rule"]].append(nid)
    for rule, nids in by_rule.items():
        rows = bench.index[bench["rule"] == rule].tolist()
        if not rows:
            unbenchmarked.append(rule)
            continue
        score = np.full((len(nids), len(rows)), -1)
        for a, nid in enumerate(nids):
            required = set(nodes[nid]["wildcards"].values())
            possible = {v for m in anc[nid] for v in nodes[m]["wildcards"].values()}
            for b, r in enumerate(rows):
                score[a, b] = _score(bench.at[r, "job"], required, possible)
        cost = np.where(score < 0, 10**6, -score)
        for a, b in zip(*linear_sum_assignment(cost), strict=True):
            if score[a, b] < 0:
                continue
            matched[nids[a]] = rows[b]
            col = score[:, b]
            if (col == score[a, b]).sum() > 1:
                warnings.append(f"{rule}: {bench.at[rows[b], 'job']} matches several DAG nodes")
        left = set(rows) - {matched[n] for n in nids if n in matched}
        for r in sorted(left):
            warnings.append(f"{rule}: benchmark {bench.at[r, 'job']} has no DAG node")
        missing = [n for n in nids if n not in matched]
        if missing:
            warnings.append(f"{rule}: {len(missing)} DAG node(s) without a benchmark file")
    dag_rules = set(by_rule)
    for rule in sorted(set(bench["rule"]) - dag_rules):
        warnings.append(f"{rule}: benchmark folder but no such rule in the DAG")
    if unbenchmarked:
        warnings.append(
            "rules of the DAG without benchmark files (counted as 0 s): "
            + ", ".join(sorted(unbenchmarked))
        )
    return matched, warnings


# ---------------------------------------------------------------------------------- profile
def critical_path(
    nodes: dict, edges: list[tuple[str, str]], weight: dict[str, float]
) -> tuple[float, list[str]]:
    """Longest chain (sum of node weights) of the DAG: (total, node ids in run order)."""
    deps = defaultdict(list)
    indeg = {n: 0 for n in nodes}
    succ = defaultdict(list)
    for a, b in edges:
        deps[b].append(a)
        succ[a].append(b)
        indeg[b] += 1
    order, queue = [], [n for n, d in indeg.items() if d == 0]
    while queue:
        n = queue.pop()
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                queue.append(m)
    if len(order) != len(nodes):
        raise ValueError("the DAG has a cycle")
    best: dict[str, float] = {}
    prev: dict[str, str | None] = {}
    for n in order:
        p = max(deps[n], key=lambda d: best[d], default=None)
        best[n] = weight.get(n, 0.0) + (best[p] if p is not None else 0.0)
        prev[n] = p
    end = max(best, key=lambda n: best[n])
    chain = []
    node: str | None = end
    while node is not None:
        chain.append(node)
        node = prev[node]
    return best[end], chain[::-1]


def profile(
    bench: pd.DataFrame,
    nodes: dict | None = None,
    edges: list[tuple[str, str]] | None = None,
    cores: int = 2,
    wall: float | None = None,
) -> dict:
    stages = (
        bench.groupby("rule", sort=False)
        .agg(
            jobs=("s", "size"),
            wall_s=("s", "sum"),
            cpu_s=("cpu_time", "sum"),
            max_wall_s=("s", "max"),
            max_rss_mb=("max_rss", "max"),
        )
        .reset_index()
    )
    first_start = bench.groupby("rule")["start"].min()
    stages["first_start"] = stages["rule"].map(first_start)
    stages = stages.sort_values("first_start").drop(columns="first_start")
    span = float(bench["end"].max() - bench["start"].min())
    run_wall, source = (wall, "--wall") if wall is not None else (span, "benchmark mtimes")
    cpu = float(bench["cpu_time"].sum())
    out = {
        "cores": cores,
        "jobs": len(bench),
        "wall_sum_s": float(bench["s"].sum()),
        "cpu_sum_s": cpu,
        "run_wall_s": run_wall,
        "run_wall_source": source,
        "mtime_span_s": span,
        "idle_core_s": cores * run_wall - cpu,
        "busy_share": cpu / (cores * run_wall) if run_wall > 0 else float("nan"),
        "held_share": float(bench["s"].sum()) / (cores * run_wall)
        if run_wall > 0
        else float("nan"),
        "stages": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in stages.to_dict("records")
        ],
        "critical_path": None,
        "warnings": [],
    }
    if nodes is not None:
        matched, warnings = match_jobs(nodes, edges or [], bench)
        weight = {n: float(bench.at[r, "s"]) for n, r in matched.items()}
        total, chain = critical_path(nodes, edges or [], weight)
        out["critical_path"] = {
            "total_s": total,
            "jobs": [
                {
                    "rule": nodes[n]["rule"],
                    "job": bench.at[matched[n], "job"] if n in matched else None,
                    "wall_s": weight.get(n, 0.0),
                }
                for n in chain
            ],
        }
        out["dag_jobs"] = len(nodes)
        out["warnings"] += warnings
        out["lower_bound_s"] = max(total, cpu / cores)
        if wall is None and span < total:
            out["warnings"].append(
                f"the benchmark files' mtime span ({span:.1f} s) is shorter than the critical "
                "path: mtimes were probably not kept (copied files); pass --wall"
            )
    return out


# ----------------------------------------------------------------------------------- output
def _f(x: float, nd: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:,.{nd}f}"


def markdown(p: dict) -> str:
    lines = ["## Stages", ""]
    lines += [
        "| stage | jobs | wall sum (s) | core-s (cpu_time) | share of core-s | "
        "longest job (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for st in p["stages"]:
        share = 100 * st["cpu_s"] / p["cpu_sum_s"] if p["cpu_sum_s"] else float("nan")
        lines.append(
            f"| {st['rule']} | {st['jobs']} | {_f(st['wall_s'])} | {_f(st['cpu_s'])} | "
            f"{_f(share, 0)} % | {_f(st['max_wall_s'])} | {_f(st['max_rss_mb'], 0)} |"
        )
    lines.append(
        f"| **all** | {p['jobs']} | {_f(p['wall_sum_s'])} | {_f(p['cpu_sum_s'])} | 100 % | | |"
    )
    cp = p["critical_path"]
    if cp is not None:
        lines += ["", "## Critical path", ""]
        lines += ["| # | rule | job | wall (s) | cumulative (s) |", "|---:|---|---|---:|---:|"]
        acc = 0.0
        for i, job in enumerate(cp["jobs"], 1):
            acc += job["wall_s"]
            name = job["job"] if job["job"] is not None else "(no benchmark)"
            lines.append(f"| {i} | {job['rule']} | {name} | {_f(job['wall_s'])} | {_f(acc)} |")
        lines += ["", f"Critical path total: **{_f(cp['total_s'])} s** ({len(cp['jobs'])} jobs)"]
    lines += [
        "",
        "## Run",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| cores | {p['cores']} |",
        f"| run wall time (s, from {p['run_wall_source']}) | {_f(p['run_wall_s'])} |",
        f"| summed job wall time (s) | {_f(p['wall_sum_s'])} |",
        f"| summed core-seconds (cpu_time) | {_f(p['cpu_sum_s'])} |",
        f"| core-seconds available (cores × run wall) | {_f(p['cores'] * p['run_wall_s'])} |",
        f"| idle core-seconds | {_f(p['idle_core_s'])} |",
        f"| cores busy | {_f(100 * p['busy_share'], 0)} % |",
        f"| cores held by jobs (summed job wall / available) | {_f(100 * p['held_share'], 0)} % |",
    ]
    if cp is not None:
        lines += [
            f"| critical path (s) | {_f(cp['total_s'])} |",
            f"| lower bound on run wall: max(critical path, core-s / cores) (s) | "
            f"{_f(p['lower_bound_s'])} |",
        ]
    lines += [
        "",
        "`cpu_time` is Snakemake's sample of each job's process tree (every second for 30 s, "
        "then every 30 s), so it misses up to the last 30 s of a job and the idle and busy "
        "rows are bounds; summed job wall time is exact.",
    ]
    if p["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in p["warnings"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benchmarks", type=Path, help="default: WORKDIR/results/benchmarks")
    ap.add_argument("--dag", type=Path, help="DOT file of `snakemake -n --dag`")
    ap.add_argument("--snakemake", help="snakemake executable: run `snakemake -n --dag` itself")
    ap.add_argument("--workdir", type=Path, default=Path("."), help="workflow directory")
    ap.add_argument("--configfile", action="append", default=[])
    ap.add_argument("--snakemake-arg", action="append", default=[], help="extra dry-run arg")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--wall", type=float, help="run wall time in seconds (default: mtimes)")
    ap.add_argument("--json", action="store_true", help="JSON instead of markdown")
    ap.add_argument("--out", type=Path, help="write the report here instead of stdout")
    args = ap.parse_args(argv)
    if args.dag and args.snakemake:
        ap.error("give --dag or --snakemake, not both")

    bench = read_benchmarks(args.benchmarks or args.workdir / "results" / "benchmarks")
    nodes = edges = None
    if args.dag or args.snakemake:
        text = (
            args.dag.read_text()
            if args.dag
            else run_snakemake_dag(
                args.snakemake, str(args.workdir), args.configfile, args.snakemake_arg
            )
        )
        nodes, edges = parse_dot(text)
    p = profile(bench, nodes, edges, cores=args.cores, wall=args.wall)
    text = json.dumps(p, indent=2) + "\n" if args.json else markdown(p)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
