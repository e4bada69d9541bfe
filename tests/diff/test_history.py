"""Config history is compared step by step after aligning the steps, not by position."""

from __future__ import annotations

from ocidiff.diff.config import diff_config
from ocidiff.oci.model import HistoryEntry, ImageConfig, RuntimeConfig


def _config(*steps: str, created: str = "2024-01-01T00:00:00Z") -> ImageConfig:
    history = tuple(
        HistoryEntry(created, step, None, None, step.startswith("CMD")) for step in steps
    )
    return ImageConfig("amd64", "linux", None, created, None, RuntimeConfig(), (), history, ())


def _history(old: ImageConfig, new: ImageConfig) -> list[tuple[str, str, str | None, str | None]]:
    node = diff_config(old, new, "cfg")
    assert node is not None
    return [(c.locator, c.field, c.old, c.new) for c in node.changes if c.cause == "history"]


def test_an_inserted_step_is_one_change() -> None:
    old = _config("FROM base", "RUN a", "RUN b", "COPY . /app", "CMD run")
    new = _config("FROM base", "RUN a", "RUN new", "RUN b", "COPY . /app", "CMD run")
    assert _history(old, new) == [("cfg/history/2", "entry", None, "RUN new")]


def test_a_removed_step_is_one_change_at_its_old_index() -> None:
    old = _config("FROM base", "RUN gone", "RUN a", "CMD run")
    new = _config("FROM base", "RUN a", "CMD run")
    assert _history(old, new) == [("cfg/history/1", "entry", "RUN gone", None)]


def test_an_edited_step_is_compared_in_place() -> None:
    old = _config("FROM base", "RUN pip install x==1", "CMD run")
    new = _config("FROM base", "RUN pip install x==2", "CMD run")
    assert _history(old, new) == [
        ("cfg/history/1", "created_by", "RUN pip install x==1", "RUN pip install x==2")
    ]


def test_only_times_differ() -> None:
    old = _config("FROM base", "RUN a")
    new = _config("FROM base", "RUN a", created="2025-01-01T00:00:00Z")
    assert _history(old, new) == []
    node = diff_config(old, new, "cfg")
    assert node is not None
    assert {c.cause for c in node.changes} == {"created-timestamp"}
