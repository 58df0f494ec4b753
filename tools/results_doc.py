"""Write docs/results.md from the tables of a finished run (results/tables/*.md).

No number is copied by hand: the page is a header saying which code, machine and command
produced the run, then every table file of `results/tables/`, in a fixed order, each under a
heading with one fixed sentence saying what it is. The table files already carry the papers'
numbers in their own columns. Run after `make run`:

    make results-doc                      # = python tools/results_doc.py
    RESULTS_COMMAND="snakemake --configfile config/paper.yaml --cores 8" make results-doc

Only the markdown headings of the embedded tables are shifted one level down (so that the
page has one title); every other line of a table file appears exactly as the run wrote it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Fixed order of the sections and the sentence each one gets; final_<ds> and dmf_<ds> are
# matched by pattern, anything else in the folder is appended afterwards in name order.
SECTIONS: list[tuple[str, str]] = [
    (
        r"unimodal",
        "The unimodal backbones whose per-layer features the search fuses, one seed, beside "
        "the MFAS paper's unimodal rows (Table 2).",
    ),
    (
        r"search",
        "MFAS against random search with the same budget, per search seed and over seeds "
        "(paired), beside the MFAS paper's Table 1.",
    ),
    (
        r"final_.+",
        "The found architectures trained to the end against the hand-designed fusion "
        "baselines on the test split, beside the MFAS paper's Table 2 (Table 3 for "
        "multi-label data).",
    ),
    (
        r"robustness_.+",
        "Every final method with one modality missing (zeroed at the input, the DMF paper's "
        "protocol) or noisy at increasing strength; its last line names the fusion that "
        "degrades least when each modality fails.",
    ),
    (
        r"dmf_mnist",
        "EMF, IMF and DMF discriminative nets on MNIST halves at every damage level, test "
        "error, with the DMF paper's Table 1 in parentheses.",
    ),
    (
        r"dmf_(?!svm$|retrieval$|mnist$).+",
        "EMF, IMF and DMF discriminative nets on this dataset with both modalities and each "
        "alone; the DMF paper has no counterpart.",
    ),
    (
        r"dmf_svm",
        "An SVM on the encoder-decoders' joint code beside SVMs on the raw inputs and on PCA "
        "(the DMF paper's SVM protocol, on our datasets).",
    ),
    (
        r"dmf_retrieval",
        "Cross-modal retrieval mAP from the encoder-decoders' joint code beside CCA, raw "
        "cosine and chance (the DMF paper's Table 2 protocol, on our datasets).",
    ),
]
OTHER = "Another table of the run."

# Pictures of the run copied beside the page (docs/img/), per dataset: (source under
# results/plots/ with {ds}, name in docs/img/, caption).
PICTURES: list[tuple[str, str, str]] = [
    (
        "arch/{ds}/top1.svg",
        "top1_{ds}.svg",
        "The MFAS top-1 architecture of {ds}: which tap of each modality enters which fusion "
        "layer, with its nonlinearity and width, ending in the classifier.",
    ),
    (
        "robustness_{ds}.png",
        "robustness_{ds}.png",
        "Test score of every final method on {ds} against the noise strength on each "
        "modality (the missing-modality score at the right).",
    ),
    (
        "flops_{ds}.png",
        "flops_{ds}.png",
        "Test score against FLOPs per sample on {ds}, the Pareto front marked.",
    ),
]


def _run(cmd: list[str], cwd: Path) -> str:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def commit_of(repo: Path) -> str:
    """`git rev-parse HEAD` of the repository, marked when the working tree has changes."""
    commit = _run(["git", "rev-parse", "HEAD"], repo).strip() or "unknown (not a git checkout)"
    if _run(["git", "status", "--porcelain", "--untracked-files=no"], repo).strip():
        commit += " (with uncommitted changes)"
    return commit


def machine() -> str:
    """CPU model (lscpu) and the number of cores this process may use."""
    model = ""
    for line in _run(["lscpu"], ROOT).splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
            break
    flags = next((ln for ln in _run(["lscpu"], ROOT).splitlines() if ln.startswith("Flags:")), "")
    simd = "AVX-512" if " avx512f" in flags else "AVX2, no AVX-512" if " avx2" in flags else ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model or 'CPU model unknown'}{f' ({simd})' if simd else ''}, {cores} cores"


def order(names: list[str]) -> list[tuple[str, str]]:
    """(stem, sentence) of every table stem, in the page's fixed order."""
    left = sorted(names)
    out = []
    for pattern, sentence in SECTIONS:
        for stem in [s for s in left if re.fullmatch(pattern, s)]:
            out.append((stem, sentence))
            left.remove(stem)
    return out + [(stem, OTHER) for stem in left]


# A relative link in a table (search.md's architecture cells -> ../plots/arch/...svg) points
# into results/, which docs/ does not hold: docs/results.md keeps the link's text only.
RELATIVE_LINK = re.compile(r"\[([^\]]*)\]\((?!https?://|#)[^)]*\)")


def _demote(text: str) -> tuple[str, str]:
    """(title, body): the table's first heading becomes the section title, other headings
    move one level down, relative links become their text; every other line is kept as it is."""
    lines = RELATIVE_LINK.sub(r"`\1`", text).rstrip("\n").split("\n")
    title = ""
    if lines and lines[0].startswith("# "):
        title, lines = lines[0][2:].strip(), lines[1:]
    body = ["#" + ln if re.match(r"#{1,5} ", ln) else ln for ln in lines]
    return title, "\n".join(body).strip("\n")


def render(
    tables: Path,
    command: str,
    commit: str,
    date: str,
    where: str,
    timings: list[str] = (),
    profile: str | None = None,
    pictures: list[tuple[str, str]] = (),
) -> str:
    stems = [p.stem for p in sorted(Path(tables).glob("*.md"))]
    if not stems:
        raise SystemExit(f"{tables}: no *.md tables: run `make run` first")
    out = [
        "# Results",
        "",
        "<!-- Generated by tools/results_doc.py from results/tables/*.md; regenerate with "
        "`make results-doc` after `make run`. -->",
        "",
        "Every table of one finished run of the workflow, as the run wrote it.",
        "",
        f"- **commit**: {commit}",
        f"- **date**: {date}",
        f"- **machine**: {where}",
        f"- **command**: `{command}`",
        *[f"- {line}" for line in timings],
        "",
    ]
    for stem, sentence in order(stems):
        title, body = _demote((Path(tables) / f"{stem}.md").read_text())
        out += [f"## {title or stem}", "", f"*{sentence}* (`results/tables/{stem}.md`)", ""]
        out += [body, ""]
    if pictures:
        out += [
            "## Pictures",
            "",
            "*Copied from the run's `results/plots/` to `img/` beside this page.*",
            "",
        ]
        for name, caption in pictures:
            out += [f"![{caption}](img/{name})", "", f"*{caption}*", ""]
    if profile:
        _, body = _demote(profile)
        out += ["## Where the time went", "",
                "*The run's profile (`benchmarks/critical_path.py` on its `results/benchmarks/` "
                "and DAG): per stage, the critical path, idle cores.*", "", body, ""]  # fmt: skip
    return "\n".join(out).rstrip() + "\n"


def copy_pictures(plots: Path, img: Path, datasets: list[str]) -> list[tuple[str, str]]:
    """Copy each dataset's pictures (PICTURES) that the run made into `img`; returns their
    (name, caption) in order. A picture the run did not make is left out."""
    got = []
    for ds in datasets:
        for src, name, caption in PICTURES:
            path = plots / src.format(ds=ds)
            if path.exists():
                img.mkdir(parents=True, exist_ok=True)
                target = name.format(ds=ds)
                shutil.copyfile(path, img / target)
                got.append((target, caption.format(ds=ds)))
    return got


def run_time_line(path: Path) -> str | None:
    """The wall time `make run` recorded (results/run_time.txt: seconds), as a line."""
    if not path.exists():
        return None
    seconds = int(float(path.read_text().split()[0]))
    return f"**wall time of the run**: {seconds // 60} min {seconds % 60} s (Snakemake, `make run`)"


def main(
    tables: str | Path = ROOT / "results" / "tables",
    out: str | Path = ROOT / "docs" / "results.md",
    command: str | None = None,
    repo: str | Path = ROOT,
    date: str | None = None,
    timings: list[str] = (),
    profile: str | Path | None = None,
) -> str:
    """Write the page; returns its text. The command defaults to $RESULTS_COMMAND, then
    "make run"; the date to today. `timings`: extra measured lines for the header (the run's
    own wall time, from results/run_time.txt beside the tables' folder, comes first);
    `profile`: a critical_path.py report to append."""
    recorded = run_time_line(Path(tables).parent / "run_time.txt")
    datasets = sorted(p.stem[len("final_") :] for p in Path(tables).glob("final_*.md"))
    pictures = copy_pictures(Path(tables).parent / "plots", Path(out).parent / "img", datasets)
    text = render(
        Path(tables),
        command or os.environ.get("RESULTS_COMMAND") or "make run",
        commit_of(Path(repo)),
        date or dt.date.today().isoformat(),
        machine(),
        [*([recorded] if recorded else []), *timings],
        Path(profile).read_text() if profile else None,
        pictures,
    )
    Path(out).write_text(text)
    print(f"wrote {out}")
    return text


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", default=str(ROOT / "results" / "tables"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "results.md"))
    ap.add_argument(
        "--command", help='the run\'s command (default: $RESULTS_COMMAND or "make run")'
    )
    ap.add_argument("--date", help="the run's date (default: today)")
    ap.add_argument("--timing", action="append", default=[], help="a measured line for the header")
    ap.add_argument("--profile", help="a benchmarks/critical_path.py report to append")
    ap.add_argument("--repo", default=str(ROOT), help="the checkout that ran (its commit)")
    args = ap.parse_args()
    main(args.tables, args.out, args.command, args.repo, args.date, args.timing, args.profile)
    sys.exit(0)
