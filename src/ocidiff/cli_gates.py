"""The reproducibility gates on the command line: verify-tree, fingerprint, ledger.

A thin typer shell like `cli`: parse options, call one function of `gates.commands`, write the
result, exit 0 pass / 1 fail / 2 trouble. `register(app)` adds the commands to the main app; this
module imports nothing heavy, and nothing from `cli` until a command runs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from .cli_options import (
    Platform,
    ReportFormat,
    TextJsonMarkdown,
    TextOrJson,
    emit,
    fail,
    reading_options,
    write,
)
from .errors import OcidiffError

if TYPE_CHECKING:
    from .api import OpenOptions
    from .progress import Progress


Ledger = Annotated[
    str, typer.Option("--ledger", help="The ledger file (JSON Lines, append-only).")
]
DEFAULT_LEDGER = "ocidiff-ledger.jsonl"


@reading_options()
def verify_tree(
    image: Annotated[str, typer.Argument(help="Image archive or layout directory.")],
    source: Annotated[str, typer.Option("--source", help="The build context directory.")],
    path: Annotated[str, typer.Option("--path", help="The directory in the image.")] = "/",
    dockerignore: Annotated[
        str | None,
        typer.Option("--dockerignore", help="Ignore file (default: SOURCE/.dockerignore)."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Also skip this pattern on both sides (repeatable; "
                     ".dockerignore syntax, relative to --path), e.g. '**/__pycache__'."),
    ] = None,
    commit: Annotated[
        str | None, typer.Option("--commit", help="The commit the image must be built from.")
    ] = None,
    label: Annotated[
        str, typer.Option("--label", help="The image label holding the build commit.")
    ] = "org.opencontainers.image.revision",
    ignore_mode: Annotated[
        bool, typer.Option("--ignore-mode", help="Do not compare permission bits.")
    ] = False,
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="Output format (html: one self-contained page)."),
    ] = ReportFormat.text,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the report to this file (default: stdout)."),
    ] = None,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """Compare a directory of the image with the local build context (the build's COPY source).

    Reports missing, extra, content, mode and symlink differences, the layer that last wrote
    each one and its history, stale layers, and the build-commit label. .dockerignore rules are
    applied as Docker applies them. Exit 0 match, 1 mismatch, 2 trouble.

    Example: ocidiff verify-tree image.tar --path /app --source . --commit "$(git rev-parse HEAD)"
    """
    from .gates import commands
    from .gates.verify_tree import TreeQuery

    query = TreeQuery(image, "", path, source, label_key=label, commit=commit,
                      compare_mode=not ignore_mode)
    try:
        data, ok = commands.verify_tree(
            image, query, dockerignore, tuple(exclude or ()), platform, output_format.value,
            reading, progress,
        )
    except OcidiffError as exc:
        fail(exc)

    emit(data, output)
    raise typer.Exit(0 if ok else 1)


def fingerprint(
    file: Annotated[
        list[str] | None,
        typer.Option("--file", help="A build input file (repeatable; default: the Dockerfile "
                     "and the lockfiles in --context)."),
    ] = None,
    build_arg: Annotated[
        list[str] | None, typer.Option("--build-arg", help="KEY=VALUE (repeatable).")
    ] = None,
    base_image: Annotated[
        list[str] | None,
        typer.Option("--base-image", help="The base image reference, ideally name@sha256:..."),
    ] = None,
    context: Annotated[
        str, typer.Option("--context", help="Directory names are relative to (and searched).")
    ] = ".",
    dockerfile: Annotated[
        str | None, typer.Option("--dockerfile", help="Dockerfile, if not CONTEXT/Dockerfile.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="List every input and its hash.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when there are reproducibility warnings.")
    ] = False,
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
) -> None:
    """Print a deterministic fingerprint of the build inputs.

    Inputs: files (the Dockerfile and lockfiles by default), build args, base images; names are
    hashed too, argument order is not. Warns on stderr about inputs that undermine
    reproducibility (unpinned bases and installs, :latest, requirements without hashes).

    Example: FP=$(ocidiff fingerprint --build-arg VERSION=1.4.0)
    """
    from .gates import commands
    from .gates.text import advice_line

    try:
        data, result = commands.fingerprint(
            context, tuple(file or ()), dockerfile, tuple(build_arg or ()),
            tuple(base_image or ()), explain, output_format.value,
        )
    except OcidiffError as exc:
        fail(exc)
    if output_format is TextOrJson.text:
        for advice in result.warnings:
            sys.stderr.write(f"ocidiff: warning: {advice_line(advice)}\n")
    write(data)
    raise typer.Exit(1 if strict and result.warnings else 0)


@reading_options(cache=False, quiet=False)
def ledger_record(
    image: Annotated[str, typer.Argument(help="The released image archive.")],
    release: Annotated[str, typer.Option("--release", help="The release name, e.g. 1.4.0.")],
    fingerprint_value: Annotated[
        str | None, typer.Option("--fingerprint", help="From ocidiff fingerprint.")
    ] = None,
    ledger: Ledger = DEFAULT_LEDGER,
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
    platform: Platform = None,
    *,
    reading: OpenOptions,
) -> None:
    """Append what shipped (digests, layers, platform, producer, archive sha256) to the ledger.
    Recording the same image again is a no-op; another image under the same release and
    platform is refused (exit 1)."""
    from .gates import commands

    try:
        data, code = commands.ledger_record(
            image, release, fingerprint_value, ledger, platform, output_format.value, reading
        )
    except OcidiffError as exc:
        fail(exc)
    write(data)
    raise typer.Exit(code)


@reading_options()
def ledger_check(
    image: Annotated[str, typer.Argument(help="The image just built.")],
    fingerprint_value: Annotated[
        str, typer.Option("--fingerprint", help="The fingerprint of its build inputs.")
    ],
    against: Annotated[
        str | None,
        typer.Option("--against", help="Also diff against this older archive, with causes."),
    ] = None,
    ledger: Ledger = DEFAULT_LEDGER,
    output_format: Annotated[
        TextJsonMarkdown, typer.Option("--format", help="Output format.")
    ] = TextJsonMarkdown.text,
    platform: Platform = None,
    *,
    reading: OpenOptions,
    progress: Progress | None,
) -> None:
    """Pass when the fingerprint was never recorded or was recorded with this same image; fail
    (exit 1) when the same inputs once produced a different image, naming the levels that differ.
    """
    from .gates import commands

    try:
        data, ok = commands.ledger_check(
            image, fingerprint_value, ledger, against, platform, output_format.value,
            reading, progress,
        )
    except OcidiffError as exc:
        fail(exc)
    write(data)
    raise typer.Exit(0 if ok else 1)


def ledger_show(
    release: Annotated[str, typer.Argument(help="The release name.")],
    ledger: Ledger = DEFAULT_LEDGER,
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
) -> None:
    """What shipped in a release, to the byte. Exit 1 when the release is not in the ledger."""
    from .gates import commands

    try:
        data, missing = commands.ledger_show(release, ledger, output_format.value)
    except OcidiffError as exc:
        fail(exc)
    write(data)
    if missing:
        sys.stderr.write(f"ocidiff: {missing}\n")
    raise typer.Exit(1 if missing else 0)


def ledger_list(
    ledger: Ledger = DEFAULT_LEDGER,
    output_format: Annotated[
        TextOrJson, typer.Option("--format", help="Output format.")
    ] = TextOrJson.text,
) -> None:
    """Every record of the ledger, in the order recorded."""
    from .gates import commands

    try:
        data = commands.ledger_list(ledger, output_format.value)
    except OcidiffError as exc:
        fail(exc)
    write(data)


def register(app: typer.Typer) -> None:
    """Add verify-tree, fingerprint and the ledger group to `app`."""
    app.command("verify-tree")(verify_tree)
    app.command("fingerprint")(fingerprint)
    ledger = typer.Typer(
        help="The release ledger: what shipped, and whether the same inputs ever built "
        "another image.",
        no_args_is_help=True,
        rich_markup_mode=None,  # plain help: "os/arch[/variant]" is not markup
    )
    ledger.command("record")(ledger_record)
    ledger.command("check")(ledger_check)
    ledger.command("show")(ledger_show)
    ledger.command("list")(ledger_list)
    app.add_typer(ledger, name="ledger")
