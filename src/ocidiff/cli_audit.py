"""The batch audit on the command line: `audit`, `lint`, `query`.

A thin typer shell like `cli`: parse options, call one function of `audit.commands`, write the
result to stdout, exit 0 / 1 / 2. `register(app)` adds the commands to the main app; nothing
heavy is imported until a command runs.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from .cli_options import Platform, TextJsonHtml, TextOrJson, emit, fail, reading_options, write
from .errors import OcidiffError

if TYPE_CHECKING:
    from .api import OpenOptions
    from .progress import Progress


class ExecutorKind(enum.StrEnum):
    local = "local"
    dask = "dask"




def _say(quiet: bool) -> Callable[[str], None] | None:
    if quiet:
        return None

    def say(text: str) -> None:
        sys.stderr.write(f"audit: {text}\n")

    return say


@reading_options()
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
        TextJsonHtml,
        typer.Option("--format", help="Output format (html: one self-contained page)."),
    ] = TextJsonHtml.text,
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
    *,
    reading: OpenOptions,
    progress: Progress | None,
    quiet: bool,
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

    options = AuditOptions(catalog=catalog or MEMORY, order=order, open_options=reading)
    request = AuditRequest(tuple(paths), options, output_format.value, executor.value, scheduler)
    try:
        data, code = run(request, progress, _say(quiet))
    except OcidiffError as exc:
        fail(exc)
    emit(data, output)
    raise typer.Exit(code)


@reading_options()
def lint(
    image: Annotated[str, typer.Argument(help="Image archive, layout directory, or '-'.")],
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """List reproducibility hazards: mtimes past SOURCE_DATE_EPOCH, mixed epochs, shipped logs
    and caches, timestamped .pyc, gzip MTIMEs, deleted files still shipped, secret-like paths,
    missing base annotations. Exit 0 none, 1 hazards, 2 trouble. Codes: docs/lint.md.

    Example: ocidiff lint image.tar --format json
    """
    from .audit.commands import lint as run
    try:
        data, code = run(image, output_format.value, platform, reading, progress)
    except OcidiffError as exc:
        fail(exc)
    write(data)
    raise typer.Exit(code)


def query(
    catalog: Annotated[str, typer.Argument(help="A catalog written by 'ocidiff audit'.")],
    sql: Annotated[str, typer.Argument(help="One SQL statement (read-only).")],
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
) -> None:
    """Run a read-only SQL query on an audit catalog; docs/catalog.md has the schema and
    examples.

    Example: ocidiff query releases.db "SELECT name, status FROM images ORDER BY position"
    """
    from .audit.commands import query as run

    try:
        data = run(catalog, sql, output_format.value)
    except OcidiffError as exc:
        fail(exc)
    write(data)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
    app.command("lint")(lint)
    app.command("query")(query)
