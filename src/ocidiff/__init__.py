"""ocidiff: explain why two container image builds differ, from the image tarballs alone.

The public API: open an archive, inventory its layers, verify it. Its names are imported on
first use, so that `ocidiff --help` and the commands load only the modules they need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import OcidiffError

if TYPE_CHECKING:
    from .api import OpenOptions, open_archive, pump_member, select_images, verify_archive

__all__ = [
    "OcidiffError",
    "OpenOptions",
    "open_archive",
    "pump_member",
    "select_images",
    "verify_archive",
]
__version__ = "0.1.0"

_FROM_API = frozenset(
    {"OpenOptions", "open_archive", "pump_member", "select_images", "verify_archive"}
)


def __getattr__(name: str) -> Any:
    if name in _FROM_API:
        return getattr(importlib.import_module(".api", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
