"""Text from images made safe to print: the one rule every text output applies to names,
tags and values that an archive chose, so that none of them can drive a terminal."""

from __future__ import annotations

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal_safe(text: str) -> str:
    """Text from an image, made safe for a terminal: every character that is not printable
    (controls such as ESC, which could drive the terminal, line breaks, bidirectional overrides)
    as a backslash escape, bytes that were not UTF-8 as `\\xNN`; printable text unchanged."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: one undecodable byte of a name
        return f"\\x{code - 0xDC00:02x}"
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Characters a line of file content may not show raw either: controls except tab, and the
# bidirectional and line-breaking format characters that can make code read as other code.
CONTENT_ESCAPES = {
    code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in (
        *range(0x09),
        *range(0x0A, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x2028, 0x202F),
        *range(0x2066, 0x206A),
    )
}
