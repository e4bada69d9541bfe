"""The command line: a thin typer shell. Each command parses options, calls one library function,
renders the result to stdout, and maps outcomes to diff(1)-style exit codes (0 same/ok, 1
different/mismatch, 2 trouble). Errors are one line on stderr, never a traceback."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from .cli_options import CacheDir, Platform, ReportFormat, TextOrJson, TextOrJsonl, reading_options
from .cli_options import emit as _emit  # the names the commands (and tests) use
from .cli_options import fail as _fail
from .cli_options import write as _write
from .diff.causes import ALL_CODES
from .errors import OcidiffError

if TYPE_CHECKING:
    from .api import OpenOptions
    from .progress import Progress

app = typer.Typer(
    name="ocidiff",
    help="Explain why two container image builds differ, offline, from the tarballs alone.\n\n"
    "Inputs: OCI layout tarballs (buildx --output type=oci), OCI layout directories, docker save "
    "archives of every generation, gzip/zstd-compressed tarballs, or '-' for stdin.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts are plain text: "os/arch[/variant]" must not be read as markup.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command()
@reading_options()
def inspect(
    image: Annotated[str, typer.Argument(help="Image archive, layout directory, or '-'.")],
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also read every layer: sizes, entry counts.")
    ] = False,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """Describe an archive: format, producer, platforms, manifests, config, layers, attestations.

    Without --deep no layer data is read.

    Example: ocidiff inspect image.tar --format json
    """
    from . import commands

    try:
        text = commands.inspect(
            image,
            output_format.value,
            deep,
            platform,
            reading,
            progress,
        )
    except OcidiffError as exc:
        _fail(exc)
    _write(text)


@app.command("ls")
@reading_options()
def list_entries(
    image: Annotated[
        str, typer.Argument(help="Image archive, layout directory, layer blob, or '-'.")
    ],
    layer: Annotated[int | None, typer.Option("--layer", help="Only layer N (0 = base).")] = None,
    image_name: Annotated[
        str | None, typer.Option("--image", help="The image with this name (RepoTags).")
    ] = None,
    merged: Annotated[
        bool,
        typer.Option(
            "--merged",
            help="The final filesystem with whiteouts "
            "applied; says which layer each entry comes from.",
        ),
    ] = False,
    output_format: Annotated[
        TextOrJsonl, typer.Option("--format", help="Output format.")
    ] = TextOrJsonl.text,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """List every entry: type, mode, owner, size, mtime (full precision), link, xattrs, blake3.

    Examples: ocidiff ls image.tar --merged; ocidiff ls image.tar --layer 0 --format jsonl;
    ocidiff ls blobs/sha256/<layer-digest>
    """
    from . import commands

    if layer is not None and merged:
        sys.stderr.write("ocidiff: --layer and --merged cannot be combined\n")
        raise typer.Exit(2)
    try:
        for chunk in commands.list_entries(
            image,
            image_name,
            layer,
            merged,
            output_format.value,
            platform,
            reading,
            progress,
        ):
            _write(chunk)
    except OcidiffError as exc:
        _fail(exc)


@app.command()
@reading_options(cache=False)  # verify reads every byte: it never uses the cache
def verify(
    image: Annotated[str, typer.Argument(help="Image archive, layout directory, or '-'.")],
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Output format.")
    ] = ReportFormat.text,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the report here.")
    ] = None,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """Check every blob's digest and size, every diff_id, media types against the bytes, and
    that every reference is present. Exit 0 all good, 1 mismatches (all listed), 2 unreadable.

    Example: ocidiff verify image.tar && echo intact
    """
    from . import commands

    try:
        text, ok = commands.verify(
            image,
            output_format.value,
            platform,
            reading,
            progress,
        )
    except OcidiffError as exc:
        _fail(exc)
    _emit(text, output)
    raise typer.Exit(0 if ok else 1)


def _cause_epilog(codes: tuple[str, ...], width: int = 76) -> str:
    """Every cause code, on lines the help formatter keeps as they are (no hyphen breaks)."""
    lines, line = [], "  "
    for code in codes:
        if len(line) + len(code) + 2 > width:
            lines.append(line.rstrip())
            line = "  "
        line += code + ", "
    lines.append(line.rstrip().rstrip(","))
    return "\b\nCause codes (docs/causes.md explains each):\n" + "\n".join(lines)


_CAUSE_EPILOG = _cause_epilog(ALL_CODES)


@app.command(epilog=_CAUSE_EPILOG)
@reading_options()
def diff(
    old: Annotated[str, typer.Argument(help="The first image (e.g. the one in production).")],
    new: Annotated[str, typer.Argument(help="The second image (e.g. the rebuild).")],
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Output format.")
    ] = ReportFormat.text,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Accept differences with this cause code (repeatable)."),
    ] = None,
    semantic: Annotated[
        bool, typer.Option("--semantic", help="Ignore every cause that cannot change what runs.")
    ] = False,
    no_default_ignores: Annotated[
        bool,
        typer.Option("--no-default-ignores", help="Also count archive-packing and image-name."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail (exit 2) when a layer cannot be read or does not match its digest, "
            "instead of marking it incomplete and comparing the rest.",
        ),
    ] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", help="Skip paths matching this glob (repeatable), e.g. 'var/log/*'."
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the report here (only when the diff succeeds)."),
    ] = None,
    max_examples: Annotated[
        int, typer.Option("--max-examples", help="Examples kept per cause.")
    ] = 3,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """Compare two images and name the cause of every difference.

    Verdicts: identical, same-image, equivalent, different. Exit 0 when no cause is left after
    ignores, 1 when one is, 2 on trouble. Default ignores: archive-packing, image-name.

    Examples: ocidiff diff prod.tar rebuild.tar; ocidiff diff a.tar b.tar --semantic;
    ocidiff diff a.tar b.tar --format json -o report.json --ignore file-timestamps
    """
    from . import commands

    try:
        data, exit_code = commands.diff(
            old,
            new,
            output_format.value,
            tuple(ignore or ()),
            semantic,
            no_default_ignores,
            tuple(exclude or ()),
            max_examples,
            platform,
            reading,
            progress,
            _colour(),
            strict,
        )
    except OcidiffError as exc:
        _fail(exc)
    _emit(data, output)
    raise typer.Exit(exit_code)


@app.command()
def render(
    report: Annotated[str, typer.Argument(help="A report saved with diff --format json.")],
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Output format.")
    ] = ReportFormat.text,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write here.")] = None,
) -> None:
    """Re-render a saved JSON diff report. Example: ocidiff render report.json"""
    from . import commands

    try:
        data = commands.render(report, output_format.value, _colour())
    except OcidiffError as exc:
        _fail(exc)
    _emit(data, output)


cache_app = typer.Typer(
    help="The per-layer inventory cache: where it is, how big, and pruning.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


def _size_text(value: str) -> int:
    from .errors import UsageError

    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    text = value.strip().lower().removesuffix("ib").removesuffix("b")
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "")
    try:
        size = int(float(number) * units[unit])
    except ValueError:
        raise UsageError(f"not a size: {value!r} (examples: 500M, 2G, 1048576)") from None
    if size < 0:
        raise UsageError(f"not a size: {value!r}")
    return size


@cache_app.command("info")
def cache_info(
    cache_dir: CacheDir = None,
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
) -> None:
    """Show the cache directory, its entries and total size. Example: ocidiff cache info"""
    from .cache import open_cache
    from .render.json import to_json

    cache = open_cache(cache_dir)
    assert cache is not None
    stats = cache.stats()
    if output_format is TextOrJson.json:
        _write(to_json(stats))
        return
    _write(
        f"cache directory: {stats.root}\n"
        f"entries:         {stats.entries}\n"
        f"total size:      {stats.total_bytes:,} bytes\n"
        f"size limit:      {stats.max_bytes:,} bytes (least recently used entries go first)\n"
    )


@cache_app.command("prune")
def cache_prune(
    cache_dir: CacheDir = None,
    max_size: Annotated[
        str | None,
        typer.Option("--max-size", help="Shrink to at most this size, e.g. 500M or 2G."),
    ] = None,
    remove_all: Annotated[bool, typer.Option("--all", help="Remove every entry.")] = False,
) -> None:
    """Remove least recently used entries until the cache fits its limit (default 4 GiB).

    Examples: ocidiff cache prune; ocidiff cache prune --max-size 500M; ocidiff cache prune --all
    """
    from .cache import open_cache

    cache = open_cache(cache_dir)
    assert cache is not None
    try:
        limit = 0 if remove_all else (_size_text(max_size) if max_size else None)
    except OcidiffError as exc:
        _fail(exc)
    removed, freed = cache.prune(limit)
    _write(f"removed {removed} entries, {freed:,} bytes, from {cache.root}\n")


def _colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def main() -> None:
    """Console entry point: run the app; never let a traceback reach the user by accident."""
    try:
        app()
    except BrokenPipeError:
        # `ocidiff ls x.tar | head`: the reader left; exit quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        sys.stderr.write("ocidiff: interrupted\n")
        sys.exit(130)
    except OcidiffError as exc:
        sys.stderr.write(f"ocidiff: {exc.one_line()}\n")
        sys.exit(exc.exit_code)
    except OSError as exc:
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"ocidiff: {name}{exc.strerror or exc}\n")
        sys.exit(2)
    except MemoryError:
        sys.stderr.write("ocidiff: out of memory\n")
        sys.exit(2)
    except Exception as exc:  # a bug: say so in one line; OCIDIFF_DEBUG=1 shows the traceback
        if os.environ.get("OCIDIFF_DEBUG"):
            raise
        sys.stderr.write(
            f"ocidiff: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; rerun with OCIDIFF_DEBUG=1 for details)\n"
        )
        sys.exit(2)


# verify-tree, fingerprint and ledger live in cli_gates (imported last: it calls back into here).
__import__("ocidiff.cli_gates", fromlist=["register"]).register(app)
__import__("ocidiff.cli_audit", fromlist=["register"]).register(app)  # audit, lint, query
