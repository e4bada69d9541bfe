"""Comparing two member tables of a nested archive (zip, jar, wheel, tar): pairing by name, then
sorting each field difference into a cause, and handing changed member contents to the leaf
explainers.

Format readers (`archives`) build the `Member` rows; this module never reads archive bytes and
never recurses into archives itself, which is what keeps nesting to one level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .findings import (
    Cause,
    Change,
    ContentFinding,
    capped,
    counted,
    name_list,
    shown,
    shown_value,
    summarize_members,
)

MemberExplainer = Callable[[str, bytes, bytes], tuple[ContentFinding, ...]]
Fields = tuple[tuple[str, str], ...]  # (field, value) pairs, in a fixed order per format


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member's facts, grouped by the cause a difference in them would have."""

    name: str
    digest: str  # equal digests mean equal content (a hash, or CRC-32 and size for zip)
    times: Fields = ()
    modes: Fields = ()
    owners: Fields = ()
    packing: Fields = ()  # how it is stored: compression method and sizes, flags, writer OS
    other: Fields = ()


# Which cause a difference in each field group is, in report order.
_GROUPS: tuple[tuple[str, Cause], ...] = (
    ("times", Cause.EMBEDDED_TIMESTAMP),
    ("modes", Cause.PERMISSIONS),
    ("owners", Cause.OWNERSHIP),
    ("packing", Cause.COMPRESSION),
    ("other", Cause.CONTENT),
)
_GROUP_WORDS = {
    "times": "timestamps",
    "modes": "modes",
    "owners": "owners",
    "packing": "storage (compression or writer)",
    "other": "metadata",
}


def compare_members(
    noun: str,
    old: Sequence[Member],
    new: Sequence[Member],
    load: Callable[[bool, int], bytes],
    explain_member: MemberExplainer,
) -> tuple[ContentFinding, ...]:
    """Findings for two member tables; `load(is_new, index)` gives a member's bytes on demand.

    Members pair by name (the n-th duplicate with the n-th). Changed contents go to
    `explain_member`, whose findings are summarised per cause.
    """
    old_keys, new_keys = _keys(old), _keys(new)
    old_index = {key: i for i, key in enumerate(old_keys)}
    new_index = {key: i for i, key in enumerate(new_keys)}
    findings: list[ContentFinding] = list(_presence(noun, old_keys, new_keys, old_index, new_index))
    common = [key for key in old_keys if key in new_index]
    if common != [key for key in new_keys if key in old_index]:
        detail = f"the same {counted(len(common), noun)} in another order"
        findings.append(ContentFinding(Cause.CONTENT_ORDER, detail))
    per_member: list[tuple[str, tuple[ContentFinding, ...]]] = []
    field_changes: dict[str, list[tuple[str, str, Change]]] = {group: [] for group, _ in _GROUPS}
    for key in common:
        a, b = old[old_index[key]], new[new_index[key]]
        for group, _ in _GROUPS:
            if group == "packing" and a.digest != b.digest:
                continue  # sizes and methods follow from a content change; not a cause of their own
            changed = _field_changes(getattr(a, group), getattr(b, group))
            field_changes[group].extend(
                (a.name, field, (f"{a.name}: {field}", before, after))
                for field, before, after in changed
            )
        if a.digest != b.digest:
            contents = load(False, old_index[key]), load(True, new_index[key])
            per_member.append((a.name, explain_member(a.name, *contents)))
    for group, cause in _GROUPS:
        if field_changes[group]:
            findings.append(_field_finding(noun, group, cause, field_changes[group]))
    findings.extend(summarize_members(per_member, noun))
    return tuple(findings)


def _keys(members: Sequence[Member]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    keys = []
    for member in members:
        seen[member.name] = seen.get(member.name, 0) + 1
        keys.append((member.name, seen[member.name]))
    return keys


def _presence(
    noun: str,
    old_keys: Sequence[tuple[str, int]],
    new_keys: Sequence[tuple[str, int]],
    old_index: dict[tuple[str, int], int],
    new_index: dict[tuple[str, int], int],
) -> Iterator[ContentFinding]:
    removed = [key[0] for key in old_keys if key not in new_index]
    added = [key[0] for key in new_keys if key not in old_index]
    parts = []
    if added:
        parts.append(f"{counted(len(added), noun)} added ({name_list(added)})")
    if removed:
        parts.append(f"{counted(len(removed), noun)} removed ({name_list(removed)})")
    if parts:
        changes = capped(
            [(name, "", "present") for name in added] + [(name, "present", "") for name in removed]
        )
        yield ContentFinding(Cause.CONTENT, "; ".join(parts), changes)


def _field_changes(old: Fields, new: Fields) -> Iterator[tuple[str, str, str]]:
    """(field, old value, new value) for each field that differs; "" for an absent one."""
    before, after = dict(old), dict(new)
    for field in dict.fromkeys([*before, *after]):
        if before.get(field) != after.get(field):
            yield field, before.get(field, ""), after.get(field, "")


def _field_finding(
    noun: str, group: str, cause: Cause, items: Sequence[tuple[str, str, Change]]
) -> ContentFinding:
    members = dict.fromkeys(member for member, _, _ in items)
    member, field, (_, before, after) = items[0]
    detail = (
        f"{_GROUP_WORDS[group]} differ in {counted(len(members), noun)}, e.g. {shown(member)} "
        f"{field} {shown_value(before)} -> {shown_value(after)}"
    )
    return ContentFinding(cause, detail, capped(change for _, _, change in items))
