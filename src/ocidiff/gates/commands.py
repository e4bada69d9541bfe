"""Command bodies of the gates (verify-tree, fingerprint, ledger): open the inputs, call the pure
cores, pick a renderer. Each returns the output and its exit code; the CLI writes and exits."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from ..api import DiffOptions, LayerJob, OpenOptions, diff_archives, open_archive, pump_many
from ..api import select_images as _select
from ..errors import InputError, UsageError
from ..filesystem import merge_layers
from ..inventory import Depth
from ..oci.image import ImageArchive, ImageRef
from ..progress import Progress
from ..render.html_tree import render_tree_html
from ..render.json import to_json
from ..render.markdown import render_check_markdown, render_tree_markdown
from . import text
from .dockerignore import IgnoreRules, compile_patterns, parse_ignore_file
from .fingerprint import Fingerprint, build_fingerprint, default_files, parse_build_args
from .ledger import LedgerRecord, append_records, read_ledger, records_for
from .ledger_check import CheckReport, DiffCause, DiffSummary, check_image
from .sourcetree import context_prefix, walk_source
from .verify_tree import TreeQuery, compare_tree

Output = str | bytes


def _depth(options: OpenOptions, depth: Depth) -> OpenOptions:
    return replace(options, stream_depth=depth, pump=replace(options.pump, depth=depth))


def one_image(archive: ImageArchive, platform: str | None, path: str) -> ImageRef:
    images = _select(archive, platform)
    if len(images) != 1:
        names = ", ".join(str(i.platform) for i in images) or "none"
        raise UsageError(f"{len(images)} images in the archive ({names})", file=path,
                         hint="choose one with --platform")
    return images[0]


# -- verify-tree ------------------------------------------------------------------------------


def verify_tree(
    image_path: str,
    query: TreeQuery,
    dockerignore: str | None,
    exclude: tuple[str, ...],
    platform: str | None,
    output_format: str,
    options: OpenOptions,
    progress: Progress | None,
) -> tuple[Output, bool]:
    """Compare `query.path` in the image with the build context `query.source`."""
    rules, ignore_file, prefix = _ignore_rules(Path(query.source), dockerignore)
    opts = _depth(options, Depth.INVENTORY)
    with open_archive(image_path, opts) as opened:
        image = one_image(opened.archive, platform, image_path)
        absent = [ref.index for ref in image.layers if ref.member is None]
        if absent:
            raise UsageError(f"layer(s) {absent} are not in the archive", file=image_path)
        jobs = [LayerJob(opened, ref.member or "", ref.digest or "") for ref in image.layers]
        inventories = pump_many(jobs, opts.pump, progress)
    entries = [inv.entries or () for inv in inventories]
    walk = walk_source(Path(query.source), rules, prefix=prefix)
    query = replace(query, platform=str(image.platform), ignore_file=ignore_file,
                    excludes=compile_patterns(exclude))
    report = compare_tree(query, merge_layers(entries), entries, image.layers,
                          image.config.runtime.labels, walk)
    if output_format == "json":
        return to_json(report), report.ok
    if output_format == "markdown":
        return render_tree_markdown(report), report.ok
    if output_format == "html":
        return render_tree_html(report), report.ok
    return text.render_tree(report), report.ok


def _ignore_rules(source: Path, dockerignore: str | None) -> tuple[IgnoreRules, str | None, str]:
    """The ignore rules, the file they came from, and the source's path inside the context.

    Patterns are relative to the build context: the directory holding the ignore file when it
    contains the source directory (`COPY src/ /app/` with the context's .dockerignore), else the
    source directory itself."""
    if dockerignore is None:
        default = source / ".dockerignore"
        if not default.is_file():
            return IgnoreRules(), None, ""
        dockerignore = str(default)
    try:
        data = Path(dockerignore).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=dockerignore) from None
    prefix = context_prefix(Path(dockerignore).parent, source)
    return parse_ignore_file(data, source=dockerignore), dockerignore, prefix or ""


# -- fingerprint ------------------------------------------------------------------------------


def fingerprint(
    context: str,
    files: tuple[str, ...],
    dockerfile: str | None,
    build_args: tuple[str, ...],
    base_images: tuple[str, ...],
    explain: bool,
    output_format: str,
) -> tuple[Output, Fingerprint]:
    root = Path(context)
    if not root.is_dir():
        raise InputError("not a directory", file=context)
    paths = [Path(f) for f in files] if files else default_files(root, dockerfile)
    result = build_fingerprint(root, paths, parse_build_args(build_args), base_images)
    if output_format == "json":
        return to_json(result), result
    return text.render_fingerprint(result, explain=explain), result


# -- ledger -----------------------------------------------------------------------------------


def _archive_sha256(path: str) -> str | None:
    target = Path(path)
    if not target.is_file():
        return None
    sha = hashlib.sha256()
    with open(target, "rb") as handle:
        while data := handle.read(1 << 20):
            sha.update(data)
    return "sha256:" + sha.hexdigest()


def _records(
    image_path: str,
    platform: str | None,
    options: OpenOptions,
    *,
    release: str,
    fingerprint: str | None,
    with_sha: bool,
) -> tuple[LedgerRecord, ...]:
    if image_path == "-":
        raise UsageError("the ledger needs an archive file or layout directory, not stdin")
    with open_archive(image_path, _depth(options, Depth.DIGESTS)) as opened:
        archive = opened.archive
    if archive.problems:
        raise InputError(f"the archive has {len(archive.problems)} problem(s)",
                         file=image_path, hint="ocidiff verify lists them")
    images = _select(archive, platform)
    return records_for(archive, images, release=release, fingerprint=fingerprint,
                       image_name=Path(image_path).name,
                       archive_sha256=_archive_sha256(image_path) if with_sha else None)


def ledger_record(
    image_path: str,
    release: str,
    fingerprint_value: str | None,
    ledger: str,
    platform: str | None,
    output_format: str,
    options: OpenOptions,
) -> tuple[Output, int]:
    records = _records(image_path, platform, options, release=release,
                       fingerprint=fingerprint_value, with_sha=True)
    outcome = append_records(ledger, records)
    code = 1 if outcome.conflicts else 0
    if output_format == "json":
        return to_json({"schema": "ocidiff.ledger-record", "schema_version": 1,
                        "ok": not outcome.conflicts, "outcome": outcome}), code
    return text.render_outcome(outcome, ledger), code


def ledger_check(
    image_path: str,
    fingerprint_value: str,
    ledger: str,
    against: str | None,
    platform: str | None,
    output_format: str,
    options: OpenOptions,
    progress: Progress | None,
) -> tuple[Output, bool]:
    candidates = _records(image_path, platform, options, release="(this image)",
                          fingerprint=fingerprint_value, with_sha=False)
    report = check_image(read_ledger(ledger), candidates, fingerprint_value, image_path)
    if against is not None:
        report = replace(report, diff=_diff_summary(against, image_path, platform, options,
                                                    progress))
    return _render_check(report, output_format), report.ok


def _diff_summary(
    old: str, new: str, platform: str | None, options: OpenOptions, progress: Progress | None
) -> DiffSummary:
    result = diff_archives(old, new, DiffOptions(platform=platform), options, progress)
    causes = tuple(DiffCause(c.code, c.count, c.meaning) for c in result.causes if not c.ignored)
    return DiffSummary(old, result.summary.verdict, causes)


def _render_check(report: CheckReport, output_format: str) -> Output:
    if output_format == "json":
        return to_json(report)
    if output_format == "markdown":
        return render_check_markdown(report)
    return text.render_check(report)


def ledger_show(release: str, ledger: str, output_format: str) -> tuple[Output, str | None]:
    """The records of one release, and a note for stderr when there are none (exit 1)."""
    records = tuple(r for r in read_ledger(ledger) if r.release == release)
    missing = None if records else f"no release {text.safe(release)!r} in {text.safe(ledger)}"
    if output_format == "json":
        return to_json({"schema": "ocidiff.ledger-show", "schema_version": 1,
                        "release": release, "records": records}), missing
    return (text.render_records(records) if records else ""), missing


def ledger_list(ledger: str, output_format: str) -> Output:
    records = read_ledger(ledger)
    if output_format == "json":
        return to_json({"schema": "ocidiff.ledger-list", "schema_version": 1,
                        "records": records})
    return text.render_list(records)
