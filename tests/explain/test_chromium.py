"""The report as a real browser shows it: every section rendered, every image decoded."""

from __future__ import annotations

import pytest

from creditml.explain.report import SECTIONS, build_report
from tests.explain import chromium
from tests.services import require_chromium

@pytest.fixture(autouse=True)
def _chromium():
    require_chromium()


def assert_renders(path, n_features: int):
    rendered = chromium.render(path)
    for sid in SECTIONS:
        assert f'id="{sid}"' in rendered.dom, f"section {sid!r} missing from the rendered DOM"
    assert rendered.images == 1 + min(10, n_features)  # beeswarm + up to ten dependence plots
    assert rendered.complete_images == rendered.images, f"{rendered.images - rendered.complete_images} image(s) failed"
    assert rendered.svgs >= 4  # calibration, lift, importance, score distribution
    return rendered


def test_hand_built_report_renders_in_chromium(report_inputs, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(build_report(report_inputs), encoding="utf-8")
    assert_renders(page, len(report_inputs.features))
    shot = chromium.screenshot(page, tmp_path / "report.png", height=1200)
    assert shot.stat().st_size > 20_000
