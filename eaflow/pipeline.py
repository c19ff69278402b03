"""Deprecated: pipelines are built in `eaflow.install` (eaflow 0.2); this re-export keeps
plugins written against `eaflow.pipeline` working for one release."""

import warnings

from eaflow.install.pipeline import Installer, Pipeline, build_pipeline
from eaflow.install.workers import install

__all__ = ["Installer", "Pipeline", "build_pipeline", "install"]

warnings.warn(
    "eaflow.pipeline moved to eaflow.install.pipeline (Pipeline, build_pipeline) and "
    "eaflow.install.workers (install); eaflow.pipeline will be removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)
