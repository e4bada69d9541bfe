"""Where each node of a diff report's tree is shown in the HTML page (`Place`), and the small
marks every part of the diff page uses: statuses, values, notes.

Pure; shared by html (the causes link to places), html_structure and html_layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import Change, Node
from .html_page import esc, value_code

_STATUS = {
    "equal": ("=", "equal"),
    "changed": ("≠", "changed"),
    "added": ("+", "only in B"),
    "removed": ("−", "only in A"),
    "incomplete": ("?", "not compared"),
}


@dataclass(frozen=True, slots=True)
class Place:
    """Where one node of the tree is shown: `anchor` for its own changes, `files` for the changed
    paths below it (layers and the merged filesystem), `prefix` the locator those paths extend."""

    anchor: str
    label: str
    node: Node
    role: str  # archive | manifest | child (of an image) | layer | extra
    image: str = ""
    prefix: str | None = None
    files: str | None = None

    def anchor_for(self, change: Change) -> str:
        if self.files and self.prefix and change.locator.startswith(self.prefix + "/"):
            return self.files
        return self.anchor


def iter_places(tree: Node) -> list[Place]:
    """Every node that holds changes, in page order, with a stable anchor."""
    places = [Place("archive", "archives and platforms", tree, "archive")]
    for i, image in enumerate(c for c in tree.children if c.kind == "image"):
        key = image.name
        places.append(Place(f"i{i}-manifest", f"{key} manifest", image, "manifest", key))
        for k, child in enumerate(image.children):
            if child.kind == "config":
                places.append(Place(f"i{i}-config", f"{key} config", child, "child", key))
            elif child.kind == "layers":
                places.append(Place(f"i{i}-layers", f"{key} layers", child, "child", key))
                for j, layer in enumerate(child.children):
                    label = f"{key} {layer_label(layer.name)}"
                    prefix = f"{key}/layers/{layer.name}"
                    places.append(
                        Place(f"i{i}-l{j}", label, layer, "layer", key, prefix, f"i{i}-l{j}-files")
                    )
            elif child.kind == "filesystem":
                label, prefix = f"{key} merged filesystem", f"{key}/filesystem"
                places.append(
                    Place(f"i{i}-fs", label, child, "child", key, prefix, f"i{i}-fs-files")
                )
            else:
                label = f"{key} {child.kind} {child.name}"
                places.append(Place(f"i{i}-n{k}", label, child, "child", key))
    for extra, node in enumerate(c for c in tree.children if c.kind != "image"):
        places.append(Place(f"x{extra}", f"{node.kind} {node.name}", node, "extra"))
    return places


def changes_at(place: Place) -> list[Change]:
    """The changes a place shows: its node's own, and for a node shown whole (a layer, the merged
    filesystem, a kind this page does not know) every descendant's too."""
    if place.role in ("archive", "manifest") or place.node.kind in ("config", "layers"):
        return list(place.node.changes)  # their children are places of their own
    found: list[Change] = []
    stack = [place.node]
    while stack:
        node = stack.pop()
        found.extend(node.changes)
        stack.extend(reversed(node.children))
    return found


def layer_label(name: str) -> str:
    """'2:2' -> 'layer 2'; '1:2' -> 'layer 1 → 2'; '-:3' -> 'layer 3 (only in B)'."""
    old, _, new = name.partition(":")
    if old == new:
        return f"layer {old}"
    if old == "-":
        return f"layer {new} (only in B)"
    if new == "-":
        return f"layer {old} (only in A)"
    return f"layer {old} → {new}"


def status_mark(status: str) -> str:
    symbol, word = _STATUS.get(status, ("?", status))
    return (
        f'<span class="stat s-{esc(status)}"><span aria-hidden="true">{esc(symbol)}</span> '
        f"{esc(word)}</span>"
    )


def value_mark(value: str | None) -> str:
    return value_code(value)


def notes_mark(node: Node) -> str:
    return "".join(f'<p class="note warn">⚠ {esc(note)}</p>' for note in node.notes)
