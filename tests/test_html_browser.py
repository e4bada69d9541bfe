"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Checks what a reader relies on: no console errors, the verdict and the causes visible, folding,
the cause filter, search, keyboard access, the page without JavaScript, printing, lazy rendering
of a large tree, and a screenshot compared for gross changes with a committed small reference.
Reference thumbnails are rewritten with OCIDIFF_UPDATE_HTML_REFERENCE=1 (review them in the diff).
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocidiff.render.html import render_html

from .test_html import PAIRS, many_files_report, pair_report, tree_paths

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the optional `browser` extra is not installed
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
REFERENCE = Path(__file__).resolve().parent / "html_reference"
# Flags for a quiet, hermetic headless run: no network chatter, no first-run or sync machinery.
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
VIEWPORT = {"width": 1000, "height": 1000}
REFERENCE_SIZE = 100  # committed thumbnails are 100 x 100 pixels
THUMB = 20  # compared at 20 x 20: text turns to texture, boxes and colours remain
TOLERANCE = 0.01  # mean absolute difference per colour channel (0..1)

pytestmark = [
    pytest.mark.skipif(
        sync_playwright is None,
        reason="playwright is not installed (pip install -e '.[browser]')",
    ),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # launch() gives every run a fresh temporary profile (user-data-dir), removed on close.
    with sync_playwright() as driver:
        instance = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("html")
    found = {}
    for name in PAIRS:
        found[name] = folder / f"{name}.html"
        found[name].write_bytes(render_html(pair_report(name)))
    found["large"] = folder / "large.html"
    found["large"].write_bytes(render_html(many_files_report(3000)))
    return found


class Opened:
    """A page plus everything it said on the console."""

    def __init__(self, browser: Browser, path: Path, *, javascript: bool = True) -> None:
        self.context = browser.new_context(java_script_enabled=javascript, viewport=VIEWPORT)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.page.goto(path.as_uri())
        if javascript:
            self.page.wait_for_selector("html[data-ready]", timeout=15_000)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def opened(browser: Browser, pages: dict[str, Path]) -> Iterator[Any]:
    made: list[Opened] = []

    def open_page(name: str, *, javascript: bool = True) -> Opened:
        made.append(Opened(browser, pages[name], javascript=javascript))
        return made[-1]

    yield open_page
    for item in made:
        assert not item.problems, item.problems
        item.close()


def visible_files(page: Page) -> list[str]:
    """The names of the file rows a reader can see."""
    return page.eval_on_selector_all(
        ".tree-host li.file > details > summary .nm",
        "els => els.filter(e => e.checkVisibility()).map(e => e.textContent)",
    )


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_verdict_and_causes_are_visible(opened: Any, name: str) -> None:
    report = pair_report(name)
    page = opened(name).page
    word = {"equivalent": "Equivalent", "different": "Different"}[report.summary.verdict]
    assert page.locator(".verdict .vword").inner_text().strip().endswith(word)
    assert page.locator(".vnext").is_visible()
    for cause in report.causes:
        if cause.ignored:
            continue
        item = page.locator(f"#cause-{cause.code}")
        assert item.is_visible()
        assert cause.fix in item.inner_text()
    assert page.locator("[data-controls]").is_visible()
    assert visible_files(page), "no file row visible"


def test_folding_a_directory(opened: Any) -> None:
    page = opened("depbump").page
    top = page.locator(".tree-host li.dir > details").first
    assert top.get_attribute("open") is not None  # a small tree opens fully
    shown = len(visible_files(page))
    top.locator("> summary").click()
    assert top.get_attribute("open") is None
    assert len(visible_files(page)) < shown
    top.locator("> summary").click()
    assert len(visible_files(page)) == shown
    row = page.locator(".tree-host li.file > details").first
    row.locator("> summary").click()  # a file row opens on its changed fields
    expect(row.locator("table.chg").first).to_be_visible()


def test_cause_filter(opened: Any) -> None:
    paths = tree_paths(pair_report("depbump"))
    total = len(paths)
    leaves = [p for p in paths if not any(q.startswith(p + "/") for q in paths)]
    page = opened("depbump").page
    everything = sorted(visible_files(page))
    assert len(everything) == len(leaves)
    page.locator("button.cf", has_text="files-added").click()
    assert page.locator("button.cf", has_text="files-added").get_attribute("aria-pressed") == "true"
    rows = page.locator(".tree-host li.file").filter(has=page.locator(".nm:visible"))
    assert sorted(visible_files(page)) == ["METADATA", "RECORD"]
    for index in range(rows.count()):
        assert "files-added" in rows.nth(index).locator("> details > summary").inner_text()
    assert f"of {total} changed entries match" in page.locator("[data-status]").inner_text()
    page.locator("[data-clear]").click()
    assert sorted(visible_files(page)) == everything
    # The causes section links down to where a cause occurs, filtered to it.
    page.locator("#cause-content a[data-filter]").first.click()
    assert page.locator("button.cf", has_text="content").get_attribute("aria-pressed") == "true"
    assert visible_files(page) == ["__version__.py"]
    assert page.locator("#i0-l0-files").is_visible()


def test_search(opened: Any) -> None:
    total = len(tree_paths(pair_report("depbump")))
    page = opened("depbump").page
    shown = len(visible_files(page))
    page.fill("#q", "METADATA")
    expect(page.locator("[data-status]")).to_contain_text(f"2 of {total}")  # after the debounce
    assert visible_files(page) == ["METADATA", "METADATA"]
    assert page.locator("[data-count]").first.inner_text() == f"2 of {total} changed entries match"
    page.fill("#q", "no-such-path")
    expect(page.locator("[data-status]")).to_contain_text(f"0 of {total}")
    assert visible_files(page) == []
    page.locator("#q").press("Escape")
    expect(page.locator("[data-status]")).to_have_text("")
    assert len(visible_files(page)) == shown


def test_keyboard_reaches_every_control(opened: Any) -> None:
    page = opened("srcchange").page
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate(
                "() => { const e = document.activeElement; return e.id === 'q' ? 'search' :"
                " e.matches('button.cf') ? 'filter' : e.matches('.tree-host summary') ? 'tree' :"
                " e.matches('.skip') ? 'skip' : e.matches('.causes a') ? 'cause-link' : '' }"
            )
        )
    assert {"skip", "cause-link", "search", "filter", "tree"} <= reached
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    first = page.locator(".tree-host summary").first
    first.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.querySelector('.nm').textContent") == "util.py"
    page.keyboard.press("Enter")  # native: toggles the row
    assert page.locator(".tree-host li.file > details").first.get_attribute("open") is not None
    page.keyboard.press("ArrowLeft")
    assert page.locator(".tree-host li.file > details").first.get_attribute("open") is None


@pytest.mark.parametrize("name", ["twice", "depbump"])
def test_page_without_javascript(opened: Any, name: str) -> None:
    report = pair_report(name)
    page = opened(name, javascript=False).page
    assert page.locator(".verdict .vword").is_visible()
    for cause in report.causes:
        assert cause.fix in page.locator(f"#cause-{cause.code}").inner_text()
    assert not page.locator("[data-controls]").is_visible()  # needs the script: not offered
    assert page.locator("html").get_attribute("data-ready") is None
    rows = page.locator(".tree-host li.row")
    assert rows.count() >= 2
    row = page.locator(".tree-host li.file > details").first
    row.locator("> summary").click()  # <details> folds without any script
    expect(row.locator("table.chg").first).to_be_visible()


def test_print_stylesheet(opened: Any) -> None:
    page = opened("depbump").page
    page.emulate_media(media="print")
    assert not page.locator("[data-controls]").is_visible()
    assert not page.locator("nav.toc").is_visible()
    assert page.locator(".verdict").is_visible()


def test_large_tree_renders_lazily(opened: Any) -> None:
    page = opened("large").page
    rendered = page.locator(".tree-host li.row").count()
    assert rendered < 200  # 3000 files in 30 directories: only the directories at first
    folder = page.locator(".tree-host li.dir > details").nth(3)
    assert folder.get_attribute("open") is None
    folder.locator("> summary").click()
    expect(folder.locator("li.file")).to_have_count(100)  # rendered on the toggle event
    page.fill("#q", "d27/f2777")
    expect(page.locator("[data-status]")).to_contain_text("1 of 3000")
    assert visible_files(page) == ["f2777.txt"]
    page.fill("#q", "")
    expect(page.locator("[data-status]")).to_have_text("")
    page.locator("button.cf", has_text="permissions").click()
    assert "1500 of 3000 changed entries match" in page.locator("[data-status]").inner_text()


def thumbnail(page: Page, png: bytes, size: int) -> tuple[list[float], bytes]:
    """A PNG scaled to size x size by the browser (no imaging library here): its RGB values in
    0..1 and the scaled PNG."""
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    result = page.evaluate(
        """async ([url, size]) => {
            const img = new Image(); img.src = url; await img.decode();
            const c = document.createElement('canvas'); c.width = size; c.height = size;
            const g = c.getContext('2d'); g.imageSmoothingQuality = 'high';
            g.drawImage(img, 0, 0, size, size);
            const rgb = Array.from(g.getImageData(0, 0, size, size).data)
                .filter((_, i) => i % 4 !== 3).map(v => v / 255);
            return [rgb, c.toDataURL('image/png')];
        }""",
        [url, size],
    )
    return result[0], base64.b64decode(result[1].split(",", 1)[1])


def distance(a: list[float], b: list[float]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@pytest.mark.parametrize("name", ["twice", "depbump"])
def test_screenshot_matches_reference(opened: Any, name: str, tmp_path: Path) -> None:
    """The top of the page (verdict and causes) against a committed 100x100 thumbnail, compared
    at 20x20 in colour. Measured here: another font family (Liberation for DejaVu) moves the
    distance by about 0.006; a missing verdict box by 0.012, a missing stylesheet by 0.03."""
    page = opened(name).page
    shot = page.screenshot()
    (tmp_path / f"{name}.png").write_bytes(shot)  # kept by pytest for a look after a failure
    blank = page.context.new_page()
    _, small = thumbnail(blank, shot, REFERENCE_SIZE)
    reference = REFERENCE / f"{name}.png"
    if os.environ.get("OCIDIFF_UPDATE_HTML_REFERENCE") == "1":
        reference.write_bytes(small)
    now, _ = thumbnail(blank, small, THUMB)
    expected, _ = thumbnail(blank, reference.read_bytes(), THUMB)
    found = distance(now, expected)
    assert found < TOLERANCE, f"{name}: {found:.4f} from {reference} (screenshot in {tmp_path})"
    # The comparison can fail: the other page's reference is beyond the tolerance.
    other = REFERENCE / ("depbump.png" if name == "twice" else "twice.png")
    if other.exists():  # absent only while the references are first written
        far, _ = thumbnail(blank, other.read_bytes(), THUMB)
        assert distance(now, far) > TOLERANCE
