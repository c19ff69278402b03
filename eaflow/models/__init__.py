"""Deprecated: the messages moved to the kernel package `model` (eaflow 0.2); this re-export
keeps plugins written against `eaflow.models` working for one release."""

import warnings

from model import *  # noqa: F403
from model import __all__ as __all__

warnings.warn(
    "eaflow.models moved to model (e.g. `from model import Signal`); "
    "eaflow.models will be removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)
