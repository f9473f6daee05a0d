"""Where a stage defined outside this package found the protocol before it moved to repro/sweep/protocol/base.py
(`Stage`, `StageFlag`, ...): kept so that such a stage still imports. Nothing in this repository imports it."""

from repro.sweep.protocol.base import *  # noqa: F403
from repro.sweep.protocol.base import __all__  # noqa: F401
