"""The one exception family of ocidiff.

Every failure caused by input (a damaged archive, a hostile header, a missing blob) is an
`OcidiffError` subclass carrying a locator: the file, the blob or member, and the byte offset.
Anything else escaping the library is a bug. Messages start lowercase and state the fact; advice
goes in `hint`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Locator:
    """Where in the input a problem sits; every part is optional and filled in as it is known."""

    file: str | None = None
    blob: str | None = None
    member: str | None = None
    offset: int | None = None
    pointer: str | None = None  # JSON pointer inside a document

    def merged(self, outer: Locator) -> Locator:
        """Fill the parts this locator lacks from an outer (less specific) one."""
        return Locator(
            file=self.file if self.file is not None else outer.file,
            blob=self.blob if self.blob is not None else outer.blob,
            member=self.member if self.member is not None else outer.member,
            offset=self.offset if self.offset is not None else outer.offset,
            pointer=self.pointer if self.pointer is not None else outer.pointer,
        )

    def describe(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file)
        if self.blob is not None:
            parts.append(f"blob {self.blob}")
        if self.member is not None:
            parts.append(f"member {self.member!r}")
        if self.pointer is not None:
            parts.append(f"at {self.pointer or '/'}")
        if self.offset is not None:
            parts.append(f"offset {self.offset}")
        return ": ".join(parts)


class OcidiffError(Exception):
    """Root of every error ocidiff raises on purpose."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        locator: Locator | None = None,
        hint: str | None = None,
        **where: str | int | None,
    ) -> None:
        super().__init__(message)
        self.message = message
        base = locator or Locator()
        self.locator = replace(base, **where) if where else base  # type: ignore[arg-type]
        self.hint = hint

    def located(self, outer: Locator | None = None, **where: str | int | None) -> OcidiffError:
        """Return this error with missing locator parts filled from the caller's context."""
        ctx = replace(outer or Locator(), **where) if where else (outer or Locator())  # type: ignore[arg-type]
        self.locator = self.locator.merged(ctx)
        return self

    def one_line(self) -> str:
        """The single line shown to a person: locator, fact, and hint."""
        where = self.locator.describe()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return " ".join(text.split("\n"))

    def __str__(self) -> str:
        return self.one_line()


class InputError(OcidiffError):
    """The input is damaged, malformed or hostile."""


class TarError(InputError):
    """A tar stream (outer archive or layer) cannot be parsed."""


class CompressionError(InputError):
    """A compressed stream is corrupt or truncated."""


class ImageFormatError(InputError):
    """A JSON document or the archive layout does not follow the OCI or Docker formats."""


class DigestMismatchError(InputError):
    """Content does not hash to the digest that names it."""

    def __init__(self, message: str, *, expected: str, actual: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.expected = expected
        self.actual = actual


class MissingBlobError(InputError):
    """A referenced blob is not in the archive."""


class LimitExceededError(InputError):
    """A safety limit tripped; the message names the limit and the option that raises it."""

    def __init__(self, message: str, *, limit: str, option: str, **kw: object) -> None:
        hint = kw.pop("hint", None) or f"raise it with {option} if the input is trusted"
        super().__init__(message, hint=hint, **kw)  # type: ignore[arg-type]
        self.limit = limit
        self.option = option


class UnsupportedError(OcidiffError):
    """The input is valid but uses a feature ocidiff does not handle."""


class UsageError(OcidiffError):
    """The command line or options are inconsistent (bad platform string, unknown cause code)."""
