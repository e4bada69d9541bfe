"""Why two contents of one path differ: an ordered registry of format explainers, where the first
that applies to the path and bytes gives the findings.

Owns the two registries (the full one, and the leaf one archives use for their members, which has
no archive explainers and so stops recursion one level down), the degrade-and-say-so policy for
content a format explainer cannot read, and the final clean-up of findings. It holds no format
knowledge and never raises on content: a bug is the only way out other than findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError
from .archives import explain_gzip, explain_tar, explain_zip, is_gzip, is_tar, is_zip
from .binary import describe_byte_difference, explain_bytes
from .findings import Cause, ContentFinding, ContentLimitError, ordered
from .packages import explain_packages, is_package_database
from .pyc import explain_pyc, is_pyc_path
from .text import explain_text, is_text

__all__ = [
    "CONTENT_EXPLAINERS",
    "LEAF_EXPLAINERS",
    "Cause",
    "ContentExplainer",
    "ContentFinding",
    "explain_content",
]

Applies = Callable[[str, bytes, bytes], bool]
Explain = Callable[[str, bytes, bytes], tuple[ContentFinding, ...]]


@dataclass(frozen=True, slots=True)
class ContentExplainer:
    """One registry entry: a format name for degraded findings, a cheap test, and the explainer."""

    name: str
    applies: Applies
    explain: Explain


def explain_content(
    path: str,
    old: bytes,
    new: bytes,
    *,
    explainers: tuple[ContentExplainer, ...] | None = None,
) -> tuple[ContentFinding, ...]:
    """Cause-coded reasons why `old` and `new` (two contents of `path`) differ; () when equal.

    Deterministic, and bounded in time and memory for hostile input. Content a format explainer
    cannot read yields one `content` finding saying so, with a byte-level summary.
    """
    if old == new:
        return ()
    for explainer in CONTENT_EXPLAINERS if explainers is None else explainers:
        if explainer.applies(path, old, new):
            return tuple(_cleaned(f) for f in ordered(_run(explainer, path, old, new)))
    return tuple(_cleaned(f) for f in explain_bytes(path, old, new))


def _run(
    explainer: ContentExplainer, path: str, old: bytes, new: bytes
) -> tuple[ContentFinding, ...]:
    try:
        findings = explainer.explain(path, old, new)
    except ContentLimitError as err:
        detail = f"{explainer.name} not compared ({err.one_line()})"
        return (_degraded(detail, old, new),)
    except InputError as err:
        detail = f"{explainer.name} could not be parsed ({err.one_line()})"
        return (_degraded(detail, old, new),)
    if not findings:
        # Different bytes with nothing found means the explainer skipped some bytes: say so rather
        # than report a difference without a reason.
        detail = f"the {explainer.name} differs outside the fields compared"
        return (_degraded(detail, old, new),)
    return findings


def _degraded(detail: str, old: bytes, new: bytes) -> ContentFinding:
    return ContentFinding(Cause.CONTENT, f"{detail}; {describe_byte_difference(old, new)}")


def _cleaned(finding: ContentFinding) -> ContentFinding:
    """Plain str cause; text safe for any serialiser (no lone surrogates); a one-line detail."""
    detail = _encodable(finding.detail).replace("\r", "\\r").replace("\n", "\\n")
    changes = tuple(
        (_encodable(what), _encodable(before), _encodable(after))
        for what, before, after in finding.changes
    )
    return ContentFinding(str(finding.cause), detail, changes)


def _encodable(text: str) -> str:
    # Names decoded with surrogateescape (tarfile) or surrogatepass (marshal) can hold lone
    # surrogates, which orjson refuses; escape them.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --- the registries -----------------------------------------------------------------------------


def _explain_member(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    return explain_content(path, old, new, explainers=LEAF_EXPLAINERS)


def _gzip(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    return explain_gzip(path, old, new, explain_member=_explain_member)


def _zip(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    return explain_zip(path, old, new, explain_member=_explain_member)


def _tar(path: str, old: bytes, new: bytes) -> tuple[ContentFinding, ...]:
    return explain_tar(path, old, new, explain_member=_explain_member)


def _is_pyc(path: str, old: bytes, new: bytes) -> bool:
    return is_pyc_path(path)


def _both_text(path: str, old: bytes, new: bytes) -> bool:
    return is_text(old) and is_text(new)


def _always(path: str, old: bytes, new: bytes) -> bool:
    return True


_PYC = ContentExplainer(".pyc", _is_pyc, explain_pyc)
_PACKAGES = ContentExplainer("package database", is_package_database, explain_packages)
_TEXT = ContentExplainer("text", _both_text, explain_text)
_BYTES = ContentExplainer("content", _always, explain_bytes)

LEAF_EXPLAINERS: tuple[ContentExplainer, ...] = (_PYC, _PACKAGES, _TEXT, _BYTES)
"""For members of archives: no archive explainers, so nesting stops one level down."""

CONTENT_EXPLAINERS: tuple[ContentExplainer, ...] = (
    _PYC,
    _PACKAGES,
    ContentExplainer("gzip", is_gzip, _gzip),
    ContentExplainer("zip", is_zip, _zip),
    ContentExplainer("tar", is_tar, _tar),
    _TEXT,
    _BYTES,
)
"""The full registry, in order: the first entry whose test passes explains."""
