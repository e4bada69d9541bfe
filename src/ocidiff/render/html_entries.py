"""The markup of file-tree rows in an HTML diff report, written the same way report.js writes
them (rows, one entry's changed fields and facts, its text diff), for readers without JavaScript.

Pure. Works on the flat records html_files embeds: strings are indices into its strings table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .html_page import esc
from .html_style import CauseStyles

STATUS_WORDS = {
    "a": ("+", "only in B"),
    "r": ("−", "only in A"),
    "m": ("→", "moved"),
    "t": ("≠", "type changed"),
    "c": ("~", "changed"),
}


def static_tree(
    nodes: list[dict[str, Any]], strings: list[str], styles: CauseStyles, rows: int
) -> str:
    """Nested <details> for the first `rows` nodes in pre-order, and a note for the rest."""
    shown = nodes[:rows]
    parts: list[str] = ['<ul class="tree">']
    depth_stack: list[int] = [-1]
    for index, record in enumerate(shown):
        while depth_stack[-1] != record["p"]:
            depth_stack.pop()
            parts.append("</ul></details></li>")
        has_children = index + 1 < len(shown) and shown[index + 1]["p"] == index
        parts.append(_static_row(record, strings, styles, has_children, len(nodes) <= 60))
        if has_children:
            parts.append('<ul class="tree">')
            depth_stack.append(index)
        else:
            parts.append("</details></li>")
    while len(depth_stack) > 1:
        depth_stack.pop()
        parts.append("</ul></details></li>")
    parts.append("</ul>")
    if len(nodes) > rows:
        rest = sum(1 for r in nodes[rows:] if "x" in r)
        parts.append(
            f'<p class="note">{rest} more changed entries are listed when JavaScript is enabled; '
            "all of them are in the JSON report (--format json).</p>"
        )
    return "".join(parts)


def _static_row(
    record: dict[str, Any],
    strings: list[str],
    styles: CauseStyles,
    has_children: bool,
    small: bool,
) -> str:
    """The opening of one row; the caller closes it after the children."""
    badges = "".join(styles.badge(styles.code_at(i)) for i in record["c"])
    name = esc(record["n"]) + ("/" if has_children else "")
    if "x" not in record:
        return (
            f'<li class="row dir"><details{" open" if small else ""}><summary>'
            f'<span class="nm">{name}</span> <span class="cnt">{record["e"]} changed</span> '
            f'<span class="bdgs">{badges}</span></summary>'
        )
    symbol, word = STATUS_WORDS[record["s"]]
    brief = change_brief(record["x"], strings) if record["x"] else ""
    kind = "dir" if has_children else "file"
    opened = " open" if has_children and small else ""
    return (
        f'<li class="row {kind} st-{record["s"]}"><details{opened}><summary>'
        f'<span class="st" title="{esc(word)}">{esc(symbol)}<span class="vh"> {esc(word)}</span>'
        f'</span> <span class="nm">{name}</span> <span class="bdgs">{badges}</span> '
        f'<span class="brief">{esc(brief)}</span></summary><div class="entry">'
        f"{change_table(record['x'], strings, styles)}{fact_table(record.get('f'), strings)}"
        f"{text_diff(record.get('d'))}</div>"
    )


def change_brief(changes: Sequence[Sequence[int | None]], strings: Sequence[str]) -> str:
    """One line for a summary row: what changed, in the fewest words (report.js `brief` is the
    same rule), e.g. "mtime: 2024-06-10T09:53:00Z → 2024-06-11T10:41:48Z (+1 more)"."""
    field_, old, new, detail = (strings[i] if i is not None else None for i in changes[0][1:5])
    if detail and (field_ == "content" or (old is None and new is None)):
        text = detail
    elif field_ == "path" and old is not None and new is not None:
        text = f"→ {new}"
    elif field_ == "path":
        text = (new if old is None else old) or ""
    else:
        values = f"{'(none)' if old is None else old} → {'(none)' if new is None else new}"
        text = f"{field_}: {values}" if field_ else values
    more = len(changes) - 1
    return text + (f" (+{more} more)" if more else "")


def change_table(
    changes: Sequence[Sequence[int | None]], strings: Sequence[str], styles: CauseStyles
) -> str:
    def text(i: int | None, absent: str = "") -> str:
        return absent if i is None else esc(strings[i])

    gone = '<span class="none">absent</span>'
    rows = "".join(
        f"<tr><td>{styles.badge(styles.code_at(c[0] or 0))}</td>"
        f'<td>{text(c[1])}</td><td class="old">{text(c[2], gone)}</td>'
        f'<td class="new">{text(c[3], gone)}</td><td>{text(c[4])}</td></tr>'
        for c in changes
    )
    return (
        '<table class="chg"><thead><tr><th scope="col">cause</th><th scope="col">field</th>'
        '<th scope="col">A</th><th scope="col">B</th><th scope="col">detail</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def fact_rows(facts: Sequence[tuple[str, str]]) -> list[tuple[str, str | None, str | None]]:
    """Facts as (name, A, B) rows: `old-X`/`new-X` pairs side by side, others in A alone
    (report.js `factRows` is the same rule)."""
    rows: list[tuple[str, str | None, str | None]] = []
    seen: dict[str, int] = {}
    for key, value in facts:
        side, _, name = key.partition("-")
        if side in ("old", "new") and name:
            if name not in seen:
                seen[name] = len(rows)
                rows.append((name, None, None))
            label, a, b = rows[seen[name]]
            rows[seen[name]] = (label, value, b) if side == "old" else (label, a, value)
        else:
            rows.append((key, value, None))
    return rows


def fact_table(facts: Sequence[Sequence[int | None]] | None, strings: Sequence[str]) -> str:
    if not facts:
        return ""
    pairs = [(strings[k or 0], strings[v] if v is not None else "") for k, v in facts]
    rows = "".join(
        f'<tr><th scope="row">{esc(name)}</th>'
        + (
            f'<td colspan="2">{esc(a or "")}</td>'
            if b is None
            else f'<td class="old">{esc(a or "")}</td><td class="new">{esc(b)}</td>'
        )
        + "</tr>"
        for name, a, b in fact_rows(pairs)
    )
    return (
        '<table class="chg facts-t"><thead><tr><th scope="col">fact</th><th scope="col">A</th>'
        f'<th scope="col">B</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def text_diff(text: str | None) -> str:
    """A unified diff, each line marked by its first character (+, -, @), not by colour alone."""
    if not text:
        return ""
    lines = []
    for number, line in enumerate(text.splitlines()):
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        if number < 2 and line.startswith(("--- ", "+++ ")):
            kind = "hdr"  # the file names, not a removed or added line
        lines.append(f'<span class="l-{kind}">{esc(line)}</span>')
    return f'<pre class="tdiff">{chr(10).join(lines)}</pre>'
