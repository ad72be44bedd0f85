"""Regenerate docs/report.png: the example's HTML report (failing rows shown), in Chromium.

Run from the repository root (needs the ``test`` extra and Debian's chromium)::

    python docs/report_screenshot.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    out = Path(tempfile.mkdtemp()) / "report.html"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--no-run-store"]
        + ["--dataset", "examples/support/qa.jsonl", "--target", "support_agent"]
        + ["--scorer", "contains(substring='days')>=1", "--report-html", str(out)],
        check=False,
        capture_output=True,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1100})
        page.goto(out.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        page.click(".filters button[data-status='failed']")
        page.screenshot(path="docs/report.png")
        browser.close()


if __name__ == "__main__":
    main()
