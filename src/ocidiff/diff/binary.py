"""The last resort: how two byte strings differ, counted in vectorised passes.

Owns the plain `content` finding for formats no other explainer understands, and the one-line
byte summary other explainers append when they degrade. It never parses anything.
"""

from __future__ import annotations

from typing import Any

from .findings import Cause, ContentFinding


def common_ends(a: Any, b: Any) -> tuple[int, int]:
    """(prefix, suffix): how many leading and trailing bytes two uint8 arrays share. The suffix
    is counted only over bytes the prefix has not claimed, so the two never overlap."""
    import numpy as np

    shorter = min(len(a), len(b))
    head = a[:shorter] != b[:shorter]
    prefix = int(np.argmax(head)) if head.any() else shorter
    tail = shorter - prefix
    back = a[len(a) - tail :][::-1] != b[len(b) - tail :][::-1]
    suffix = int(np.argmax(back)) if back.any() else tail
    return prefix, suffix


def describe_byte_difference(old: bytes, new: bytes) -> str:
    """One line saying how much of two byte strings differs, e.g. "12 bytes differ in 3 ranges"."""
    import numpy as np  # lazy: numpy costs a noticeable import time and most runs never get here

    a = np.frombuffer(old, dtype=np.uint8)
    b = np.frombuffer(new, dtype=np.uint8)
    if len(a) == len(b):
        differs = a != b
        count = int(np.count_nonzero(differs))
        if count == 0:
            return "the bytes are equal"
        # A range starts where a differing byte follows an equal one (or opens the file).
        ranges = int(np.count_nonzero(differs[1:] & ~differs[:-1])) + int(differs[0])
        first = int(np.argmax(differs))
        plural = "range" if ranges == 1 else "ranges"
        return f"{count} of {len(a)} bytes differ in {ranges} {plural}, the first at offset {first}"
    prefix, suffix = common_ends(a, b)
    return (
        f"size {len(a)} -> {len(b)} bytes; the first {prefix} and the last {suffix} bytes are equal"
    )


def explain_bytes(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    """The fallback explainer: always `content`, with a byte count."""
    return (ContentFinding(Cause.CONTENT, describe_byte_difference(old, new)),)
