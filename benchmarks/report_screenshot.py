"""Open Snakemake's HTML report in headless Chromium: check it renders its sections, save a
screenshot (`make report-check`; tests/test_report.py uses the same functions).

usage: python benchmarks/report_screenshot.py results/report.html results/report.png [SECTION...]

The report is a JavaScript app: its visible text exists only after the scripts ran, so the DOM
is dumped after a virtual-time budget, scripts and styles are stripped, and the visible text
must show the report's sections (Workflow, Statistics, About, Results) and the workflow
description (report/workflow.rst). Categories and captions appear only after a click on
Results, so they are checked in the report's embedded data (the raw HTML) instead.
Chromium is Debian's `chromium` (installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
BUDGET_MS = 15000


def find_chromium(install: bool = False) -> str | None:
    """Path of a Chromium binary; with `install`, apt-get Debian's chromium when root."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
        )
        return shutil.which("chromium")
    return None


def _chromium(exe: str, html: Path, *args: str, timeout: float = 180) -> str:
    with tempfile.TemporaryDirectory(prefix="mfas-chromium-") as profile:
        proc = subprocess.run(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={BUDGET_MS}",
                *args,
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"{exe} failed on {html}: {proc.stderr[-2000:]}")
    return proc.stdout


def rendered_text(exe: str, html: Path) -> str:
    """The report's DOM after its scripts ran (Chromium --dump-dom)."""
    return _chromium(exe, html, "--dump-dom")


def screenshot(exe: str, html: Path, png: Path, size: str = "1400,1000") -> Path:
    """Save a PNG of the rendered report."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _chromium(exe, html, f"--screenshot={png.resolve()}", f"--window-size={size}")
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"{png}: Chromium wrote no screenshot")
    return png


SECTIONS = ["Workflow", "Statistics", "About", "Results", "Final training against six baselines"]
CATEGORIES = ["Unimodal backbones"]


def visible_text(dom: str) -> str:
    """The text a reader sees: the DOM without scripts, styles and tags, spaces collapsed."""
    import re

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.DOTALL | re.IGNORECASE)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def missing_sections(dom: str, sections: list[str]) -> list[str]:
    """The section names that do not appear in the rendered page's visible text."""
    text = visible_text(dom)
    return [s for s in sections if s not in text]


def main(report: str, png: str, *sections: str) -> int:
    exe = find_chromium(install=True)
    if exe is None:
        sys.exit("report-check: no chromium and not root with apt-get to install it")
    html_path = Path(report)
    if not html_path.is_file():
        sys.exit(f"{report}: no report (run `make report` first)")
    wanted = list(sections) or SECTIONS
    dom = rendered_text(exe, html_path)
    missing = missing_sections(dom, wanted)
    if missing:
        sys.exit(f"{report}: rendered page lacks sections {missing} ({len(dom)} characters of DOM)")
    raw = html_path.read_text(errors="replace")
    absent = [c for c in CATEGORIES if c not in raw]
    if absent:
        sys.exit(f"{report}: report has no category {absent}")
    shot = screenshot(exe, html_path, Path(png))
    print(
        f"{report}: renders with sections {wanted}; screenshot {shot} ({shot.stat().st_size} bytes)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
