"""Reproducibility advice on build inputs: unpinned bases, installs and requirements. Pure text
analysis, no IO; each piece of advice names its file and line.

Dockerfile handling is deliberately small: logical lines (backslash continuations joined, comment
lines dropped), global ARG defaults and build args substituted into FROM, stage names recognised.
Heredocs and the `# escape=` directive are not interpreted.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

UNPINNED_BASE = "unpinned-base"
LATEST_TAG = "latest-tag"
UNPINNED_PIP = "unpinned-pip"
UNPINNED_APT = "unpinned-apt"
NPM_INSTALL = "npm-install"
UNHASHED_REQUIREMENTS = "requirements-without-hashes"

_DOCKERFILE = re.compile(r"(?i)^(?:docker|container)file(?:\..+)?$|^.+\.(?:docker|container)file$")
_REQUIREMENTS = re.compile(r"^requirements.*\.txt$")
_LATEST = re.compile(r":latest\b")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::?([-+])([^}]*))?\}|(\w+))")
_SEPARATORS = re.compile(r"&&|\|\||[;|\n]")
# pip options that take a value: the value is not a package to pin.
_PIP_VALUED = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--platform", "--python-version", "--implementation", "--abi", "--trusted-host", "--cache-dir",
    "--src", "--upgrade-strategy", "--progress-bar", "--log", "--timeout", "--retries", "--proxy",
    "--cert", "--client-cert", "--only-binary", "--no-binary", "-C", "--config-settings",
    "--global-option", "--report", "--python", "--exists-action", "--root-user-action",
})
_APT_VALUED = frozenset({"-o", "--option", "-t", "--target-release", "-c", "--config-file"})


@dataclass(frozen=True, slots=True)
class Advice:
    """One input that undermines reproducibility."""

    code: str
    file: str | None
    line: int | None
    message: str


def is_dockerfile(name: str) -> bool:
    return bool(_DOCKERFILE.match(name.rsplit("/", 1)[-1]))


def is_requirements(name: str) -> bool:
    return bool(_REQUIREMENTS.match(name.rsplit("/", 1)[-1]))


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, instruction text) with continuations joined and comments dropped."""
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not parts):
            continue
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        yield start, " ".join(p for p in parts if p)
        parts = []
    if parts:
        yield start, " ".join(p for p in parts if p)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """`$V`, `${V}`, `${V:-default}` and `${V:+alt}` as the Dockerfile FROM line expands them."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        value = values.get(name)
        if match.group(2) == "-":
            return value if value else match.group(4) or ""
        if match.group(2) == "+":
            return match.group(4) or "" if value else ""
        return value if value is not None else match.group(0)

    return _VARIABLE.sub(replace, text)


def dockerfile_advice(
    name: str, text: str, build_args: Mapping[str, str]
) -> tuple[list[Advice], list[str]]:
    """Advice for a Dockerfile and the base references its FROM lines resolve to."""
    advice: list[Advice] = []
    bases: list[str] = []
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    seen_from = False
    for number, line in logical_lines(text):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "ARG" and not seen_from:
            key, has_value, value = rest.strip().partition("=")
            if key:
                defaults[key] = value.strip().strip('"') if has_value else ""
        elif instruction == "FROM":
            seen_from = True
            ref, stage = _from_parts(rest)
            ref = substitute(ref, {**defaults, **build_args})
            if ref and ref.lower() != "scratch" and ref not in stages:
                bases.append(ref)
                advice.extend(reference_advice(ref, name, number))
            if stage:
                stages.add(stage)
            continue
        elif instruction == "RUN":
            advice.extend(_run_advice(_run_text(rest), name, number))
        if _LATEST.search(line):
            advice.append(Advice(LATEST_TAG, name, number, f"':latest' in `{_clip(line)}`"))
    return advice, bases


def reference_advice(ref: str, file: str | None, line: int | None) -> list[Advice]:
    """A base image reference: pinned by digest, and not `:latest` (written or implied)."""
    found: list[Advice] = []
    if "$" in ref:
        return [Advice(UNPINNED_BASE, file, line, f"FROM {ref} cannot be resolved here")]
    if "@sha256:" not in ref:
        found.append(Advice(UNPINNED_BASE, file, line, f"FROM {ref} is not pinned by @sha256:"))
    name = ref.split("@", 1)[0]
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    if tag == "latest" or (not tag and "@" not in ref):
        what = "is tagged :latest" if tag else "has no tag, which means :latest"
        found.append(Advice(LATEST_TAG, file, line, f"FROM {ref} {what}"))
    return found


def value_advice(kind: str, name: str, value: str) -> list[Advice]:
    """`:latest` in a build argument's value."""
    if _LATEST.search(value):
        return [Advice(LATEST_TAG, None, None, f"{kind} {name} contains ':latest'")]
    return []


def _from_parts(rest: str) -> tuple[str, str | None]:
    words = [w for w in rest.split() if not w.startswith("--")]
    if not words:
        return "", None
    stage = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return words[0], stage


def _run_text(rest: str) -> str:
    words = rest.split()
    while words and words[0].startswith("--"):  # RUN --mount=... --network=...
        words.pop(0)
    text = " ".join(words)
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, list):
            return " ".join(str(p) for p in parsed)
    return text


def _run_advice(command: str, file: str, line: int) -> list[Advice]:
    found: list[Advice] = []
    for simple in _SEPARATORS.split(command):
        try:
            words = shlex.split(simple)
        except ValueError:
            words = simple.split()
        for i in range(len(words) - 1):
            tool, verb = words[i].rsplit("/", 1)[-1], words[i + 1]
            if re.fullmatch(r"pip[0-9.]*", tool) and verb == "install":
                loose = _unpinned(words[i + 2 :], _PIP_VALUED, _pip_pinned)
                if loose:
                    found.append(Advice(UNPINNED_PIP, file, line,
                                        f"pip install without pinned versions: {loose}"))
            elif tool in ("apt-get", "apt", "aptitude") and verb == "install":
                loose = _unpinned(words[i + 2 :], _APT_VALUED, lambda w: "=" in w)
                if loose:
                    found.append(Advice(UNPINNED_APT, file, line,
                                        f"{tool} install without pinned versions: {loose}"))
            elif tool == "npm" and verb in ("install", "i"):
                found.extend(_npm_advice(words[i + 2 :], file, line))
    return found


def _unpinned(args: list[str], valued: frozenset[str], pinned: Callable[[str], bool]) -> str:
    """The package arguments not pinned to a version, comma-separated ('' when none)."""
    loose: list[str] = []
    skip = False
    for i, word in enumerate(args):
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in valued
            continue
        if word == "@" or (i > 0 and args[i - 1] == "@"):
            continue  # `name @ url`: a direct reference
        if i + 1 < len(args) and args[i + 1] == "@":
            continue
        if "$" in word or pinned(word):
            continue
        loose.append(word)
    return ", ".join(loose)


def _pip_pinned(word: str) -> bool:
    return (
        "==" in word
        or "://" in word
        or word.startswith((".", "/", "~", "git+"))
        or word.endswith((".whl", ".tar.gz", ".zip", ".tgz"))
    )


def _npm_advice(args: list[str], file: str, line: int) -> list[Advice]:
    packages = [w for w in args if not w.startswith("-")]
    if not packages:
        return [Advice(NPM_INSTALL, file, line,
                       "npm install resolves package.json ranges; npm ci installs the lockfile")]
    loose = [p for p in packages if "@" not in p.lstrip("@") and "$" not in p]
    if loose:
        return [Advice(NPM_INSTALL, file, line,
                       f"npm install without pinned versions: {', '.join(loose)}")]
    return []


def requirements_advice(name: str, text: str) -> list[Advice]:
    """A requirements file where some requirement carries no `--hash` (pip's hash-checking mode
    needs every one)."""
    total = unhashed = 0
    first: int | None = None
    for number, line in _requirement_lines(text):
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            continue  # -r, -c, --index-url ...: options, not requirements
        total += 1
        if "--hash" not in line:
            unhashed += 1
            first = first or number
    if not unhashed:
        return []
    return [Advice(UNHASHED_REQUIREMENTS, name, first,
                   f"{unhashed} of {total} requirement(s) have no --hash")]


def _requirement_lines(text: str) -> Iterator[tuple[int, str]]:
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(p.strip() for p in parts if p.strip())
        parts = []
        if joined:
            yield start, joined


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
