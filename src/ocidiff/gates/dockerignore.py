"""`.dockerignore` patterns as the Docker documentation defines them; pure, no filesystem access.

Rules implemented (Docker docs, "Dockerignore files"): a line whose first column is `#` is a
comment; every other line is trimmed, and lines blank after that are skipped; `!` makes an
exception; a pattern is cleaned like Go's `filepath.Clean` (so `./a`, `a/` and `a/./b/..` mean
`a`) and a leading `/` is dropped, because the context root is both the working and the root
directory; globs follow Go's `filepath.Match` (`*` and `?` never cross `/`, `[...]` classes negated
by `^`, `\\` escapes) plus `**`, which matches any number of directories, none included. A
pattern excludes a path when it matches the path or one of its parent directories, and the last
pattern that matches decides, so a later `!` line re-includes what an earlier line excluded.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True, slots=True)
class IgnorePattern:
    text: str  # the cleaned pattern, without its `!`
    exception: bool
    line: int  # 1-based line in the ignore file (0 for patterns given on the command line)
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """An ordered list of patterns; `excludes(path)` answers for a context-relative path."""

    patterns: tuple[IgnorePattern, ...] = ()

    @property
    def has_exceptions(self) -> bool:
        return any(p.exception for p in self.patterns)

    def excludes(self, path: str) -> bool:
        """Whether `path` (relative to the context root, `/`-separated, no `./`) is left out."""
        candidates = _self_and_parents(path)
        excluded = False
        for pattern in self.patterns:
            # Only a pattern that could flip the current answer needs evaluating.
            if pattern.exception != excluded:
                continue
            if any(pattern.regex.fullmatch(c) for c in candidates):
                excluded = not pattern.exception
        return excluded

    def __add__(self, other: IgnoreRules) -> IgnoreRules:
        return IgnoreRules(self.patterns + other.patterns)


def _self_and_parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def parse_ignore_file(text: str, *, source: str = ".dockerignore") -> IgnoreRules:
    """Parse the text of an ignore file; a malformed pattern is a UsageError naming its line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    patterns: list[IgnorePattern] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("#"):
            continue
        pattern = _compile(raw, number, source)
        if pattern is not None:
            patterns.append(pattern)
    return IgnoreRules(tuple(patterns))


def compile_patterns(lines: Iterable[str], *, source: str = "--exclude") -> IgnoreRules:
    """Patterns given one by one (command-line options), with the same syntax as the file."""
    found = (_compile(line, 0, source) for line in lines)
    return IgnoreRules(tuple(p for p in found if p is not None))


def _compile(raw: str, line: int, source: str) -> IgnorePattern | None:
    text = raw.strip()
    if not text:
        return None
    exception = text.startswith("!")
    if exception:
        text = text[1:].strip()
        if not text:
            raise UsageError(f"line {line}: '!' without a pattern", file=source)
    text = _clean(text)
    try:
        regex = re.compile(_translate(text))
    except (ValueError, re.error) as exc:
        raise UsageError(f"line {line}: bad pattern {text!r}: {exc}", file=source) from None
    return IgnorePattern(text, exception, line, regex)


def _clean(text: str) -> str:
    """Go's filepath.Clean on a `/` path, then the leading `/` dropped (context-relative)."""
    cleaned = posixpath.normpath(text)
    if cleaned.startswith("//"):  # normpath keeps a POSIX double slash; Clean does not
        cleaned = "/" + cleaned.lstrip("/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


def _translate(pattern: str) -> str:
    """A Python regex equivalent to the glob; raises ValueError on a malformed class."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                while i < n and pattern[i] == "*":
                    i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                # `**` at the end takes everything; elsewhere it spans whole directories.
                out.append(".*" if i >= n else "(?:.*/)?")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            cls, i = _char_class(pattern, i)
            out.append(cls)
            continue
        elif char == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash")
            out.append(re.escape(pattern[i + 1]))
            i += 1
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _char_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate `[...]` at `start`; returns the regex class and the index after `]`."""
    i = start + 1
    negated = i < len(pattern) and pattern[i] == "^"
    if negated:
        i += 1
    items: list[str] = []
    while True:
        if i >= len(pattern):
            raise ValueError("unterminated character class")
        if pattern[i] == "]" and items:
            break
        low, i = _class_char(pattern, i)
        if i + 1 < len(pattern) and pattern[i] == "-" and pattern[i + 1] != "]":
            high, i = _class_char(pattern, i + 1)
            if high < low:
                raise ValueError(f"character range {low}-{high} runs backwards")
            items.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            items.append(re.escape(low))
    return ("[^" if negated else "[") + "".join(items) + "]", i + 1


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if pattern[i] == "\\":
        if i + 1 >= len(pattern):
            raise ValueError("unterminated character class")
        return pattern[i + 1], i + 2
    return pattern[i], i + 1


def could_match_below(rules: IgnoreRules, directory: str) -> bool:
    """Whether an exception pattern might re-include something under an excluded `directory`.

    Used to prune the walk of the build context: a directory excluded with no exception that can
    reach inside it is skipped whole, as Docker's own context walk does."""
    depth = directory.count("/") + 1
    for pattern in rules.patterns:
        if not pattern.exception:
            continue
        if "**" in pattern.text:
            return True  # spans any depth: cannot rule it out cheaply
        parts = pattern.text.split("/")
        # Without `**` a pattern matches paths of exactly its own depth, so it reaches inside
        # `directory` only when it is deeper and its leading components match the directory.
        if len(parts) > depth and re.fullmatch(_translate("/".join(parts[:depth])), directory):
            return True
    return False
