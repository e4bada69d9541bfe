"""The page shell every HTML report shares: one self-contained document with the inline CSS and
script from `render/assets`, a header, a table of contents, sections, and JSON data for the script.

Pure: values in, bytes out. It never looks at a report and never refers to anything outside the
page (no network, no fonts, no images): a Content-Security-Policy pins the inline style and script
by hash, so markup that slipped through escaping could still not run code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson

DATA_ELEMENT_ID = "ocidiff-data"

# C0 controls (bar tab and newline), DEL, C1 controls and lone surrogates: invalid or invisible in
# HTML, and file names from images may hold any of them. They are shown as escapes instead.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Section:
    """One top-level part of a page: an anchor, a plain-text heading and markup built with `esc`."""

    id: str
    title: str
    body: str
    in_toc: bool = True


def esc(value: object) -> str:
    """Text safe in element content and in double-quoted attributes, controls made visible."""
    return html.escape(printable(str(value)), quote=True)


def printable(text: str) -> str:
    """Controls and lone surrogates as visible escapes (`\\x1b`, `\\udcff`); for text that goes
    into the page's JSON, where the script shows it with textContent."""
    return _UNPRINTABLE.sub(_escape_unprintable, text)


def _escape_unprintable(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def embed_json(value: Any) -> str:
    """JSON that can sit inside <script type="application/json">: `<` never appears, so neither
    `</script>` nor `<!--` can end the element early, whatever the strings hold."""
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def asset(name: str) -> str:
    """One of the page's own assets (CSS, script), shipped as package data."""
    return resources.files("ocidiff.render").joinpath("assets", name).read_text("utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def render_page(
    title: str,
    sections: Sequence[Section],
    *,
    header: str = "",
    data: Mapping[str, Any] | None = None,
    extra_css: str = "",
) -> bytes:
    """A complete HTML document: `header` markup under the title, a table of contents of the
    sections, the sections, and `data` as JSON for the script (read with `data()` in report.js).

    Callers build section bodies with `esc` for every piece of text they did not write."""
    css = asset("report.css") + extra_css
    script = asset("report.js")
    policy = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )
    toc = "".join(
        f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in sections if s.in_toc
    )
    body = "".join(
        f'<section id="{esc(s.id)}" aria-labelledby="{esc(s.id)}-h">'
        f'<h2 id="{esc(s.id)}-h">{esc(s.title)}</h2>{s.body}</section>'
        for s in sections
    )
    payload = (
        f'<script type="application/json" id="{DATA_ELEMENT_ID}">{embed_json(data)}</script>'
        if data is not None
        else ""
    )
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        # The policy is our own text: single quotes and base64 only, safe in double quotes.
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>{esc(title)}</title><style>{css}</style></head>"
        '<body class="nojs"><a class="skip" href="#main">Skip to the report</a>'
        f'<header class="page-head"><h1>{esc(title)}</h1>{header}</header>'
        f'<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>'
        f'<main id="main" tabindex="-1">{body}</main>'
        '<footer class="page-foot"><p>Written by ocidiff. This file is self-contained: it loads '
        "nothing from the network and works opened from disk.</p></footer>"
        f"{payload}<script>{script}</script></body></html>\n"
    )
    return page.encode("utf-8")


def definition_list(pairs: Sequence[tuple[str, str]]) -> str:
    """`<dl>` from (plain-text term, markup) pairs."""
    items = "".join(f"<div><dt>{esc(term)}</dt><dd>{value}</dd></div>" for term, value in pairs)
    return f'<dl class="facts">{items}</dl>'


@dataclass(frozen=True, slots=True)
class Row:
    """One table row. Cells are markup, or (class, markup) pairs such as ("old", ...) and
    ("new", ...) for values side by side; the first `heads` cells are row headings."""

    cells: tuple[str | tuple[str, str], ...]
    cls: str = ""  # e.g. "hl" for a row that differs
    heads: int = 0


def table(caption: str, columns: Sequence[str], rows: Sequence[Row], *, cls: str = "") -> str:
    """A captioned, horizontally scrollable table with plain-text column headings."""
    heads = "".join(f'<th scope="col">{esc(column)}</th>' for column in columns)
    body = "".join(_row(row) for row in rows)
    return (
        f'<div class="table-wrap"><table class="{esc(cls)}"><caption>{esc(caption)}</caption>'
        f"<thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _row(row: Row) -> str:
    cells = []
    for number, cell in enumerate(row.cells):
        cls, markup = cell if isinstance(cell, tuple) else ("", cell)
        tag, scope = ("th", ' scope="row"') if number < row.heads else ("td", "")
        klass = f' class="{esc(cls)}"' if cls else ""
        cells.append(f"<{tag}{scope}{klass}>{markup}</{tag}>")
    klass = f' class="{esc(row.cls)}"' if row.cls else ""
    return f"<tr{klass}>{''.join(cells)}</tr>"


def digest_code(digest: str | None) -> str:
    """A digest shown short on screen (the full text stays selectable and copyable)."""
    if not digest or digest == "-":
        return '<span class="none">none</span>'
    return f'<code class="dg" title="{esc(digest)}">{esc(digest)}</code>'


def value_code(value: str | None, absent: str = "absent") -> str:
    """A value from a report: digests short (as `digest_code`), other text as is."""
    if value is None:
        return f'<span class="none">{esc(absent)}</span>'
    if value.startswith(("sha256:", "sha384:", "sha512:")):
        return digest_code(value)
    return f'<span class="val">{esc(value)}</span>'
