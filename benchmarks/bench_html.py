"""Load time of a large HTML diff report in headless Chromium (a benchmark, not a unit test).

Run: python benchmarks/bench_html.py [--files 100000] [--max-seconds 5] [--keep report.html]
Builds a diff report with FILES changed files over three layers (timestamps, content with text
diffs, files added and removed, in a deep directory tree), renders it to HTML, opens it from disk
in /usr/bin/chromium through Playwright, and reports: render time and size, the time until the
page's script is ready (from navigation start, as the page measures it), and the time a search, a
cause filter and expanding a directory take. Exits 1 when loading takes longer than --max-seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ocidiff.diff.causes import CAUSES  # the path above makes the benchmark runnable as is
from ocidiff.render.html import render_html
from ocidiff.report import SCHEMA, SCHEMA_VERSION, CauseCount, Change, Node, Report, Summary

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = "linux/amd64"


def _path(index: int) -> str:
    return f"usr/lib/python3/site-packages/pkg{index // 2000}/sub{index // 100 % 20}/m{index}.py"


def _layer(number: int, changes: list[Change], entries: list[Node]) -> Node:
    facts = (
        ("old-digest", f"sha256:{number:064x}"),
        ("new-digest", f"sha256:{number + 1:064x}"),
        ("old-diff-id", f"sha256:{number + 2:064x}"),
        ("new-diff-id", f"sha256:{number + 3:064x}"),
        ("old-size", str(40_000_000 * (number + 1))),
        ("new-size", str(40_000_000 * (number + 1) + 977)),
    )
    return Node("layer", f"{number}:{number}", "changed", tuple(changes), tuple(entries), facts)


def make_report(files: int) -> Report:
    """A report with `files` changed files: 60% timestamps, 30% content, 10% added/removed."""
    stamps = int(files * 0.6)
    contents = int(files * 0.3)
    locator = f"{KEY}/layers/0:0"
    layer0 = [
        Change(
            "file-timestamps",
            f"{locator}/{_path(i)}",
            "mtime",
            "2024-06-10T09:53:00Z",
            "2024-06-11T10:41:48Z",
        )
        for i in range(stamps)
    ]
    locator = f"{KEY}/layers/1:1"
    entries = []
    for i in range(stamps, stamps + contents):
        path = _path(i)
        diff = None
        if i % 10 == 0:
            body = "@@ -1,2 +1,2 @@\n import os\n-VERSION = 1\n+VERSION = 2\n"
            diff = f"--- a/{path}\n+++ b/{path}\n{body}"
        change = Change(
            "content",
            f"{locator}/{path}",
            "content",
            "aa" * 8,
            "bb" * 8,
            "1 line removed and 1 added",
        )
        entries.append(
            Node(
                "entry",
                path,
                "changed",
                (change,),
                (),
                (("old-size", "120"), ("new-size", "121")),
                (),
                diff,
            )
        )
    locator = f"{KEY}/layers/2:2"
    layer2 = [
        Change(
            "files-added" if i % 2 else "files-removed",
            f"{locator}/{_path(i)}",
            "path",
            None if i % 2 else "file 10 bytes",
            "file 10 bytes" if i % 2 else None,
        )
        for i in range(stamps + contents, files)
    ]
    layers = (_layer(0, layer0, []), _layer(1, [], entries), _layer(2, layer2, []))
    image = Node(
        "image",
        KEY,
        "changed",
        children=(Node("layers", "layers", "changed", children=layers),),
        facts=(("old-manifest", "sha256:" + "1" * 64), ("new-manifest", "sha256:" + "2" * 64)),
    )
    tree = Node("archive", "a.tar vs b.tar", "changed", children=(image,))
    counts = {"file-timestamps": stamps, "content": contents}
    counts["files-added"] = len([c for c in layer2 if c.cause == "files-added"])
    counts["files-removed"] = len(layer2) - counts["files-added"]
    causes = tuple(
        CauseCount(code, n, False, CAUSES[code].meaning, CAUSES[code].fix, ())
        for code, n in sorted(counts.items(), key=lambda kv: (CAUSES[kv[0]].impact, kv[0]))
    )
    summary = Summary("different", dict(sorted(counts.items())), (), 1, False)
    return Report(SCHEMA, SCHEMA_VERSION, summary, ("a.tar", "b.tar"), {}, causes, tree)


def measure(html: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    results: dict[str, float] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        start = time.perf_counter()
        page.goto(html.as_uri(), timeout=120_000)
        page.wait_for_selector("html[data-ready]", timeout=120_000)
        results["load_wall_s"] = time.perf_counter() - start
        results["ready_ms"] = float(page.get_attribute("html", "data-ready") or "nan")
        for name, action in (
            ("search_ms", lambda: page.fill("#q", "sub7/m1")),
            ("filter_ms", lambda: page.click("button.cf >> nth=0")),
            ("clear_ms", lambda: (page.fill("#q", ""), page.click("[data-clear]"))),
            ("expand_ms", lambda: page.click(".tree-host li.dir > details > summary >> nth=0")),
        ):
            start = time.perf_counter()
            action()
            page.wait_for_timeout(0)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(0)))")
            results[name] = (time.perf_counter() - start) * 1000
        browser.close()
    if errors:
        raise SystemExit(f"page errors: {errors}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--keep", type=Path, help="also write the page here")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    report = make_report(args.files)
    start = time.perf_counter()
    page = render_html(report)
    render_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or Path(tmp) / "report.html")
        path.write_bytes(page)
        print(f"changed files     {args.files}")
        print(f"render            {render_s:.2f} s, {len(page) / 1e6:.1f} MB")
        results = measure(path.resolve())
    print(f"load (wall)       {results['load_wall_s']:.2f} s")
    print(f"script ready at   {results['ready_ms'] / 1000:.2f} s after navigation start")
    for key in ("search_ms", "filter_ms", "clear_ms", "expand_ms"):
        print(f"{key[:-3]:<17} {results[key]:.0f} ms")
    return 0 if results["load_wall_s"] <= args.max_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
