"""Digest strings (`algorithm:encoded`) and the hashers ocidiff uses.

Validates digests by the OCI grammar (image-spec descriptor.md) and maps algorithms to hashlib.
Performs no IO.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Protocol

from .errors import ImageFormatError

# image-spec descriptor.md: algorithm ::= component ([+._-] component)*, encoded ::= [a-zA-Z0-9=_-]+
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEX_LENGTHS = {"sha256": 64, "sha512": 128, "blake3": 64}

EMPTY_TAR_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


class _Blake3Hasher:
    """Adapts blake3's chaining `update` to the `Hasher` protocol."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def update(self, data: bytes | memoryview, /) -> None:
        self._inner.update(data)

    def hexdigest(self) -> str:
        return str(self._inner.hexdigest())


def is_valid_digest(text: str) -> bool:
    """True when `text` follows the digest grammar and, for registered algorithms, the hex rule."""
    if not _DIGEST_RE.match(text):
        return False
    algorithm, encoded = text.split(":", 1)
    length = _HEX_LENGTHS.get(algorithm)
    if length is None:
        return True  # unrecognised but grammatical algorithms pass (descriptor.md)
    return len(encoded) == length and all(c in "0123456789abcdef" for c in encoded)


def parse_digest(text: object, *, what: str = "digest") -> str:
    """Return `text` as a validated digest string or raise ImageFormatError."""
    if not isinstance(text, str) or not is_valid_digest(text):
        raise ImageFormatError(f"invalid {what} {text!r}")
    return text


def algorithm_of(digest: str) -> str:
    return digest.split(":", 1)[0]


def encoded_of(digest: str) -> str:
    return digest.split(":", 1)[1]


def new_hasher(algorithm: str) -> Hasher | None:
    """A fresh hasher for a digest algorithm, or None when ocidiff cannot compute it."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "sha512":
        return hashlib.sha512()
    if algorithm == "blake3":
        import blake3

        return _Blake3Hasher(blake3.blake3())
    return None


def sha256_digest(data: bytes | memoryview) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def short(digest: str | None, length: int = 12) -> str:
    """A short human form of a digest: the first `length` hex characters."""
    if digest is None:
        return "-"
    return digest.split(":", 1)[-1][:length]
