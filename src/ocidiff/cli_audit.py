"""The batch audit on the command line: `audit`, `lint`, `query`.

A thin typer shell like `cli`: parse options, call one function of `audit.commands`, write the
result to stdout, exit 0 / 1 / 2. `register(app)` adds the commands to the main app; nothing
heavy is imported until a command runs.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer

from .errors import OcidiffError


class AuditFormat(enum.StrEnum):
    text = "text"
    json = "json"


class AuditReportFormat(enum.StrEnum):
    text = "text"
    json = "json"
    html = "html"


class ExecutorKind(enum.StrEnum):
    local = "local"
    dask = "dask"


Platform = Annotated[
    str | None,
    typer.Option("--platform", help="Only this platform: os/arch[/variant], e.g. linux/arm64/v8."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]
MaxUncompressed = Annotated[
    int, typer.Option("--max-uncompressed", help="Refuse a layer decompressing past this.")
]
MaxRatio = Annotated[
    int, typer.Option("--max-ratio", help="Refuse a layer expanding more than this ratio.")
]
MaxJsonBytes = Annotated[
    int, typer.Option("--max-json-bytes", help="Refuse JSON documents larger than this.")
]
CacheDir = Annotated[
    str | None,
    typer.Option("--cache-dir", help="Per-layer inventory cache (see 'ocidiff diff --help')."),
]
NoCache = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the layer cache.")
]


def _fail(error: OcidiffError) -> NoReturn:
    sys.stderr.write(f"ocidiff: {error.one_line()}\n")
    raise typer.Exit(error.exit_code)


def _write(data: str | bytes) -> None:
    if isinstance(data, str):
        sys.stdout.write(data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)


def _say(quiet: bool) -> Callable[[str], None] | None:
    if quiet:
        return None

    def say(text: str) -> None:
        sys.stderr.write(f"audit: {text}\n")

    return say


def audit(
    paths: Annotated[
        list[str],
        typer.Argument(help="Image archives, layout directories, folders or globs."),
    ],
    catalog: Annotated[
        str | None,
        typer.Option(
            "--catalog",
            help="SQLite catalog to create or update (kept between runs; an interrupted audit "
            "resumes). Without it the catalog lives in memory for this run only.",
        ),
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            "--order",
            help="Release order: 'name' (natural version sort), 'created' (config time), "
            "or a file listing release names or paths one per line.",
        ),
    ] = "name",
    output_format: Annotated[
        AuditReportFormat,
        typer.Option("--format", help="Output format (html: one self-contained page)."),
    ] = AuditReportFormat.text,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the report to this file (default: stdout)."),
    ] = None,
    executor: Annotated[
        ExecutorKind,
        typer.Option("--executor", help="Where layers are read: this machine, or Dask."),
    ] = ExecutorKind.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://host:8786); implies --executor dask. Workers "
            "must see the archives at the same paths.",
        ),
    ] = None,
    max_uncompressed: MaxUncompressed = 64 << 30,
    max_ratio: MaxRatio = 1000,
    max_json_bytes: MaxJsonBytes = 16 << 20,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
) -> None:
    """Audit archived releases: integrity, layers, packages, hazards, and what changed from
    each release to the next (per platform), into a SQLite catalog.

    Each unique layer is read once; a re-run reads only new releases. Exit 0 when every release
    is intact, 1 when one has problems or cannot be read, 2 on trouble.

    Example: ocidiff audit releases/ --catalog releases.db; ocidiff audit 'v*.tar' --format html
    -o audit.html
    """
    from .audit.catalog import MEMORY
    from .audit.commands import AuditRequest
    from .audit.commands import audit as run
    from .audit.run import AuditOptions
    from .cli import _emit, _options, _progress

    options = AuditOptions(
        catalog=catalog or MEMORY,
        order=order,
        open_options=_options(max_uncompressed, max_ratio, max_json_bytes, cache_dir, no_cache),
    )
    request = AuditRequest(tuple(paths), options, output_format.value, executor.value, scheduler)
    try:
        data, code = run(request, _progress(quiet), _say(quiet))
    except OcidiffError as exc:
        _fail(exc)
    _emit(data, output)
    raise typer.Exit(code)


def lint(
    image: Annotated[str, typer.Argument(help="Image archive, layout directory, or '-'.")],
    output_format: Annotated[
        AuditFormat, typer.Option("--format", help="Output format.")
    ] = AuditFormat.text,
    platform: Platform = None,
    max_uncompressed: MaxUncompressed = 64 << 30,
    max_ratio: MaxRatio = 1000,
    max_json_bytes: MaxJsonBytes = 16 << 20,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    quiet: Quiet = False,
) -> None:
    """List reproducibility hazards: mtimes past SOURCE_DATE_EPOCH, mixed epochs, shipped logs
    and caches, timestamped .pyc, gzip MTIMEs, deleted files still shipped, secret-like paths,
    missing base annotations. Exit 0 none, 1 hazards, 2 trouble. Codes: docs/lint.md.

    Example: ocidiff lint image.tar --format json
    """
    from .audit.commands import lint as run
    from .cli import _options, _progress

    try:
        data, code = run(
            image,
            output_format.value,
            platform,
            _options(max_uncompressed, max_ratio, max_json_bytes, cache_dir, no_cache),
            _progress(quiet),
        )
    except OcidiffError as exc:
        _fail(exc)
    _write(data)
    raise typer.Exit(code)


def query(
    catalog: Annotated[str, typer.Argument(help="A catalog written by 'ocidiff audit'.")],
    sql: Annotated[str, typer.Argument(help="One SQL statement (read-only).")],
    output_format: Annotated[
        AuditFormat, typer.Option("--format", help="Output format.")
    ] = AuditFormat.text,
) -> None:
    """Run a read-only SQL query on an audit catalog; docs/catalog.md has the schema and
    examples.

    Example: ocidiff query releases.db "SELECT name, status FROM images ORDER BY position"
    """
    from .audit.commands import query as run

    try:
        data = run(catalog, sql, output_format.value)
    except OcidiffError as exc:
        _fail(exc)
    _write(data)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
    app.command("lint")(lint)
    app.command("query")(query)
