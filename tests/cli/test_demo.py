"""`creditml demo` validates the real Home Credit sample only when it is there, and says which."""

from __future__ import annotations

import creditml.config as config
from creditml.cli.demo import _validate_home_credit
from tests.conftest import REPO

HOME_CREDIT = REPO / "configs" / "datasets" / "home_credit.yaml"


def test_demo_skips_the_home_credit_sample_and_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CREDITML_SAMPLES", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config, "_CHECKOUT", tmp_path)
    _validate_home_credit(HOME_CREDIT)
    out = " ".join(capsys.readouterr().out.split())
    assert f"Home Credit sample not found at {tmp_path.parent / 'shared' / 'data'}; skipped (set CREDITML_SAMPLES" in out


def test_demo_validates_the_home_credit_sample_when_it_is_there(samples, capsys):
    _validate_home_credit(HOME_CREDIT)
    out = " ".join(capsys.readouterr().out.split())
    assert f"Home Credit sample at {samples / 'home_credit_sample'}: valid, 7 tables" in out
    assert "table 'bureau': dropped 649 orphan row(s)" in out
