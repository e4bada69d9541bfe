"""Turns measured rows into the results table: throughput, ratio to the floor, targets, machine.

Pure: takes the rows and returns the JSON document and its markdown rendering. The structure is
fixed (same rows, same keys, sorted); only the measured numbers vary between runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RSS_LIMIT_MIB = 300.0


@dataclass(frozen=True, slots=True)
class Row:
    """One measured (or pending) command."""

    key: str
    title: str
    command: str  # as a reader would type it
    compressed: int  # bytes of layer blobs the command has to read
    uncompressed: int  # those blobs decompressed
    floor: str | None  # key of the floor row covering the same bytes
    is_ocidiff: bool
    walls: tuple[float, ...] = ()  # one per repetition; empty when pending
    cpu: float = 0.0  # user + system seconds of the best run
    peak_rss_mib: float = 0.0  # the highest over all repetitions
    pending: str = ""  # why it was not measured

    @property
    def best(self) -> float:
        return min(self.walls)


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    text: str
    measured: float | None
    limit: float
    higher_is_better: bool
    unit: str

    @property
    def status(self) -> str:
        if self.measured is None:
            return "pending"
        ok = self.measured >= self.limit if self.higher_is_better else self.measured <= self.limit
        return "pass" if ok else "fail"


def _mbps(size: int, seconds: float) -> float | None:
    return round(size / seconds / 1e6, 1) if size and seconds else None


def _row_json(row: Row, rows: dict[str, Row]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": row.key,
        "title": row.title,
        "command": row.command,
        "compressed_bytes": row.compressed,
        "uncompressed_bytes": row.uncompressed,
        "floor": row.floor,
        "status": "pending" if row.pending else "measured",
        "pending_reason": row.pending or None,
        "wall_s_best": None,
        "wall_s_all": [],
        "cpu_s": None,
        "cores_busy": None,
        "peak_rss_mib": None,
        "mb_s_compressed": None,
        "mb_s_uncompressed": None,
        "ratio_to_floor": None,
    }
    if row.pending:
        return out
    out |= {
        "wall_s_best": round(row.best, 3),
        "wall_s_all": [round(w, 3) for w in row.walls],
        "cpu_s": round(row.cpu, 3),
        "cores_busy": round(row.cpu / row.best, 2),
        "peak_rss_mib": round(row.peak_rss_mib, 1),
        "mb_s_compressed": _mbps(row.compressed, row.best),
        "mb_s_uncompressed": _mbps(row.uncompressed, row.best),
    }
    floor = rows.get(row.floor or "")
    if floor is not None and not floor.pending and row.key != floor.key:
        # Same bytes on both sides, so the throughput ratio is the inverse ratio of the times.
        out["ratio_to_floor"] = round(floor.best / row.best, 3)
    return out


def _ratio(rows: dict[str, Row], slow: str, fast: str) -> float | None:
    a, b = rows.get(slow), rows.get(fast)
    if a is None or b is None or a.pending or b.pending:
        return None
    return round(a.best / b.best, 3)


def targets(rows: dict[str, Row]) -> list[Target]:
    """The targets of the issue, evaluated on the measured rows."""
    found: list[Target] = []
    for kind in ("gzip", "zstd"):
        floor = f"floor-{kind}"
        found.append(Target(f"verify-{kind}", f"`verify` >= 0.9x the floor ({kind})",
                            _ratio(rows, floor, f"verify-{kind}"), 0.9, True, "x floor"))
        found.append(Target(f"inventory-{kind}", f"full inventory >= 0.7x the floor ({kind})",
                            _ratio(rows, floor, f"inventory-{kind}"), 0.7, True, "x floor"))
    found.append(Target("shared-diff", "shared-layer diff within 1.2x of `ls` of that one layer",
                        _ratio(rows, "diff-shared", "ls-layer"), 1.2, False, "x"))
    found.append(Target("shared-diff-both", "shared-layer diff within 1.2x of `ls` of both "
                        "versions of that layer (the bytes the diff must read)",
                        _ratio(rows, "diff-shared", "ls-both"), 1.2, False, "x"))
    found.append(Target("warm-cache", "warm-cache diff >= 20x faster than cold",
                        _ratio(rows, "diff-cold", "diff-warm"), 20.0, True, "x faster"))
    measured = [r.peak_rss_mib for r in rows.values() if r.is_ocidiff and not r.pending]
    found.append(Target("peak-rss", f"peak RSS <= {RSS_LIMIT_MIB:.0f} MiB (every ocidiff row)",
                        round(max(measured), 1) if measured else None, RSS_LIMIT_MIB, False,
                        "MiB"))
    return found


def document(meta: dict[str, Any], ordered: Sequence[Row]) -> dict[str, Any]:
    rows = {r.key: r for r in ordered}
    return meta | {
        "schema": "ocidiff.bench",
        "schema_version": 1,
        "rows": [_row_json(r, rows) for r in ordered],
        "targets": [
            {"key": t.key, "text": t.text, "measured": t.measured, "limit": t.limit,
             "unit": t.unit, "status": t.status}
            for t in targets(rows)
        ],
    }


def dump_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def _cell(value: object, spec: str = "") -> str:
    return "—" if value is None else format(value, spec)


def render_markdown(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    libraries = ", ".join(f"{k} {v}" for k, v in sorted(machine["libraries"].items()))
    lines = [
        f"# ocidiff benchmarks: {doc['size']['label']} per image",
        "",
        f"Measured {machine['date']} on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory']} RAM; {machine['python']}; {machine['os']}.",
        f"Libraries: {libraries}.",
        f"Load average at start: {', '.join(map(str, machine['load_average_at_start']))}, "
        f"at the end: {', '.join(map(str, doc['load_average_at_end']))} (1, 5, 15 minutes). "
        f"Best of {doc['repetitions']} repetition(s); peak RSS is the highest of them (the "
        f"kernel's count for each child includes the measuring process's "
        f"{doc['harness_rss_mib']:.0f} MiB at fork time, so that is the least any row can show).",
    ]
    if doc.get("note"):
        lines += ["", f"**Note:** {doc['note']}"]
    lines += [
        "",
        "MB = 10^6 bytes. Throughput is over the layer bytes the command must read (compressed "
        "as stored, uncompressed as tar); *vs floor* is the floor's time over the command's time "
        "for the same bytes; *cores busy* is CPU time over wall time. Every row is a child "
        "process (start-up included, bytecode cached).",
        "",
        "| measurement | command | compressed MB | uncompressed MB | best s | MB/s compressed "
        "| MB/s uncompressed | vs floor | cores busy | peak RSS MiB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in doc["rows"]:
        if row["status"] == "pending":
            lines.append(
                f"| {row['title']} | `{row['command']}` | {row['compressed_bytes'] / 1e6:.1f} "
                f"| {row['uncompressed_bytes'] / 1e6:.1f} | pending: {row['pending_reason']} "
                "| | | | | |"
            )
            continue
        lines.append(
            f"| {row['title']} | `{row['command']}` | {row['compressed_bytes'] / 1e6:.1f} "
            f"| {row['uncompressed_bytes'] / 1e6:.1f} | {row['wall_s_best']:.2f} "
            f"| {_cell(row['mb_s_compressed'], '.0f')} | {_cell(row['mb_s_uncompressed'], '.0f')} "
            f"| {_cell(row['ratio_to_floor'], '.2f')} | {row['cores_busy']:.2f} "
            f"| {row['peak_rss_mib']:.0f} |"
        )
    lines += ["", "| target | measured | limit | result |", "|---|--:|--:|---|"]
    for target in doc["targets"]:
        measured = _cell(target["measured"], ".2f")
        lines.append(f"| {target['text']} | {measured} | {target['limit']:g} {target['unit']} "
                     f"| {target['status']} |")
    images = doc["images"]
    lines += ["", "Images (OCI layout tarballs generated by benchmarks/synth_images.py):", ""]
    for name in sorted(images):
        info = images[name]
        lines.append(f"- `{info['file']}`: {info['layers']} layers, "
                     f"{info['compressed'] / 1e6:.1f} MB stored, "
                     f"{info['uncompressed'] / 1e6:.1f} MB uncompressed, {info['entries']} entries"
                     f" — {info['role']}")
    return "\n".join(lines) + "\n"
