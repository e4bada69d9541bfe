"""How long work reports progress: a protocol the orchestrator calls, silent unless the shell
injects a real one. The library never imports a terminal library."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, label: str, total_bytes: int) -> None: ...

    def advance(self, label: str, done_bytes: int) -> None: ...

    def end(self, label: str) -> None: ...


class SilentProgress:
    def begin(self, label: str, total_bytes: int) -> None:
        return None

    def advance(self, label: str, done_bytes: int) -> None:
        return None

    def end(self, label: str) -> None:
        return None
