"""CPU seconds per stage of the layer pump, one thread, on the suite's images: where the work is.

    .venv/bin/python benchmarks/stage_budget.py --size 300MB

Wall-time ratios to the floor (suite.py) say how far ocidiff is; this says why, in a measure that a
busy machine disturbs much less than wall time: the process CPU time of each stage run alone over
every layer of the gzip and the zstd image (best of --repeat). Stages, cumulative like the pump:
the floor's own work on one thread, ocidiff's blob stage (sha256 of the blob + decompression),
sha256 of the tar alone, the tar stage at `verify` depth (+ tar parse), at inventory depth without
and with content-defined chunking, then merging and rendering `ls --merged --format jsonl`.
Writes benchmarks/results/stage-budget-<SIZE>.md.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import floor
from image_set import ImageFile
from suite import HERE, generate, parse_size

from ocidiff.filesystem import merge_layers
from ocidiff.inventory import BlobStage, Depth, PumpOptions, TarFacts, TarStage
from ocidiff.render.entries import entry_record
from ocidiff.render.json import to_json_line

PIECE = 1 << 20


def _spans(image: ImageFile) -> list[tuple[int, int]]:
    wanted = {b.digest.split(":")[1]: i for i, b in enumerate(image.layers)}
    spans: list[tuple[int, int]] = [(0, 0)] * len(wanted)
    with tarfile.open(image.path) as archive:
        for member in archive:
            index = wanted.get(member.name.rsplit("/", 1)[-1])
            if index is not None:
                spans[index] = (member.offset_data, member.size)
    return spans


def _reads(path: str, offset: int, size: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(offset)
        while size:
            data = handle.read(min(PIECE, size))
            size -= len(data)
            yield data


def _drop(piece: bytes) -> None:
    del piece


class Budget:
    """Runs the stages over one image, keeping the decompressed pieces between them."""

    def __init__(self, image: ImageFile, repeat: int) -> None:
        self.image = image
        self.spans = _spans(image)
        self.repeat = repeat
        self.pieces: list[list[bytes]] = []
        self.facts: list[TarFacts] = []
        self.seconds: dict[str, float] = {}

    def clock(self, name: str, work: Callable[[], Any]) -> None:
        best = float("inf")
        for _ in range(self.repeat):
            started = time.process_time()
            work()
            best = min(best, time.process_time() - started)
        self.seconds[name] = best

    def floor_work(self) -> None:
        kind = self.image.layers[0].compression
        for offset, size in self.spans:
            floor.check_blob(self.image.path, offset, size, kind)

    def blob_stage(self, keep: bool = False) -> None:
        """Timed with a sink that drops the output: keeping hundreds of MB of pieces would add
        page faults that the real pipeline, which frees each piece, does not pay."""
        self.pieces = []
        for offset, size in self.spans:
            out: list[bytes] = []
            stage = BlobStage(out.append if keep else _drop, PumpOptions())
            for data in _reads(self.image.path, offset, size):
                stage.feed(data)
            stage.finish()
            self.pieces.append(out)

    def tar_sha(self) -> None:
        for pieces in self.pieces:
            sha = hashlib.sha256()
            for piece in pieces:
                sha.update(piece)

    def tar_stage(self, options: PumpOptions) -> None:
        self.facts = []
        for pieces in self.pieces:
            stage = TarStage(options, compressed_size=lambda: 1 << 40)
            for piece in pieces:
                stage.feed(piece)
            self.facts.append(stage.finish("sha256:" + "0" * 64))

    def render(self) -> None:
        for item in merge_layers([f.entries or () for f in self.facts]):
            to_json_line(entry_record(item.entry, item.layer))

    def run(self) -> dict[str, float]:
        inventory = PumpOptions(depth=Depth.INVENTORY)
        self.clock("floor's work on one thread (sha256 blob, decompress, sha256 tar)",
                   self.floor_work)
        self.clock("blob stage: sha256 of the blob + decompression", self.blob_stage)
        self.blob_stage(keep=True)  # the input of the tar stages below
        self.clock("sha256 of the tar alone", self.tar_sha)
        self.clock("tar stage, verify depth: sha256 of the tar + tar parse",
                   lambda: self.tar_stage(PumpOptions(depth=Depth.DIGESTS)))
        self.clock("tar stage, inventory without chunking: + blake3 per file, entries",
                   lambda: self.tar_stage(PumpOptions(depth=Depth.INVENTORY,
                                                      chunk_threshold=1 << 62)))
        self.clock("tar stage, inventory: + chunks of files >= 1 MiB", lambda: self.tar_stage(
            inventory))
        self.clock("merge layers + render jsonl (ls --merged)", self.render)
        return self.seconds


def _section(image: ImageFile, seconds: dict[str, float], entries: int) -> list[str]:
    size = sum(b.uncompressed_size for b in image.layers)
    floor_cpu = next(iter(seconds.values()))
    lines = [f"## `{Path(image.path).name}`: {size / 1e6:.0f} MB uncompressed, "
             f"{entries} entries", "", "| stage | CPU s | MB/s (uncompressed) | x floor's CPU |",
             "|---|--:|--:|--:|"]
    for name, value in seconds.items():
        lines.append(f"| {name} | {value:.3f} | {size / value / 1e6:.0f} | "
                     f"{value / floor_cpu:.2f} |")
    blob = seconds["blob stage: sha256 of the blob + decompression"]
    verify = blob + seconds["tar stage, verify depth: sha256 of the tar + tar parse"]
    inventory = blob + seconds["tar stage, inventory: + chunks of files >= 1 MiB"]
    listing = inventory + seconds["merge layers + render jsonl (ls --merged)"]
    lines += ["", f"CPU per command (sum of its stages): verify {verify:.2f} s "
              f"({verify / floor_cpu:.2f}x the floor's), `ls --merged` {listing:.2f} s "
              f"({listing / floor_cpu:.2f}x). On two cores with no other loss, the best "
              f"wall-time ratio to the floor is the inverse: verify "
              f"{floor_cpu / verify:.2f}x, inventory {floor_cpu / listing:.2f}x.", ""]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=parse_size("300MB"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=HERE / "work" / "suite")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    args = parser.parse_args()
    size, label = args.size
    images = generate(args.work_dir, size, label)
    lines = [f"# CPU per pump stage on the {label} images", "",
             "Generated by benchmarks/stage_budget.py: process CPU seconds, one thread, best of "
             f"{args.repeat}. The tar-stage rows are cumulative (each includes the work of the "
             "tar-stage row above it); the blob stage is separate.",
             ""]
    for image in (images.a_gzip, images.a_zstd):
        budget = Budget(image, max(1, args.repeat))
        seconds = budget.run()
        entries = sum(len(f.entries or ()) for f in budget.facts)
        lines += _section(image, seconds, entries)
        print("\n".join(_section(image, seconds, entries)), flush=True)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    target = args.results_dir / f"stage-budget-{label}.md"
    target.write_text("\n".join(lines))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
