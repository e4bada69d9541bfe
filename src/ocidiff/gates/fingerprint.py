"""A deterministic fingerprint of build inputs: files, build arguments, base image references.

Each input is (kind, name, sha256 of its bytes); the fingerprint is the sha256 of those triples
sorted and written in a fixed, length-prefixed form (docs/gates.md), so it depends on every byte
and every name and on nothing else: not on argument order, the machine, the clock or library
versions. Reads only the files it is given (or finds by name in the context directory).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, UsageError
from .pinning import (
    Advice,
    dockerfile_advice,
    is_dockerfile,
    is_requirements,
    reference_advice,
    requirements_advice,
    value_advice,
)

SCHEMA = "ocidiff.fingerprint"
SCHEMA_VERSION = 1
_DOMAIN = b"ocidiff-fingerprint/1\n"
_MAX_FILE = 256 << 20

FILE, BUILD_ARG, BASE_IMAGE = "file", "build-arg", "base-image"
DOCKERFILES = ("Dockerfile", "Containerfile")
# Lockfiles looked for in the context directory when no --file is given (top level only).
LOCKFILES = (
    ".dockerignore", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
    "bun.lock", "bun.lockb", "poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "go.sum",
    "Cargo.lock", "Gemfile.lock", "composer.lock", "packages.lock.json", "gradle.lockfile",
    "mix.lock", "pubspec.lock", "Package.resolved", "flake.lock", "conda-lock.yml",
)


@dataclass(frozen=True, slots=True)
class FingerprintInput:
    kind: str  # file | build-arg | base-image
    name: str  # path relative to the context, argument name, or the reference itself
    digest: str  # sha256 of the file's bytes, the argument's value, or the reference text


@dataclass(frozen=True, slots=True)
class Fingerprint:
    schema: str
    schema_version: int
    fingerprint: str
    inputs: tuple[FingerprintInput, ...]  # sorted by kind, then name
    warnings: tuple[Advice, ...]


def combine_inputs(inputs: Sequence[FingerprintInput]) -> str:
    """The fingerprint of `inputs`: order-free, every name and digest included."""
    hasher = hashlib.sha256(_DOMAIN)
    for item in sorted(inputs, key=_key):
        name = item.name.encode("utf-8", "surrogateescape")
        hasher.update(f"{item.kind} {item.digest} {len(name)} ".encode() + name + b"\n")
    return "sha256:" + hasher.hexdigest()


def _key(item: FingerprintInput) -> tuple[str, str]:
    return item.kind, item.name


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_build_args(items: Sequence[str]) -> dict[str, str]:
    """`K=V` strings; a later value for the same name wins, as with docker build."""
    args: dict[str, str] = {}
    for item in items:
        key, has_value, value = item.partition("=")
        if not key or not has_value:
            raise UsageError(f"build argument {item!r} is not KEY=VALUE")
        args[key] = value
    return args


def default_files(context: Path, dockerfile: str | None = None) -> list[Path]:
    """The Dockerfile (or Containerfile) and the lockfiles present in `context`."""
    found: list[Path] = []
    if dockerfile is not None:
        found.append(Path(dockerfile))
    else:
        found.extend(context / n for n in DOCKERFILES if (context / n).is_file())
    found.extend(context / n for n in LOCKFILES if (context / n).is_file())
    found.extend(sorted(context.glob("requirements*.txt")))
    return found


def input_name(path: Path, context: Path) -> str:
    """A file's name as hashed: relative to the context, `/`-separated, no machine prefix."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(context))
    return Path(relative).as_posix()


def build_fingerprint(
    context: Path,
    files: Sequence[Path],
    build_args: dict[str, str],
    base_images: Sequence[str],
) -> Fingerprint:
    """Read `files`, hash everything, and collect the reproducibility advice."""
    if not files and not build_args and not base_images:
        raise UsageError(
            "no build inputs found",
            file=str(context),
            hint="name them with --file, or run where the Dockerfile is",
        )
    inputs: dict[tuple[str, str], FingerprintInput] = {}
    advice: list[Advice] = []
    for path in files:
        name = input_name(path, context)
        data = _read(path)
        inputs[(FILE, name)] = FingerprintInput(FILE, name, _sha256(data))
        advice.extend(_file_advice(name, data, build_args))
    for key, value in build_args.items():
        inputs[(BUILD_ARG, key)] = FingerprintInput(BUILD_ARG, key, _sha256(value.encode()))
        advice.extend(value_advice("build argument", key, value))
    for ref in base_images:
        inputs[(BASE_IMAGE, ref)] = FingerprintInput(BASE_IMAGE, ref, _sha256(ref.encode()))
        advice.extend(reference_advice(ref, None, None))
    ordered = tuple(sorted(inputs.values(), key=_key))
    unique = sorted(set(advice), key=lambda a: (a.file or "", a.line or 0, a.code, a.message))
    return Fingerprint(SCHEMA, SCHEMA_VERSION, combine_inputs(ordered), ordered, tuple(unique))


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE + 1)
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), file=str(path)) from None
    if len(data) > _MAX_FILE:
        raise InputError(f"larger than {_MAX_FILE} bytes; not a build input", file=str(path))
    return data


def _file_advice(name: str, data: bytes, build_args: dict[str, str]) -> list[Advice]:
    if is_dockerfile(name):
        return dockerfile_advice(name, data.decode("utf-8", "replace"), build_args)[0]
    if is_requirements(name):
        return requirements_advice(name, data.decode("utf-8", "replace"))
    return []
