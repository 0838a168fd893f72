"""The real data samples live outside the repository; CREDITML_SAMPLES says where."""

from __future__ import annotations

import pytest
import yaml

import creditml.config as config
from creditml.config import SamplesNotFound, load_dataset_config, samples_location
from creditml.errors import ConfigError


def _dataset_yaml(folder, base_dir):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"name": "tiny", "base_dir": base_dir,
            "tables": {"t": {"file": "t.csv", "primary_key": "k", "static": True, "columns": {"k": "id"}}}}
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No CREDITML_SAMPLES, a working directory and a checkout with nothing beside them."""
    monkeypatch.delenv("CREDITML_SAMPLES", raising=False)
    work = tmp_path / "lonely" / "creditml"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(config, "_CHECKOUT", work)
    return work


def test_the_variable_names_the_folder_and_base_dir_reads_from_it(tmp_path, monkeypatch):
    (tmp_path / "samples" / "mine").mkdir(parents=True)
    monkeypatch.setenv("CREDITML_SAMPLES", str(tmp_path / "samples"))
    cfg = load_dataset_config(_dataset_yaml(tmp_path / "repo", "${CREDITML_SAMPLES}/mine"))
    assert samples_location() == (tmp_path / "samples").resolve()
    assert cfg.path_of("t") == (tmp_path / "samples" / "mine" / "t.csv").resolve()


def test_the_default_is_shared_data_beside_the_working_directory(nowhere, monkeypatch):
    (nowhere.parent / "shared" / "data").mkdir(parents=True)
    assert samples_location() == (nowhere.parent / "shared" / "data").resolve()


def test_unset_and_no_default_says_which_variable_to_set(nowhere):
    path = _dataset_yaml(nowhere / "configs", "${CREDITML_SAMPLES}/mine")
    with pytest.raises(SamplesNotFound, match=r"CREDITML_SAMPLES is not set and its default \.\./shared/data does "
                                              r"not exist \(looked for .*lonely/shared/data\); set CREDITML_SAMPLES "
                                              r"to the folder holding the real data samples"):
        load_dataset_config(path)


def test_a_variable_pointing_nowhere_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDITML_SAMPLES", str(tmp_path / "missing"))
    with pytest.raises(SamplesNotFound, match=r"CREDITML_SAMPLES: expected a folder holding the real data samples "
                                              r".*found '.*missing', which is not a folder"):
        load_dataset_config(_dataset_yaml(tmp_path / "repo", "${CREDITML_SAMPLES}/mine"))


def test_a_sample_missing_from_the_folder_is_named(tmp_path, monkeypatch):
    (tmp_path / "samples").mkdir()
    monkeypatch.setenv("CREDITML_SAMPLES", str(tmp_path / "samples"))
    with pytest.raises(SamplesNotFound, match=r"base_dir '\$\{CREDITML_SAMPLES\}/mine': expected the folder "
                                              r".*samples/mine, found nothing there") as caught:
        load_dataset_config(_dataset_yaml(tmp_path / "repo", "${CREDITML_SAMPLES}/mine"))
    assert caught.value.location == (tmp_path / "samples" / "mine").resolve()


def test_base_dir_is_relative_to_the_yaml_and_substitutes_nothing_else(tmp_path):
    cfg = load_dataset_config(_dataset_yaml(tmp_path / "repo", "../data"))
    assert cfg.path_of("t") == (tmp_path / "data" / "t.csv").resolve()
    assert load_dataset_config(_dataset_yaml(tmp_path / "plain", None)).base_dir == (tmp_path / "plain").resolve()
    with pytest.raises(ConfigError, match=r"base_dir '\$\{HOME\}/x': only \$\{CREDITML_SAMPLES\} is substituted"):
        load_dataset_config(_dataset_yaml(tmp_path / "repo", "${HOME}/x"))
