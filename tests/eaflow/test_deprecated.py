"""Plugins written against the 0.1 layout keep working for one release, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

import model
from eaflow.install import pipeline


def fresh(name: str) -> object:
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def test_eaflow_models_re_exports_the_kernel_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="eaflow.models moved to model"):
        old = fresh("eaflow.models")
    assert old.Signal is model.Signal  # type: ignore[attr-defined]
    assert sorted(old.__all__) == sorted(model.__all__)  # type: ignore[attr-defined]


def test_eaflow_pipeline_re_exports_the_wiring_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="eaflow.pipeline moved to eaflow.install"):
        old = fresh("eaflow.pipeline")
    assert old.Pipeline is pipeline.Pipeline  # type: ignore[attr-defined]
