"""Whether this process may download: one switch for weights and datasets alike."""

from __future__ import annotations

import os

OFFLINE_ENV = "SEPT_OFFLINE"


def is_offline() -> bool:
    """True when ``$SEPT_OFFLINE`` or ``$HF_HUB_OFFLINE`` is set to 1/true/yes."""
    flags = (os.environ.get(OFFLINE_ENV, ""), os.environ.get("HF_HUB_OFFLINE", ""))
    return any(flag.lower() in ("1", "true", "yes") for flag in flags)
