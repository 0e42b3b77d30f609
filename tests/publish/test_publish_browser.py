"""A school report (HTML and PDF) and the public page as Chromium shows them: photographed
for a person to look at, and checked with axe-core against WCAG 2.1 AA."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import cohortsafe.sdc as sdc
from cohortsafe.publish import (
    ReportHeading,
    build_school_report,
    checked_tables,
    growth_cells,
    public_frames,
    render_public_html,
    render_report_html,
    render_report_pdf,
)
from tests.publish.kit import DOMAINS, PERIOD, connect, country, results, with_registers

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = Path(os.environ.get("COHORTSAFE_SCREENSHOTS", tempfile.gettempdir())) / "cohortsafe-screens"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="make test installs Debian's chromium"),
]


def _report_page(tmp_path: Path) -> tuple[Path, Path]:
    sizes = country(schools=20)
    sizes["s00"][4] = 3
    effect = {f"s{i:02d}": (i - 10) / 12 for i in range(20)}
    weging = {f"s{i:02d}": 38.0 - i * 0.8 for i in range(20)}
    cells = growth_cells(connect(results(sizes, effect=effect)), PERIOD, DOMAINS)
    report = build_school_report(
        cells,
        "s00",
        PERIOD,
        policy=sdc.load_policy("school_report"),
        comparison=sdc.load_policy("research"),
        reference=weging,
    )
    page = render_report_html(report, ReportHeading("12AB00", "OBS De Linde"))
    html, pdf = tmp_path / "rapport.html", tmp_path / "rapport.pdf"
    html.write_text(page, encoding="utf-8")
    pdf.write_bytes(render_report_pdf(page))
    return html, pdf


def _public_page(tmp_path: Path) -> Path:
    sizes = country(schools=8, pupils=9)
    sizes["s00"] = {4: 2, 5: 30}
    con = with_registers(results(sizes))
    tables = checked_tables(
        public_frames(con, [PERIOD]),
        [PERIOD],
        policy=sdc.load_policy("research"),
        ledger=sdc.Ledger.memory("p"),
    )
    page = tmp_path / "index.html"
    page.write_text(
        render_public_html(tables, min_pupils=10, min_schools=3, policy="policy research"),
        encoding="utf-8",
    )
    return page


def test_the_report_and_the_public_page_read_well_in_chromium(tmp_path: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    html, pdf = _report_page(tmp_path)
    public = _public_page(tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as run:
        browser = run.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1300})
            # the report needs nothing from outside: any request but the file itself fails
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url))
            for name, path in (("school-report", html), ("public-tables", public)):
                page.goto(path.as_uri())
                page.screenshot(path=SHOTS / f"publish-{name}.png", full_page=True)
                found = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
                violations = [v["id"] for v in found.response["violations"]]
                assert not violations, (name, violations)
            assert set(asked) == {html.as_uri(), public.as_uri()}
            # the report's figures are text the browser can read, not only bars
            page.goto(html.as_uri())
            assert page.get_by_role("table").first.is_visible()
            assert "uw school:" in (page.locator("svg").first.text_content() or "")
            page.emulate_media(media="print")
            page.screenshot(path=SHOTS / "publish-school-report-print.png", full_page=True)
            # the PDF made from the same page, in Chromium's own viewer
            viewer = browser.new_page(viewport={"width": 1000, "height": 1300})
            viewer.goto(pdf.as_uri())
            viewer.wait_for_timeout(1500)
            viewer.screenshot(path=SHOTS / "publish-school-report-pdf.png")
        finally:
            browser.close()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert all(
        (SHOTS / f"publish-{n}.png").stat().st_size > 10_000
        for n in ("school-report", "public-tables")
    )
