"""`make report`: Snakemake's HTML report of the finished smoke run, and its rendering in
headless Chromium (benchmarks/report_screenshot.py; skipped where no chromium is installed:
`make report-check` and .ci/run install it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import snakemake

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import report_screenshot  # noqa: E402

pytestmark = pytest.mark.slow  # renders the finished smoke run's report


@pytest.fixture(scope="module")
def report_html(smoke_workflow, tmp_path_factory) -> Path:
    """The smoke run's report, written beside the test (never into the shared run)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(smoke_workflow, "--report", str(out), "--configfile", "config/smoke.yaml")
    return out


def test_report_holds_every_wrapped_output_with_its_caption(report_html):
    raw = report_html.read_text(errors="replace")
    assert "Unimodal backbones" in raw
    assert "unimodal.md" in raw and "avmnist" in raw
    assert "74.52" in raw and "66.06" in raw  # the caption quotes MFAS Table 2's numbers
    assert "This run: base seed 0" in raw  # workflow description rendered with the config


@pytest.mark.skipif(report_screenshot.find_chromium() is None, reason="chromium not installed")
def test_report_renders_in_headless_chromium_with_its_sections(report_html):
    dom = report_screenshot.rendered_text(report_screenshot.find_chromium(), report_html)
    assert report_screenshot.missing_sections(dom, report_screenshot.SECTIONS) == []
    png = report_screenshot.screenshot(
        report_screenshot.find_chromium(), report_html, report_html.parent / "report.png"
    )
    assert png.stat().st_size > 10_000
