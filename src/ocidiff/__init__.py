"""ocidiff: explain why two container image builds differ, from the image tarballs alone.

The public API: open an archive, inventory its layers, verify it.
"""

from .api import OpenOptions, open_archive, pump_member, select_images, verify_archive
from .errors import OcidiffError

__all__ = ["OcidiffError", "OpenOptions", "open_archive", "pump_member", "select_images",
           "verify_archive"]
__version__ = "0.1.0"
