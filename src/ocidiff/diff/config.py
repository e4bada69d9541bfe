"""The image config compared field by field: runtime fields (what a container runs), labels,
creation times, platform and history.

Pure: two parsed configs in, cause-coded changes out. Owns which config fields are runtime
configuration and how their values are shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from ..oci.model import ANNOTATION_CREATED, HistoryEntry, ImageConfig, RuntimeConfig
from ..report import Change, Node


def map_diff(
    a: Mapping[str, str], b: Mapping[str, str]
) -> list[tuple[str, str | None, str | None]]:
    """(key, old, new) for every key whose value differs, sorted by key; None for absent."""
    return [(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


_RUNTIME_FIELDS = (
    "user",
    "env",
    "entrypoint",
    "cmd",
    "working_dir",
    "exposed_ports",
    "volumes",
    "stop_signal",
    "healthcheck",
    "shell",
    "on_build",
)
_FIELD_NAMES = {
    "user": "User",
    "env": "Env",
    "entrypoint": "Entrypoint",
    "cmd": "Cmd",
    "working_dir": "WorkingDir",
    "exposed_ports": "ExposedPorts",
    "volumes": "Volumes",
    "stop_signal": "StopSignal",
    "healthcheck": "Healthcheck",
    "shell": "Shell",
    "on_build": "OnBuild",
}


def diff_config(old: ImageConfig, new: ImageConfig, locator: str) -> Node | None:
    changes: list[Change] = []
    if old.created != new.created:
        changes.append(Change("created-timestamp", locator, "created", old.created, new.created))
    for attr in _RUNTIME_FIELDS:
        a, b = getattr(old.runtime, attr), getattr(new.runtime, attr)
        if a != b:
            changes.extend(_runtime_change(attr, a, b, locator))
    for name, a, b in map_diff(dict(old.runtime.labels), dict(new.runtime.labels)):
        cause = "created-timestamp" if name == ANNOTATION_CREATED else "config"
        changes.append(Change(cause, f"{locator}/Labels", name, a, b))
    if (old.os, old.architecture, old.variant) != (new.os, new.architecture, new.variant):
        changes.append(
            Change("platforms", locator, "platform", str(old.platform), str(new.platform))
        )
    if old.author != new.author:
        changes.append(Change("history", locator, "author", old.author, new.author))
    changes.extend(_history_changes(old, new, locator))
    if old.extra_keys != new.extra_keys:
        changes.append(
            Change(
                "config",
                locator,
                "keys",
                ",".join(old.extra_keys),
                ",".join(new.extra_keys),
                "top-level config keys differ",
            )
        )
    return Node("config", "config", "changed" if changes else "equal", tuple(changes))


def _runtime_change(attr: str, a: object, b: object, locator: str) -> list[Change]:
    name = _FIELD_NAMES[attr]
    if attr == "env" and isinstance(a, tuple) and isinstance(b, tuple):
        old_env = dict(item.split("=", 1) if "=" in item else (item, "") for item in a)
        new_env = dict(item.split("=", 1) if "=" in item else (item, "") for item in b)
        diffs = map_diff(old_env, new_env)
        if diffs:
            return [Change("config", f"{locator}/Env", key, x, y) for key, x, y in diffs]
        return [
            Change(
                "config", f"{locator}/Env", "order", None, None, "same variables, different order"
            )
        ]
    return [Change("config", locator, name, _text(a), _text(b))]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return str(value)


def _history_changes(old: ImageConfig, new: ImageConfig, locator: str) -> list[Change]:
    """History steps aligned by what they are (created_by, comment, empty_layer), not by
    position: one inserted RUN step is one change, not a change at every later step."""
    changes: list[Change] = []
    times_differ = 0
    matcher = difflib.SequenceMatcher(
        None, [_step(h) for h in old.history], [_step(h) for h in new.history], autojunk=False
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag in ("equal", "replace") and a1 - a0 == b1 - b0:
            pairs = zip(range(a0, a1), range(b0, b1), strict=True)
        else:  # steps only one side has: each side's own, at its own index
            for i in range(a0, a1):
                a = old.history[i]
                changes.append(
                    Change("history", f"{locator}/history/{i}", "entry", a.created_by, None)
                )
            for j in range(b0, b1):
                b = new.history[j]
                changes.append(
                    Change("history", f"{locator}/history/{j}", "entry", None, b.created_by)
                )
            continue
        for i, j in pairs:
            a, b = old.history[i], new.history[j]
            where = f"{locator}/history/{j}"
            if a.created != b.created:
                times_differ += 1
                if times_differ <= 1 or j == 0:
                    changes.append(
                        Change("created-timestamp", where, "created", a.created, b.created)
                    )
            for attr in ("created_by", "comment", "empty_layer"):
                x, y = getattr(a, attr), getattr(b, attr)
                if x != y:
                    changes.append(Change("history", where, attr, _text(x), _text(y)))
    return changes


def _step(entry: HistoryEntry) -> tuple[str | None, str | None, bool]:
    return entry.created_by, entry.comment, entry.empty_layer


def runtime_equal(old: RuntimeConfig, new: RuntimeConfig) -> bool:
    return (
        all(getattr(old, a) == getattr(new, a) for a in _RUNTIME_FIELDS)
        and old.labels == new.labels
    )
