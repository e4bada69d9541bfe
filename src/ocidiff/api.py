"""The orchestrator: opens inputs, schedules layer pumps on both cores, and assembles results.

This is the imperative shell around the pure core: it owns file handles, the worker pool (through
`concurrency`), the cache and progress reporting. Commands call one function here each.
"""

from __future__ import annotations

import sys
from collections import ChainMap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from .compression import (
    Compression,
    CompressionInfo,
    ZstdFrameWalker,
    new_decoder,
    parse_gzip_header,
    sniff,
)
from .concurrency import map_parallel, run_two_stage, worker_count
from .errors import (
    DigestMismatchError,
    ImageFormatError,
    InputError,
    LimitExceededError,
    OcidiffError,
    UsageError,
)
from .inventory import (
    BlobFacts,
    BlobStage,
    Depth,
    LayerInventory,
    PumpOptions,
    TarStage,
    combine,
    new_stages,
    pump_sequential,
    tar_limits,
)
from .oci.image import ImageArchive, ImageRef, LayerRef, Problem, ProblemKind
from .oci.layout import resolve_archive
from .oci.model import ArchiveFormat, Platform
from .oci.parse import JsonLimits
from .progress import Progress, SilentProgress
from .source import ArchiveSource, DirectorySource, Member, MemorySource, TarballSource
from .source import normalize_member_path as _norm
from .tar.events import (
    ArchiveEnd,
    EntryData,
    EntryEnd,
    EntryHeader,
    EntryKind,
    NeedData,
    Trailer,
)
from .tar.header import BLOCK_SIZE
from .verify import LayerVerdict, VerifyReport, check_layer, summarize

if TYPE_CHECKING:  # the diff machinery is imported by `diff_archives`: verify and ls skip it
    from .cache import LayerCache
    from .diff.engine import Side
    from .diff.entries import ContentExplainer
    from .report import Change, Report

_PIPELINE_THRESHOLD = 4 << 20  # below this a second thread costs more than it saves
PumpOutcome = LayerInventory | tuple[OcidiffError, str, int]  # an inventory, or why not
PumpResult = TypeVar("PumpResult")
_RETAIN_LIMIT = 1 << 20  # streamed members up to this size are kept in memory (documents)
_RETAIN_TOTAL = 512 << 20
_RATIO_GRACE = 64 << 20  # as for layers: tiny archives may expand a lot, bombs cannot


@dataclass(frozen=True, slots=True)
class OpenOptions:
    json_limits: JsonLimits = JsonLimits()
    pump: PumpOptions = PumpOptions()
    stream_depth: Depth = Depth.INVENTORY  # what to compute while a non-seekable input passes by
    cache: LayerCache | None = None  # per-layer inventories kept across runs


@dataclass
class OpenedArchive:
    """A resolved archive plus the means to read its blobs."""

    source: ArchiveSource
    archive: ImageArchive
    prepumped: dict[str, LayerInventory] = field(default_factory=dict)
    cache: LayerCache | None = None
    failed: dict[str, OcidiffError] = field(default_factory=dict)  # streamed members, by path

    @cached_property
    def member_sizes(self) -> dict[str, int]:
        return {m.path: m.size for m in self.source.members()}

    def identity(self, member: str) -> str:
        """The member `member` finally names: a blob reached through a link is the same blob."""
        try:
            return self.source.locate(member).path
        except OcidiffError:  # a missing member or a broken link fails when it is read
            return _norm(member)

    @cached_property
    def claimed_digests(self) -> dict[str, str]:
        """member -> the digest the archive's documents name for it (the cache key)."""
        claimed: dict[str, str] = {}
        for image in self.archive.images:
            for layer in image.layers:
                if layer.member and layer.digest:
                    claimed.setdefault(_norm(layer.member), layer.digest)
        return claimed

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> OpenedArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(path_text: str, options: OpenOptions = OpenOptions()) -> OpenedArchive:
    """Open an image archive: OCI tarball or directory, any docker-archive, compressed, or '-'."""
    if path_text == "-":
        return _open_stream(sys.stdin.buffer, "<stdin>", options)
    path = Path(path_text)
    try:
        if path.is_dir():
            source: ArchiveSource = DirectorySource(path)
            return OpenedArchive(
                source, _resolve(source, options, is_directory=True), cache=options.cache
            )
        with open(path, "rb") as handle:
            head = handle.read(512)
            kind = sniff(head)
            if kind is not Compression.NONE:
                handle.seek(0)
                return _open_stream(handle, str(path), options, outer=kind)
    except FileNotFoundError:
        raise InputError("no such file or directory", file=path_text) from None
    except IsADirectoryError:
        raise InputError("is a directory", file=path_text) from None
    except PermissionError:
        raise InputError("permission denied", file=path_text) from None
    try:
        source = TarballSource(path, tar_limits(options.pump))
    except OcidiffError as exc:
        raise exc.located(file=path_text) from None
    try:
        archive = _resolve(source, options, is_directory=False)
        return OpenedArchive(source, archive, cache=options.cache)
    except BaseException:
        source.close()
        raise


def _resolve(
    source: ArchiveSource, options: OpenOptions, *, is_directory: bool, outer: str = "none"
) -> ImageArchive:
    try:
        return resolve_archive(
            source, is_directory=is_directory, outer_compression=outer, limits=options.json_limits
        )
    except OcidiffError as exc:
        raise exc.located(file=source.name) from None


def _open_stream(
    handle: BinaryIO, name: str, options: OpenOptions, outer: Compression | None = None
) -> OpenedArchive:
    """One forward pass over a non-seekable (or compressed) archive.

    The index comes last in every real producer, so while members stream by nobody knows which
    is a layer: small members are retained (documents), large ones are pumped speculatively and
    their results kept by path. Resolution happens when the stream ends."""
    scan = _StreamScan(options)
    raw = handle.read(512)
    kind = outer if outer is not None else sniff(raw)
    decoder = new_decoder(kind, max_zstd_window=options.pump.max_zstd_window)
    bounded = _OuterBound(scan.feed, options.pump)
    sink = scan.feed if kind is Compression.NONE else bounded.feed
    try:
        data = raw
        while data:
            # In slices, each counted first, as the layer pump does: see BlobStage._decode.
            for start in range(0, len(data), 64 << 10):
                piece = data[start : start + (64 << 10)]
                bounded.compressed += len(piece)
                decoder.feed(piece, sink)
            data = handle.read(1 << 20)
        decoder.finish(sink)
        scan.finish()
    except OcidiffError as exc:
        raise exc.located(file=name) from None
    source = MemorySource(name, tuple(scan.members), scan.retained, scan.trailer)
    archive = _resolve(source, options, is_directory=False, outer=kind.value)
    return OpenedArchive(source, archive, scan.pumped, cache=options.cache, failed=scan.failed)


class _OuterBound:
    """The layer limits applied to a compressed outer archive as a whole: a bomb wrapped
    around the whole archive must trip them as one inside a layer would."""

    def __init__(self, sink: Callable[[bytes], None], options: PumpOptions) -> None:
        self._sink = sink
        self._options = options
        self.compressed = 0
        self._total = 0

    def feed(self, data: bytes) -> None:
        self._total += len(data)
        options = self._options
        if self._total > options.max_uncompressed:
            raise LimitExceededError(
                f"archive decompresses to more than {options.max_uncompressed} bytes",
                limit="max-uncompressed",
                option="--max-uncompressed",
            )
        if self._total > _RATIO_GRACE and self._total > self.compressed * options.max_ratio:
            raise LimitExceededError(
                f"archive expands more than {options.max_ratio}x (a decompression bomb?)",
                limit="max-ratio",
                option="--max-ratio",
            )
        self._sink(data)


class _StreamScan:
    """Consumes the decompressed outer tar: retains documents, pumps large members."""

    def __init__(self, options: OpenOptions) -> None:
        from .tar.parser import TarParser

        self._parser = TarParser(tar_limits(options.pump))
        self.trailer: Trailer | None = None
        self._pump_options = replace(options.pump, depth=options.stream_depth)
        self.members: list[Member] = []
        self.retained: dict[str, bytes] = {}
        self.pumped: dict[str, LayerInventory] = {}
        # A member that could not be pumped fails alone, as it would from a seekable archive:
        # `verify` lists it, `diff` marks its layer incomplete, `ls` reports it.
        self.failed: dict[str, OcidiffError] = {}
        self._buffer: list[bytes] | None = None
        self._stages: tuple[BlobStage, TarStage] | None = None
        self._path = ""
        self._retained_total = 0

    def feed(self, data: bytes) -> None:
        self._parser.feed(data)
        self._drain()

    def finish(self) -> None:
        self._parser.end_of_input()
        self._drain()

    def _drain(self) -> None:
        from .source import _member_from_entry

        while True:
            event = self._parser.next_event()
            if isinstance(event, NeedData):
                return
            if isinstance(event, ArchiveEnd):
                self.trailer = event.trailer
                return
            if isinstance(event, EntryHeader):
                entry = event.entry
                self.members.append(_member_from_entry(entry, len(self.members)))
                self._path = _norm(entry.name)
                if entry.kind is not EntryKind.FILE:
                    continue
                if entry.size <= _RETAIN_LIMIT:
                    self._buffer = []
                else:
                    self._stages = new_stages(self._pump_options, lambda stage: stage.feed)
            elif isinstance(event, EntryData):
                if self._buffer is not None:
                    self._buffer.append(bytes(event.data))
                elif self._stages is not None:
                    try:
                        self._stages[0].feed(event.data)
                    except OcidiffError as exc:
                        self._fail(exc)
            elif isinstance(event, EntryEnd):
                self._complete(_norm(event.entry.name))

    def _complete(self, path: str) -> None:
        if self._buffer is not None:
            data = b"".join(self._buffer)
            self._retained_total += len(data)
            if self._retained_total > _RETAIN_TOTAL:
                raise InputError(
                    "too many small members to hold while streaming",
                    member=path,
                    hint="pass a seekable, uncompressed tarball",
                )
            self.retained[path] = data
        elif self._stages is not None:
            blob, tar = self._stages
            try:
                facts = blob.finish()
                self.pumped[path] = combine(facts, tar.finish(facts.digest), self._pump_options)
                self.failed.pop(path, None)
            except OcidiffError as exc:
                self._fail(exc)
        self._buffer = None
        self._stages = None

    def _fail(self, error: OcidiffError) -> None:
        # `blob`, not `member`: an error inside the layer already names the entry it hit.
        self.failed[self._path] = error.located(blob=self._path)
        self.pumped.pop(self._path, None)  # a duplicate name must not keep an earlier result
        self._stages = None


# -- images and platforms -------------------------------------------------------------------


def parse_platform(text: str) -> Platform:
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"invalid platform {text!r}", hint="use os/arch or os/arch/variant")
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def select_images(archive: ImageArchive, platform: str | None) -> tuple[ImageRef, ...]:
    """The images to work on: those matching `--platform`, else all of them."""
    if platform is None:
        return archive.images
    wanted = parse_platform(platform)
    matches = tuple(
        image
        for image in archive.images
        if image.platform.os == wanted.os
        and image.platform.architecture == wanted.architecture
        and (wanted.variant is None or image.platform.variant == wanted.variant)
    )
    if not matches:
        available = ", ".join(sorted({str(i.platform) for i in archive.images})) or "none"
        raise UsageError(
            f"no image for platform {platform}", file=archive.source, hint=f"available: {available}"
        )
    return matches


# -- layers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayerJob:
    opened: OpenedArchive
    member: str
    label: str  # digest or member path, for errors and progress


def pump_member(
    opened: OpenedArchive,
    member: str,
    options: PumpOptions,
    progress: Progress | None = None,
    *,
    pipeline: bool = True,
) -> LayerInventory:
    """Inventory one blob of an archive in one streaming pass; `pipeline` lets a large blob
    decompress on a second thread while this one parses (see `_pump_in_turn`)."""
    failure = opened.failed.get(_norm(member))
    if failure is not None:
        raise failure.located(file=opened.source.name, blob=member)
    pre = opened.prepumped.get(_norm(member))
    if pre is not None:
        if options.depth is Depth.INVENTORY and pre.entries is None and pre.is_tar:
            raise UsageError("streamed input was read without inventory", member=member)
        return pre
    cached = _from_cache(opened, member, options)
    if cached is not None:
        return cached
    try:
        with opened.source.open(member) as handle:
            size = _size_of(opened, member)
            reader = _progress_reader(handle, member, size, progress or SilentProgress())
            if not pipeline or (size is not None and size < _PIPELINE_THRESHOLD):
                inventory = pump_sequential(reader, options)
            else:
                inventory = _pump_pipelined(reader, options)
    except OcidiffError as exc:
        # `blob`, not `member`: an error inside the layer already names the entry it hit.
        raise exc.located(file=opened.source.name, blob=member) from None
    if opened.cache is not None and options.depth is Depth.INVENTORY and inventory.is_tar:
        opened.cache.put(inventory)
    return inventory


def _from_cache(opened: OpenedArchive, member: str, options: PumpOptions) -> LayerInventory | None:
    """A cached inventory for this blob, trusted by its digest (run `verify` for integrity),
    but only when its size matches the stored member and it fits the current limits."""
    if opened.cache is None or options.depth is not Depth.INVENTORY:
        return None
    digest = opened.claimed_digests.get(_norm(member))
    if digest is None:
        return None
    hit = opened.cache.get(digest, options.cache_key)
    if hit is None or hit.size != _size_of(opened, member):
        return None
    within_limits = (
        hit.uncompressed_size <= options.max_uncompressed
        and len(hit.entries or ()) <= options.max_entries
    )
    return hit if within_limits else None


def _size_of(opened: OpenedArchive, member: str) -> int | None:
    return opened.member_sizes.get(_norm(member))


def _progress_reader(
    handle: BinaryIO, label: str, size: int | None, progress: Progress
) -> Callable[[int], bytes]:
    done = 0
    progress.begin(label, size or 0)

    def read(n: int) -> bytes:
        nonlocal done
        data = handle.read(n)
        done += len(data)
        if data:
            progress.advance(label, done)
        else:
            progress.end(label)
        return data

    return read


def _pump_pipelined(read: Callable[[int], bytes], options: PumpOptions) -> LayerInventory:
    holder: dict[str, Callable[[bytes], None]] = {}
    blob, tar = new_stages(options, lambda stage: lambda piece: holder["put"](piece))

    def produce(put: Callable[[bytes], None]) -> BlobFacts:
        holder["put"] = put
        while data := read(1 << 20):
            blob.feed(data)
        return blob.finish()

    facts = run_two_stage(produce, tar.feed)
    return combine(facts, tar.finish(facts.digest), options)


def pump_many(
    jobs: Sequence[LayerJob], options: PumpOptions, progress: Progress | None = None
) -> list[LayerInventory]:
    """Inventory several blobs on the worker pool, each distinct (archive, member) once."""
    unique: dict[tuple[int, str], LayerJob] = {}
    for job in jobs:
        unique.setdefault((id(job.opened), job.opened.identity(job.member)), job)
    keys = list(unique)
    results = _pump_in_turn(
        [unique[key] for key in keys],
        lambda job, pipeline: pump_member(
            job.opened, job.member, options, progress, pipeline=pipeline
        ),
    )
    by_key = dict(zip(keys, results, strict=True))
    return [by_key[(id(job.opened), job.opened.identity(job.member))] for job in jobs]


def _pump_in_turn(
    jobs: Sequence[LayerJob], pump: Callable[[LayerJob, bool], PumpResult]
) -> list[PumpResult]:
    """`pump(job, pipeline)` for every job on the worker pool, largest blob first; results in
    the jobs' order.

    With at least as many large blobs as cores, each core takes whole blobs, decompressing and
    parsing on one thread as the floor does: a two-thread pipe per blob would only add queue
    hand-offs and GIL contention. With fewer, each large blob gets the second thread."""
    sizes = [_size_of(job.opened, job.member) or 0 for job in jobs]
    large = sum(size >= _PIPELINE_THRESHOLD for size in sizes)
    pipeline = large < worker_count()
    order = sorted(range(len(jobs)), key=lambda i: -sizes[i])
    results = map_parallel(lambda i: pump(jobs[i], pipeline), order)
    by_index = dict(zip(order, results, strict=True))
    return [by_index[i] for i in range(len(jobs))]


@contextmanager
def opened_archive(path_text: str, options: OpenOptions = OpenOptions()) -> Iterator[OpenedArchive]:
    opened = open_archive(path_text, options)
    try:
        yield opened
    finally:
        opened.close()


# -- verify ---------------------------------------------------------------------------------


def verify_archive(
    opened: OpenedArchive,
    platform: str | None = None,
    options: PumpOptions = PumpOptions(),
    progress: Progress | None = None,
) -> VerifyReport:
    """Check every blob's digest and size, every diff_id and media type, every reference."""
    archive = opened.archive
    require_image_archive(opened)
    images = select_images(archive, platform) if platform else archive.images
    digest_options = replace(options, depth=Depth.DIGESTS)
    extra: list[Problem] = missing_layers(images)
    work: dict[str, tuple[str, LayerRef]] = {}
    for image in images:
        for layer in image.layers:
            if layer.member is not None:
                work.setdefault(_norm(layer.member), (str(image.platform), layer))
    others = [
        m.path
        for m in opened.source.members()
        if m.path.startswith("blobs/")
        and m.kind is EntryKind.FILE
        and m.path not in work
        and m.path.count("/") == 2
    ]
    members = [*work, *others]
    outcomes = _pump_in_turn(
        [LayerJob(opened, member, member) for member in members],
        lambda job, pipeline: _pump_or_fail(
            opened, job.member, digest_options, progress, pipeline=pipeline
        ),
    )
    verdicts: list[LayerVerdict] = []
    for member, outcome in zip(members, outcomes, strict=True):
        if member in work:
            platform_text, layer = work[member]
            verdicts.append(_layer_verdict(platform_text, layer, member, outcome))
        else:
            extra.extend(_named_blob_check(member, outcome))
    return summarize(archive, verdicts, extra, len(outcomes))


def require_image_archive(opened: OpenedArchive) -> None:
    """Refuse a tar that is no image archive at all: with nothing to check against, an empty
    or foreign tar must not pass for an intact image, nor for one without images."""
    if opened.archive.format is ArchiveFormat.LAYER_TAR:
        raise ImageFormatError(
            "not an image archive: no index.json, manifest.json or repositories",
            file=opened.source.name,
            hint="ocidiff ls lists a bare layer",
        )


def missing_layers(images: Sequence[ImageRef]) -> list[Problem]:
    """Layers an image names that the archive lacks (foreign and non-distributable layers
    are absent by design)."""
    problems = []
    for image in images:
        for layer in image.layers:
            media_type = layer.media_type or ""
            absent_by_design = "nondistributable" in media_type or "foreign" in media_type
            if layer.member is None and not absent_by_design:
                problems.append(
                    Problem(
                        ProblemKind.MISSING_BLOB,
                        layer.digest or "?",
                        f"layer #{layer.index} of {image.platform} is missing",
                    )
                )
    return problems


def _pump_or_fail(
    opened: OpenedArchive,
    member: str,
    options: PumpOptions,
    progress: Progress | None,
    *,
    pipeline: bool = True,
) -> PumpOutcome:
    try:
        return pump_member(opened, member, options, progress, pipeline=pipeline)
    except OcidiffError as exc:
        digest, size = plain_digest(opened, member)
        return exc, digest, size


def plain_digest(opened: OpenedArchive, member: str) -> tuple[str, int]:
    """sha256 of the stored bytes alone, for a blob the pump could not get through."""
    import hashlib

    sha = hashlib.sha256()
    size = 0
    try:
        with opened.source.open(member) as handle:
            while data := handle.read(1 << 20):
                sha.update(data)
                size += len(data)
    except OcidiffError:
        return "unreadable", size
    return "sha256:" + sha.hexdigest(), size


def _layer_verdict(
    platform: str,
    layer: LayerRef,
    member: str,
    outcome: PumpOutcome,
) -> LayerVerdict:
    if isinstance(outcome, LayerInventory):
        problems, notes = check_layer(layer, outcome, f"layer #{layer.index}")
        return LayerVerdict(
            platform,
            layer.index,
            member,
            outcome.digest,
            outcome.size,
            outcome.diff_id,
            outcome.compression.kind.value,
            tuple(problems),
            tuple(notes),
        )
    error, digest, size = outcome
    problems = [
        Problem(
            ProblemKind.UNREADABLE,
            layer.digest or member,
            f"layer #{layer.index} cannot be read: {error.one_line()}",
        )
    ]
    if layer.digest is not None and digest != layer.digest:
        problems.insert(
            0,
            Problem(
                ProblemKind.DIGEST_MISMATCH,
                layer.digest,
                f"content of layer #{layer.index} does not match its digest",
                layer.digest,
                digest,
            ),
        )
    return LayerVerdict(platform, layer.index, member, digest, size, None, "?", tuple(problems), ())


def _named_blob_check(member: str, outcome: PumpOutcome) -> list[Problem]:
    """A blob outside the selected images (documents, other platforms, unreferenced ones):
    only its name can be checked."""
    algorithm, encoded = member.split("/")[1:3]
    named = f"{algorithm}:{encoded}"
    actual = outcome.digest if isinstance(outcome, LayerInventory) else outcome[1]
    if algorithm != "sha256" or actual == named:
        return []
    return [
        Problem(
            ProblemKind.DIGEST_MISMATCH,
            named,
            f"content of {member} does not match its name",
            named,
            actual,
        )
    ]


# -- bare layer blobs -----------------------------------------------------------------------

_ARCHIVE_TOP_NAMES = frozenset(
    {"oci-layout", "index.json", "manifest.json", "repositories", "blobs"}
)
_PEEK_BYTES = 256 << 10


class _Enough(Exception):
    """Stops a peek once enough decompressed bytes are in hand."""


def _first_member_names(path: Path) -> list[str] | None:
    """Names of the first few tar members of a file, decompressing if needed; None if not a tar."""
    from .tar.parser import TarParser

    with open(path, "rb") as handle:
        raw = handle.read(_PEEK_BYTES)
    collected: list[bytes] = []
    total = 0

    def sink(piece: bytes) -> None:
        nonlocal total
        collected.append(piece)
        total += len(piece)
        if total >= _PEEK_BYTES:
            raise _Enough

    try:
        decoder = new_decoder(sniff(raw))
        with suppress(_Enough):
            decoder.feed(raw, sink)
        parser = TarParser()
        parser.feed(b"".join(collected))
        names: list[str] = []
        while len(names) < 8:
            event = parser.next_event()
            if isinstance(event, NeedData) and not names and 0 < total < BLOCK_SIZE:
                # Shorter than one tar block: no layer (the archive reader says why). An empty
                # file stays an empty layer: docker save before 1.10 wrote those.
                return None
            if isinstance(event, NeedData | ArchiveEnd):
                break
            if isinstance(event, EntryHeader):
                names.append(event.entry.name)
        return names
    except OcidiffError:
        return None


def _is_archive_name(name: str) -> bool:
    import re

    first = _norm(name).split("/", 1)[0]
    if first in _ARCHIVE_TOP_NAMES or first.startswith("sha256:"):
        return True
    return bool(re.fullmatch(r"[0-9a-f]{64}(\.json|\.tar|\.tar\.gz)?", first))


def open_layer(
    path_text: str, options: OpenOptions, progress: Progress | None = None
) -> LayerInventory | None:
    """Inventory `path_text` when it is a bare layer blob (tar, tar.gz, tar.zst); else None."""
    if path_text == "-":
        return None
    path = Path(path_text)
    if not path.is_file():
        return None
    names = _first_member_names(path)
    if names is None or any(_is_archive_name(n) for n in names):
        return None
    pump_options = replace(options.pump, depth=Depth.INVENTORY)
    try:
        with open(path, "rb") as handle:
            size = path.stat().st_size
            reader = _progress_reader(handle, path_text, size, progress or SilentProgress())
            if size < _PIPELINE_THRESHOLD:
                return pump_sequential(reader, pump_options)
            return _pump_pipelined(reader, pump_options)
    except OcidiffError as exc:
        raise exc.located(file=path_text) from None


# -- diff -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiffOptions:
    ignore: tuple[str, ...] = ("archive-packing", "image-name")
    exclude: tuple[str, ...] = ()
    platform: str | None = None
    max_examples: int = 3
    capture_max: int = 1 << 20
    # Bytes of small files kept for the content explainers, over all layers read: memory stays
    # bounded however many layers differ (each layer gets an equal share, capped per layer).
    capture_total: int = 96 << 20
    strict: bool = False  # a layer that cannot be read (or fails its digest) is fatal


def diff_archives(
    path_a: str,
    path_b: str,
    options: DiffOptions = DiffOptions(),
    open_options: OpenOptions = OpenOptions(),
    progress: Progress | None = None,
) -> Report:
    """Compare two image archives and name the cause of every difference."""
    from .diff.assemble import (
        ReportOptions,
        archive_changes,
        build_report,
        packing_changes,
        pair_images,
    )
    from .diff.engine import EngineOptions, diff_image, layers_to_read
    from .report import Change

    pump_options = replace(
        open_options.pump, depth=Depth.INVENTORY, capture_max=options.capture_max
    )
    open_options = replace(open_options, pump=pump_options, stream_depth=Depth.INVENTORY)
    with opened_archive(path_a, open_options) as old, opened_archive(path_b, open_options) as new:
        require_image_archive(old)
        require_image_archive(new)
        identical = _files_identical(path_a, path_b)
        images_old = (
            select_images(old.archive, options.platform) if options.platform else old.archive.images
        )
        images_new = (
            select_images(new.archive, options.platform) if options.platform else new.archive.images
        )
        pairs, only_old, only_new = pair_images(images_old, images_new)
        plan = [layers_to_read(a, b) for a, b in pairs]
        jobs = [LayerJob(old, m, m) for p in plan for m in p[0]] + [
            LayerJob(new, m, m) for p in plan for m in p[1]
        ]
        unique = _unique_jobs(jobs)
        share = max(options.capture_max, options.capture_total // max(1, len(unique)))
        read_options = replace(pump_options, capture_budget=min(pump_options.capture_budget, share))
        outcomes = _pump_in_turn(
            unique,
            lambda job, pipeline: _pump_or_fail(
                job.opened, job.member, read_options, progress, pipeline=pipeline
            ),
        )
        by_side: dict[int, dict[str, PumpOutcome]] = {}
        for job, outcome in zip(unique, outcomes, strict=True):
            if isinstance(outcome, LayerInventory):
                outcome = _checked(job.opened, job.member, outcome)
            if options.strict and not isinstance(outcome, LayerInventory):
                raise outcome[0]
            by_side.setdefault(id(job.opened), {})[job.member] = outcome
        sides = (
            _side(old, [p[2] for p in plan], by_side.get(id(old), {})),
            _side(new, [p[3] for p in plan], by_side.get(id(new), {})),
        )
    explain = _content_explainer()
    engine_options = EngineOptions(exclude=options.exclude)
    nodes = [diff_image(a, b, sides, engine_options, explain) for a, b in pairs]
    archive_level = archive_changes(old.archive, new.archive)
    archive_level.extend(_damage_changes(old, new, strict=options.strict))
    for image in only_old:
        archive_level.append(
            Change(
                "platforms",
                f"{image.platform}",
                "platform",
                str(image.platform),
                None,
                "only in the first image",
            )
        )
    for image in only_new:
        archive_level.append(
            Change(
                "platforms",
                f"{image.platform}",
                "platform",
                None,
                str(image.platform),
                "only in the second image",
            )
        )
    all_equal = (
        bool(nodes) and all(n.status == "equal" for n in nodes) and not only_old and not only_new
    )
    if all_equal and not identical:
        archive_level.extend(
            packing_changes(old.archive, new.archive, explained=bool(archive_level))
        )
    echo = {
        "ignore": list(options.ignore),
        "exclude": list(options.exclude),
        "platform": options.platform,
    }
    return build_report(
        (path_a, path_b),
        identical,
        archive_level,
        nodes,
        ReportOptions(options.ignore, options.max_examples, echo),
    )


def _damage_changes(old: OpenedArchive, new: OpenedArchive, *, strict: bool) -> list[Change]:
    """What resolving each archive found damaged (a document that fails its digest, a missing
    blob, a cut-off archive): the comparison goes on, marked incomplete, unless `strict`."""
    from .report import Change

    changes: list[Change] = []
    for side, opened in (("old", old), ("new", new)):
        problems = [*opened.archive.problems, *missing_layers(opened.archive.images)]
        for problem in problems:
            if strict:
                raise InputError(
                    f"{problem.kind.value}: {problem.message}",
                    file=opened.source.name,
                    blob=problem.subject,
                    hint="ocidiff verify lists every defect",
                )
            changes.append(
                Change(
                    "incomplete",
                    f"archive/{side}",
                    problem.kind.value,
                    None,
                    None,
                    f"{problem.subject}: {problem.message}",
                )
            )
    return changes


def _unique_jobs(jobs: list[LayerJob]) -> list[LayerJob]:
    seen: dict[tuple[int, str], LayerJob] = {}
    for job in jobs:
        seen.setdefault((id(job.opened), job.member), job)
    return list(seen.values())


def _checked(opened: OpenedArchive, member: str, inventory: LayerInventory) -> PumpOutcome:
    """The inventory, or a failure when the bytes are not what the image's documents name:
    a damaged layer must not pass for a changed one."""
    for image in opened.archive.images:
        for layer in image.layers:
            if layer.member is None or _norm(layer.member) != _norm(member):
                continue
            error = layer_damage(layer, inventory, opened.source.name)
            if error is not None:
                return error, inventory.digest, inventory.size
    return inventory


def layer_damage(
    layer: LayerRef, inventory: LayerInventory, file: str
) -> DigestMismatchError | None:
    """The error to raise when a layer's bytes are not those its documents name (blob digest
    or diff_id); None when they are. Reading a layer computes both digests anyway."""
    problems, _ = check_layer(layer, inventory, f"layer #{layer.index}")
    for problem in problems:
        if problem.kind in (ProblemKind.DIGEST_MISMATCH, ProblemKind.DIFF_ID_MISMATCH):
            return DigestMismatchError(
                problem.message,
                expected=problem.expected or "",
                actual=problem.actual or "",
                file=file,
                member=layer.member,
                hint="ocidiff verify lists every defect",
            )
    return None


def _side(
    opened: OpenedArchive,
    head_lists: list[list[str]],
    outcomes: dict[str, PumpOutcome],
) -> Side:
    from .diff.engine import Side

    inventories: dict[str, LayerInventory] = dict(opened.prepumped)
    failures: dict[str, str] = {}
    # Looked up lazily: a cached layer's files stay on disk until an explainer asks for one.
    contents: ChainMap[str, bytes] = ChainMap()
    for member, outcome in outcomes.items():
        if isinstance(outcome, LayerInventory):
            inventories[member] = outcome
            contents.maps.append(outcome.captured)  # type: ignore[arg-type]
        else:
            failures[member] = outcome[0].one_line()
            inventories.pop(_norm(member), None)  # a streamed layer that failed its digest
    heads: dict[str, CompressionInfo] = {}
    for members in head_lists:
        for member in members:
            # A blob too damaged to show its first bytes just goes without the details.
            with suppress(OcidiffError):
                heads[member] = blob_head_info(opened, member)
    return Side(opened.archive, inventories, failures, heads, contents)


def blob_head_info(opened: OpenedArchive, member: str) -> CompressionInfo:
    """Compression facts from a blob's first bytes only: enough to explain a compression-only
    difference without decompressing the layer."""
    streamed = opened.prepumped.get(_norm(member))
    if streamed is not None:
        return streamed.compression
    with opened.source.open(member) as handle:
        head = handle.read(64 << 10)
    kind = sniff(head)
    gzip_header = parse_gzip_header(head) if kind is Compression.GZIP else None
    frame = None
    if kind is Compression.ZSTD:
        walker = ZstdFrameWalker()
        with suppress(OcidiffError):
            walker.feed(head)
        frame = walker.first_frame
    return CompressionInfo(kind, 0, gzip_header, frame, 0, 0)


def _content_explainer() -> ContentExplainer | None:
    """The format-aware explainers, when that module is present in this installation."""
    import importlib

    try:
        module = importlib.import_module("ocidiff.diff.content")
    except ImportError:
        return None
    explain_content = module.explain_content

    def explain(path: str, old: bytes, new: bytes) -> tuple[tuple[str, str], ...]:
        return tuple((f.cause, f.detail) for f in explain_content(path, old, new))

    return explain


def _files_identical(path_a: str, path_b: str) -> bool:
    """Byte-identical inputs (regular files only); stops at the first differing block."""
    a, b = Path(path_a), Path(path_b)
    if path_a == "-" or path_b == "-" or not (a.is_file() and b.is_file()):
        return False
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            block_a, block_b = fa.read(1 << 20), fb.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True
