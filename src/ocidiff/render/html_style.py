"""How causes look in an HTML report: one colour and one fill pattern per cause, always with the
cause's name beside them, so colour is never the only signal (print, colour blindness).

Owns the palette, the matching CSS classes, the SVG pattern definitions and the badge markup; the
CSS and the SVG come from the same table so a chart and its legend can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .html_page import esc

# Okabe & Ito's palette (distinguishable with the common colour-vision deficiencies), in an order
# that keeps neighbours far apart; grey last.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#e69f00", "#cc79a7", "#56b4e9", "#b8a300", "#7f7f7f")
# Fill patterns: a white overlay drawn over the colour, so the colour stays visible.
PATTERNS = ("solid", "diagonal", "dots", "horizontal", "cross", "vertical")


@dataclass(frozen=True, slots=True)
class CauseStyles:
    """The style index of each cause code in one report: the rank order, so the most important
    causes get the most distinct looks."""

    codes: tuple[str, ...]

    @classmethod
    def of(cls, ranked: Iterable[str], others: Iterable[str] = ()) -> CauseStyles:
        seen = dict.fromkeys(ranked)
        seen.update(dict.fromkeys(sorted(set(others) - set(seen))))
        return cls(tuple(seen))

    def index(self, code: str) -> int:
        try:
            return self.codes.index(code)
        except ValueError:
            return len(self.codes)

    def code_at(self, index: int) -> str:
        return self.codes[index] if 0 <= index < len(self.codes) else "unknown"

    def classes(self, code: str) -> str:
        return style_classes(self.index(code))

    def badge(self, code: str, count: int | None = None) -> str:
        """A cause label: swatch (colour and pattern) plus the code in text."""
        number = f' <span class="bn">{count}</span>' if count is not None else ""
        return (
            f'<span class="bdg {self.classes(code)}"><span class="sw" aria-hidden="true"></span>'
            f"{esc(code)}{number}</span>"
        )


def style_classes(index: int) -> str:
    return f"c{index % len(PALETTE)} p{index % len(PATTERNS)}"


def style_css() -> str:
    """CSS for the `cN` colour and `pN` pattern classes used by badges and swatches."""
    rules = [f".c{i}{{--cc:{colour}}}" for i, colour in enumerate(PALETTE)]
    white = "rgba(255,255,255,.75)"
    images = {
        "solid": "none",
        "diagonal": f"repeating-linear-gradient(45deg,{white} 0 2px,transparent 2px 6px)",
        "dots": f"radial-gradient({white} 1.3px,transparent 1.6px)",
        "horizontal": f"repeating-linear-gradient(0deg,{white} 0 2px,transparent 2px 5px)",
        "cross": f"repeating-linear-gradient(45deg,{white} 0 1.5px,transparent 1.5px 6px),"
        f"repeating-linear-gradient(-45deg,{white} 0 1.5px,transparent 1.5px 6px)",
        "vertical": f"repeating-linear-gradient(90deg,{white} 0 2px,transparent 2px 5px)",
    }
    for i, name in enumerate(PATTERNS):
        size = "background-size:5px 5px;" if name == "dots" else ""
        rules.append(f".p{i} .sw,.sw.p{i}{{background-image:{images[name]};{size}}}")
    return "\n".join(rules) + "\n"


def svg_patterns(prefix: str, indices: Sequence[int]) -> str:
    """SVG <pattern> definitions `{prefix}-s{N}` matching `style_classes(N)`."""
    parts = []
    for index in sorted(set(indices)):
        colour = PALETTE[index % len(PALETTE)]
        kind = PATTERNS[index % len(PATTERNS)]
        parts.append(
            f'<pattern id="{esc(prefix)}-s{index}" width="6" height="6" '
            f'patternUnits="userSpaceOnUse">{_pattern_body(kind, colour)}</pattern>'
        )
    return "".join(parts)


def _pattern_body(kind: str, colour: str) -> str:
    base = f'<rect width="6" height="6" fill="{colour}"/>'
    ink = 'stroke="#fff" stroke-opacity=".75" stroke-width="1.6"'
    overlays = {
        "solid": "",
        "diagonal": f'<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" {ink}/>',
        "dots": '<circle cx="3" cy="3" r="1.3" fill="#fff" fill-opacity=".75"/>',
        "horizontal": f'<path d="M0,3 h6" {ink}/>',
        "cross": f'<path d="M0,0 l6,6 M6,0 l-6,6" {ink}/>',
        "vertical": f'<path d="M3,0 v6" {ink}/>',
    }
    return base + overlays[kind]
