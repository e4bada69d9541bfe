"""The table of hostile and broken inputs: every case with what `verify`, `ls --merged` and
`diff` (against the intact original) must do. See `expect` for what an expectation checks.

Every input is built from `images.oci_image` (three small gzip layers), a small docker-archive
or the bombs, so the whole table takes a few megabytes and a few seconds to make.
"""

from __future__ import annotations

from .builders import base, docker_base, five_layers
from .cases_archive import archive_cases
from .cases_layers import layer_cases
from .expect import Case, Expect

CASES: list[Case] = [*archive_cases(), *layer_cases()]

__all__ = ["CASES", "Case", "Expect", "base", "docker_base", "five_layers"]
