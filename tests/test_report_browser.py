"""report.html in a real headless Chromium: it renders, offline, with scorecard and plots.

Chromium comes from scripts/setup.sh (Debian's `chromium`). Without it the
test is skipped on a developer's machine and fails in CI, where setup.sh ran.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from reports.__main__ import load_run
from reports.browser import check_page, find_chromium
from reports.writer import write_run

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "report_run"
PASS_GREEN = (30, 142, 62)  # --pass in report.css: a green scorecard cell
FAULT_SHADE = (250, 221, 221)  # plots.FAULT_COLOUR at alpha 0.2 on white: the fault window


def _pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 4) -> int:
    return sum(
        n
        for n, pixel in image.convert("RGB").getcolors(maxcolors=1 << 20)
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: scripts/setup.sh installs the Debian package")
        pytest.skip("Chromium is not installed (./feedchaos setup installs it)")
    return binary


def test_report_html_renders_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    shutil.copyfile(FIXTURE / "history.jsonl", tmp_path / "history.jsonl")
    info, records = load_run(FIXTURE)
    write_run(tmp_path, info, records)
    report = json.loads((tmp_path / "report.json").read_text())

    check = check_page(tmp_path / "report.html", tmp_path / "shots")

    assert check.console == [], "\n".join(check.console)
    facts = check.facts
    assert facts["verdict"] == "PASS"
    assert facts["scripts"] == 0 and facts["external"] == []
    assert facts["cells"] == len(report["scorecard"])
    assert facts["cells_by_verdict"] == {"pass": 5, "notrun": len(report["scorecard"]) - 5}
    assert facts["cell_links_ok"], "a scorecard cell links to no section"
    assert facts["sections"] == len(report["tests"])
    assert len(facts["plots"]) == 5
    for plot in facts["plots"]:  # decoded, at the size it was drawn
        assert plot["complete"] and plot["width"] == 800 and plot["height"] > 250, plot

    top, plot = (Image.open(p) for p in check.screenshots)
    assert top.size == (1280, 900)
    assert len(top.convert("RGB").getcolors(maxcolors=1 << 20)) > 50, "a blank page"
    assert _pixels_near(top, PASS_GREEN) > 2000, "no green scorecard cell on the first screen"
    assert plot.size[0] > 800 and plot.size[1] > 300
    assert _pixels_near(plot, FAULT_SHADE) > 2000, "no shaded fault window in the first plot"
