"""What builds leave behind in an image: install logs and package manager or linker caches.

Owns the path patterns. `ocidiff lint` reports these files as hazards when they ship; the diff
names a content difference in one of them by what the file is (`build-log`, `build-cache`),
since their bytes change with every build whatever the inputs.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from fnmatch import translate

LOGS = ("var/log/*",)
CACHES = (
    "var/cache/ldconfig/aux-cache",
    "var/lib/apt/lists/*",
    "var/cache/apt/*.bin",
    "var/cache/apt/archives/*.deb",
    "var/cache/apk/*",
    "*/.cache/pip/*",
    "*/.npm/_cacache/*",
    "*/.cache/yarn/*",
    "usr/local/share/.cache/yarn/*",
)
# apt's lock file: empty, and no cache.
CACHE_EXCEPTIONS = frozenset(("var/lib/apt/lists/lock",))


class Leftover(enum.Enum):
    LOG = "log"
    CACHE = "cache"


def _anywhere(patterns: Sequence[str]) -> re.Pattern[str]:
    """One regex for shell patterns matched against a path or any of its '/'-suffixes."""
    return re.compile("|".join(f"(?:.*/)?{translate(p)}" for p in patterns), re.S)


LOG_PATHS = _anywhere(LOGS)
CACHE_PATHS = _anywhere(CACHES)


def leftover(path: str) -> Leftover | None:
    """Whether a (normalised) path is a build log or a cache, by name."""
    if LOG_PATHS.match(path):
        return Leftover.LOG
    if CACHE_PATHS.match(path) and path not in CACHE_EXCEPTIONS:
        return Leftover.CACHE
    return None
