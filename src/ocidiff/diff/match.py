"""Pairing: images by platform, layers by diff_id (longest common subsequence), entries by path.

Pure functions over sequences of keys; they never look inside blobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Aligned:
    """One step of an alignment: both sides, or only one (None on the other)."""

    old: int | None
    new: int | None
    same_key: bool


def lcs_pairs(old: Sequence[str | None], new: Sequence[str | None]) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of equal, non-None keys."""
    n, m = len(old), len(new)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if old[i] is not None and old[i] == new[j]:
                table[i][j] = table[i + 1][j + 1] + 1
            else:
                table[i][j] = max(table[i + 1][j], table[i][j + 1])
    pairs = []
    i = j = 0
    while i < n and j < m:
        if old[i] is not None and old[i] == new[j]:
            pairs.append((i, j))
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def align_layers(old: Sequence[str | None], new: Sequence[str | None]) -> tuple[Aligned, ...]:
    """Align two layer stacks: equal diff_ids first (LCS); between anchors, runs of equal length
    pair up position by position (a changed layer), the rest stay unpaired (structure changed)."""
    anchors = lcs_pairs(old, new)
    steps: list[Aligned] = []
    prev_i = prev_j = 0
    for i, j in [*anchors, (len(old), len(new))]:
        run_old = list(range(prev_i, i))
        run_new = list(range(prev_j, j))
        if len(run_old) == len(run_new):
            steps.extend(Aligned(a, b, False) for a, b in zip(run_old, run_new, strict=True))
        else:
            common = min(len(run_old), len(run_new))
            # Pair the overlap positionally, then leave the excess unpaired.
            steps.extend(
                Aligned(a, b, False)
                for a, b in zip(run_old[:common], run_new[:common], strict=True)
            )
            steps.extend(Aligned(a, None, False) for a in run_old[common:])
            steps.extend(Aligned(None, b, False) for b in run_new[common:])
        if i < len(old) and j < len(new):
            steps.append(Aligned(i, j, True))
        prev_i, prev_j = i + 1, j + 1
    return tuple(steps)


def order_changed(old_paths: Sequence[str], new_paths: Sequence[str]) -> bool:
    """True when the paths both sides share appear in a different relative order."""
    common = set(old_paths) & set(new_paths)
    return [p for p in old_paths if p in common] != [p for p in new_paths if p in common]
