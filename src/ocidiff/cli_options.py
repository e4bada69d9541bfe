"""What the command-line modules (`cli`, `cli_audit`, `cli_gates`) share.

The options every reading command takes: limits (README "Limits"), --quiet and the layer cache
options, declared once; a command takes them with `@reading_options()` and receives `reading`
(OpenOptions) and `progress` instead of a dozen parameters. The output formats. And how results
and errors leave the process: `write`, `emit`, `fail`. Imports nothing heavy: the library loads
when a command runs.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from inspect import Parameter, signature
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer

from .errors import InputError, OcidiffError

if TYPE_CHECKING:
    from .api import OpenOptions
    from .cache import LayerCache
    from .progress import Progress

Platform = Annotated[
    str | None,
    typer.Option("--platform", help="Only this platform: os/arch[/variant], e.g. linux/arm64/v8."),
]
# Safety limits (README "Limits"): every one trips a one-line error naming its option.
MaxUncompressed = Annotated[
    int,
    typer.Option(
        "--max-uncompressed",
        help="Refuse a layer (or a compressed archive) decompressing past this many bytes; "
        "sparse holes count, and so does a single member's declared size.",
        show_default=True,
    ),
]
MaxRatio = Annotated[
    int,
    typer.Option(
        "--max-ratio",
        help="Refuse a layer expanding more than this ratio (checked past 64 MiB).",
    ),
]
MaxJsonBytes = Annotated[
    int,
    typer.Option(
        "--max-json-bytes",
        help="Refuse JSON documents larger than this.",
    ),
]
MaxJsonDepth = Annotated[
    int,
    typer.Option(
        "--max-json-depth",
        help="Refuse JSON documents nesting arrays and objects deeper than this.",
    ),
]
MaxIndexDepth = Annotated[
    int,
    typer.Option(
        "--max-index-depth",
        help="Refuse image indexes nested deeper than this.",
    ),
]
MaxEntries = Annotated[
    int,
    typer.Option(
        "--max-entries",
        help="Refuse a tar stream (a layer, or the archive itself) of more members than this.",
    ),
]
MaxPaxRecord = Annotated[
    int,
    typer.Option(
        "--max-pax-record",
        help="Refuse a PAX extended header (or a sparse map) larger than this many bytes.",
    ),
]
MaxLongName = Annotated[
    int,
    typer.Option(
        "--max-long-name",
        help="Refuse a GNU long name or long link name larger than this many bytes.",
    ),
]
MaxZstdWindow = Annotated[
    int,
    typer.Option(
        "--max-zstd-window",
        help="Refuse zstd frames asking for a larger window (decoder memory) than this.",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]
CacheDir = Annotated[
    str | None,
    typer.Option(
        "--cache-dir",
        help="Per-layer inventory cache (default: $OCIDIFF_CACHE_DIR, else "
        "$XDG_CACHE_HOME/ocidiff, else ~/.cache/ocidiff). Cached layers are trusted by digest; "
        "'ocidiff verify' always reads the bytes.",
    ),
]
NoCache = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the layer cache.")
]


# Every option that decides how an input is read, with its default: one table for all the
# reading commands (tests/test_cli_options.py checks the defaults against the library's).
LIMIT_OPTIONS: tuple[tuple[str, object, object], ...] = (
    ("max_uncompressed", MaxUncompressed, 64 << 30),
    ("max_ratio", MaxRatio, 1000),
    ("max_json_bytes", MaxJsonBytes, 16 << 20),
    ("max_json_depth", MaxJsonDepth, 64),
    ("max_index_depth", MaxIndexDepth, 8),
    ("max_entries", MaxEntries, 2_000_000),
    ("max_pax_record", MaxPaxRecord, 1 << 20),
    ("max_long_name", MaxLongName, 1 << 16),
    ("max_zstd_window", MaxZstdWindow, 1 << 27),
)
_QUIET_OPTION = (("quiet", Quiet, False),)
_CACHE_OPTIONS = (("cache_dir", CacheDir, None), ("no_cache", NoCache, False))

_Command = TypeVar("_Command", bound=Callable[..., None])
_SUPPLIED = ("reading", "progress", "quiet")  # parameters the decorator fills in


def reading_options(
    *, cache: bool = True, quiet: bool = True
) -> Callable[[_Command], _Command]:
    """Give a command the limit options, --quiet and (with `cache`) the cache options.

    The command declares `reading: OpenOptions` (and, if it shows progress, `progress:
    Progress | None`; if it wants the flag itself, `quiet: bool`) instead of a dozen
    parameters: this adds the options to the signature typer reads, and turns their values
    into those arguments. `quiet=False` leaves --quiet out, for commands that show no progress."""
    added = LIMIT_OPTIONS + (_QUIET_OPTION if quiet else ()) + (_CACHE_OPTIONS if cache else ())

    def decorate(command: _Command) -> _Command:
        declared = signature(command)
        kept = [
            # Annotations are strings (postponed); typer needs the objects. `reading` and
            # `progress` are left out: their types exist only for the type checker.
            p.replace(annotation=eval(p.annotation, command.__globals__))
            if isinstance(p.annotation, str)
            else p
            for p in declared.parameters.values()
            if p.name not in _SUPPLIED
        ]
        wants_quiet = "quiet" in declared.parameters
        wants_progress = "progress" in declared.parameters
        options = [
            Parameter(name, Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
            for name, annotation, default in added
        ]

        @functools.wraps(command)
        def run(*args: object, **values: object) -> None:
            chosen: dict[str, Any] = {name: values.pop(name) for name, _, _ in added}
            silent = bool(chosen.pop("quiet", True))
            if wants_quiet:
                values["quiet"] = silent
            if wants_progress:
                values["progress"] = progress_display(silent)
            command(*args, reading=open_options(**chosen), **values)

        shown = declared.replace(parameters=[*kept, *options], return_annotation=None)
        run.__signature__ = shown  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in shown.parameters.values()}
        return cast(_Command, run)

    return decorate


def open_options(
    *, cache_dir: str | None = None, no_cache: bool = True, **limits: int
) -> OpenOptions:
    """OpenOptions from the reading options' values (limits by their option names)."""
    from .api import OpenOptions
    from .oci.parse import JsonLimits

    base = OpenOptions()
    pump = replace(
        base.pump,
        max_uncompressed=limits["max_uncompressed"],
        max_ratio=limits["max_ratio"],
        max_entries=limits["max_entries"],
        max_pax_record=limits["max_pax_record"],
        max_long_name=limits["max_long_name"],
        max_zstd_window=limits["max_zstd_window"],
    )
    return replace(
        base,
        json_limits=JsonLimits(
            limits["max_json_bytes"], limits["max_json_depth"], limits["max_index_depth"]
        ),
        pump=pump,
        cache=None if no_cache else _cache(cache_dir),
    )


def _cache(directory: str | None) -> LayerCache | None:
    # Imported only when a cache is used: `verify` then starts without zstandard and orjson.
    from .cache import open_cache

    return open_cache(directory)


def progress_display(quiet: bool) -> Progress | None:
    """Progress bars on stderr when it is a terminal and --quiet was not given."""
    if quiet or not sys.stderr.isatty():
        return None
    from .terminal import RichProgress

    return RichProgress()


# -- output formats ---------------------------------------------------------------------------


class TextOrJson(enum.StrEnum):
    text = "text"
    json = "json"


class TextOrJsonl(enum.StrEnum):
    text = "text"
    jsonl = "jsonl"


class TextJsonHtml(enum.StrEnum):
    text = "text"
    json = "json"
    html = "html"


class TextJsonMarkdown(enum.StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class ReportFormat(enum.StrEnum):
    """Reports that can also be a CI summary (markdown) or one self-contained page (html)."""

    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


# -- results and errors -----------------------------------------------------------------------


def fail(error: OcidiffError) -> NoReturn:
    """The one line every failure ends with, and its exit code."""
    sys.stderr.write(f"ocidiff: {error.one_line()}\n")
    raise typer.Exit(error.exit_code)


def write(text: str | bytes) -> None:
    """Stdout, always as UTF-8: undecodable names (surrogate escapes) as backslash escapes."""
    if isinstance(text, str):
        text = text.encode("utf-8", "backslashreplace")
    sys.stdout.flush()
    sys.stdout.buffer.write(text)


def emit(data: str | bytes, output: str | None) -> None:
    """`data` to stdout, or whole to the file `output` (written aside, then renamed)."""
    if output is None:
        write(data)
        return
    raw = data.encode() if isinstance(data, str) else data
    temporary = f"{output}.tmp-{os.getpid()}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(raw)
        os.replace(temporary, output)
    except OSError as exc:
        fail(InputError(f"cannot write the report: {exc.strerror or exc}", file=output))

