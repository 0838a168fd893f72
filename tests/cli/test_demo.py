"""`creditml demo` validates the real Home Credit sample only when it is there, and says which."""

from __future__ import annotations

import pandas as pd
import pytest

import creditml.config as config
from creditml.cli.demo import SERVED_TOLERANCE, _validate_home_credit, refuse_skew, served_skew
from creditml.errors import CreditmlError
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


def test_the_demo_refuses_a_served_probability_that_differs_from_the_offline_one():
    # the collection instance the demo served at 0.9300 against 0.9258 offline before the exact-zero trend
    offline = pd.Series({1688405: 0.92583, 1688406: 0.41}, name="probability")
    served = [{"instance_id": 1688405, "probability": 0.93001}, {"instance_id": 1688406, "probability": 0.41 + 4e-7}]
    skewed = served_skew("collection_cure", served, offline)
    assert skewed == ["collection_cure instance 1688405: served 0.930010, offline 0.925830"]
    with pytest.raises(CreditmlError) as refused:
        refuse_skew(skewed)
    assert str(refused.value).startswith(
        "training/serving skew: the served probability differs from the offline evaluation's for collection_cure "
        "instance 1688405: served 0.930010, offline 0.925830; compare the features with tests/serving/test_skew.py's")


def test_the_demo_accepts_served_probabilities_within_the_rest_rounding():
    offline = pd.Series({7: 0.25}, name="probability")
    assert served_skew("credit_default", [{"instance_id": 7, "probability": 0.25 + SERVED_TOLERANCE / 2}], offline) == []
    refuse_skew([])  # nothing skewed: no error
