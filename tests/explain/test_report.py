from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest

from creditml.modeling.artifacts import GateRecord
from creditml.explain.report import SECTIONS, build_report, fmt_num
from tests.explain.conftest import make_inputs

GATES = GateRecord.model_validate({"passed": False, "checks": [
    {"name": "min_test_auc", "passed": True, "value": 0.71, "threshold": 0.6, "reason": "fine"},
    {"name": "min_fairness_ratio", "passed": False, "value": 0.72, "threshold": 0.8,
     "reason": "a protected group's approval rate is 0.72 of the best group's"},
]})


@pytest.fixture(scope="module")
def html(report_inputs) -> str:
    return build_report(report_inputs, GATES)


def section(html: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S)
    assert match, f"no section {sid!r}"
    return match.group(1)


def test_every_section_is_present(html):
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html


def test_the_page_is_self_contained(html):
    assert 'src="http' not in html and "src='http" not in html
    assert "<script" not in html
    assert "<link" not in html and "@import" not in html and "url(http" not in html
    assert re.findall(r'<img src="([^"]{0,22})', html) and all(
        s.startswith("data:image/png;base64,") for s in re.findall(r'<img src="([^"]{0,22})', html))


def test_summary_shows_lineage_and_windows(html):
    summary = section(html, "summary")
    for text in ("abc123", "f00d", "0.1.0+abc", "creditml-test version 3", "2021-01-01", "train", "test"):
        assert text in summary


def test_gates_show_failures_with_reasons(html):
    gates = section(html, "gates")
    assert "failed (1 of 2)" in gates and "FAIL" in gates and "0.72 of the best group" in gates


def test_gates_not_evaluated_when_absent(report_inputs):
    assert "not evaluated" in section(build_report(report_inputs, None), "gates")


def test_descriptions_are_escaped_and_pii_never_shown(html):
    assert "The &lt;num_0&gt; of the application." in html
    assert "<num_0>" not in html
    assert "Alice Example" not in html and "full_name" not in html


def test_reason_codes_show_instances_from_the_out_of_time_set(html, report_inputs):
    reasons = section(html, "reason-codes")
    test_ids = set(report_inputs.predictions.index[report_inputs.predictions.split == "test"].astype(str))
    shown = re.findall(r"Instance (\d+) ·", reasons)
    assert len(shown) == 10 and set(shown) <= test_ids
    assert "C/D band boundary at 600 points" in reasons


def test_monotonicity_fairness_selection_and_tuning(html):
    mono = section(html, "monotonicity")
    # the fixture's booster is trained with these constraints, so both hold
    assert "0 violation(s) among 2 constrained feature(s)" in mono
    assert re.findall(r'<td class="feat">(\w+)</td>.*?<td class="(\w+)">(\w+)</td></tr>', mono, re.S) == [
        ("num_0", "pass", "ok"), ("num_1", "pass", "ok")]
    fairness = section(html, "fairness")
    assert "customers.gender" in fairness and "Ratio to best" in fairness and "approves 70%" in fairness
    selection = section(html, "selection")
    assert "suspected_leakage" in selection and "AUC 0.999 on its own" in selection
    tuning = section(html, "tuning")
    assert "4 (3 complete, 1 pruned)" in tuning and "max_depth" in tuning


def test_a_declared_direction_the_model_does_not_follow_is_shown_violated(report_inputs):
    wrong = replace(report_inputs, tuning=report_inputs.tuning.model_copy(
        update={"monotone_constraints": {"num_0": -1, "num_1": -1}}))
    mono = section(build_report(wrong, GATES), "monotonicity")
    assert "1 violation(s) among 2 constrained feature(s)" in mono
    assert re.findall(r'<td class="feat">(\w+)</td>.*?<td class="(\w+)">(\w+)</td></tr>', mono, re.S) == [
        ("num_0", "fail", "violated"), ("num_1", "pass", "ok")]


def test_no_constraints_and_no_protected_attributes_are_said_plainly():
    inputs = make_inputs(n=600, protected=False, monotone={})
    inputs.notes.append("Fairness not computed: the dataset is gone.")
    html = build_report(inputs)
    assert "No constraints declared" in section(html, "monotonicity")
    assert "not available" in section(html, "fairness")
    assert "Fairness not computed: the dataset is gone." in section(html, "summary")


def test_three_hundred_features_stay_under_five_megabytes():
    inputs = make_inputs(n=3000, n_numeric=300, protected=True, monotone={})
    start = time.perf_counter()
    html = build_report(inputs)
    elapsed = time.perf_counter() - start
    size = len(html.encode())
    print(f"300-feature report: {size / 1e6:.2f} MB in {elapsed:.1f} s")
    assert size < 5_000_000
    assert len(re.findall(r'<tr><td class="n">\d+</td><td class="feat">', section(html, "importance"))) == 20


@pytest.mark.parametrize("value, text", [(None, "—"), (float("nan"), "—"), (0.0001, "0.0001"), (0.6042, "0.604"),
                                         (16.05, "16.1"), (12345.6, "12,346"), (25.0, "25")])
def test_number_formatting(value, text):
    assert fmt_num(value) == text
