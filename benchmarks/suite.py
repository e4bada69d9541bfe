"""The benchmark suite: ocidiff against the floor on the same synthetic images, in one run.

    .venv/bin/python benchmarks/suite.py --size 1GB [--repeat 3]

Generates (once; cached under benchmarks/work/suite/) BuildKit-like images of SIZE uncompressed
layer bytes each, then runs every command as a child process N times, interleaved, and keeps the
best wall time and the highest peak RSS: the floor (decompress + both sha256, benchmarks/floor.py),
`verify`, `ls --merged` (full inventory), `diff` of two images differing everywhere, `diff` of two
images sharing all but one layer next to `ls` of that one layer and `ls` of both its versions (an
image made of just the two blobs that diff reads), and that diff with a cold and a warm cache.
Writes benchmarks/results/<SIZE>.md and .json (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import measure
import scorecard
import synth_images
from image_set import BlobFacts, ImageFile, ImageSet, read_set
from synth_images import fx  # scripts/fixturelib, put on the path by synth_images

HERE = Path(__file__).resolve().parent
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 1 << 10,
          "MIB": 1 << 20, "GIB": 1 << 30}


def parse_size(text: str) -> tuple[int, str]:
    """'300MB' -> (300_000_000, '300MB'); MB and GB are decimal, MiB and GiB binary."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*", text, re.IGNORECASE)
    unit = (match.group(2) or "B").upper() if match else ""
    unit = unit if unit.endswith("B") else unit + "B"
    if not match or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 300MB or 1GB)")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value < 1_000_000:
        raise argparse.ArgumentTypeError("the smallest size is 1MB")
    label = f"{match.group(1)}{unit.replace('IB', 'iB')}"
    return value, label


@dataclass(frozen=True, slots=True)
class Case:
    row: scorecard.Row
    argv: tuple[str, ...]
    ok_codes: tuple[int, ...] = (0,)
    wipe: Path | None = None  # removed before every run (a cold cache)


@lru_cache
def _supports(command: str, option: str) -> bool:
    """Whether this ocidiff's `command` accepts `option` (the cache options came late).

    Asks the parser rather than reading --help, so a help-rendering problem cannot hide it."""
    probe = [option, "probe"] if option == "--cache-dir" else [option]
    missing = "/nonexistent/ocidiff-benchmark-probe"
    shown = subprocess.run([sys.executable, "-m", "ocidiff", command, *probe, missing, missing],
                           env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
                           capture_output=True, text=True, check=False).stderr
    return "No such option" not in shown


def _blob_spans(image: ImageFile) -> dict[str, tuple[str, int, int, str]]:
    """digest -> (tarball, data offset, size, compression) for the image's layers."""
    kinds = {b.digest: b.compression for b in image.layers}
    spans: dict[str, tuple[str, int, int, str]] = {}
    with tarfile.open(image.path) as archive:
        for member in archive:
            digest = "sha256:" + member.name.rsplit("/", 1)[-1]
            if digest in kinds:
                spans[digest] = (image.path, member.offset_data, member.size, kinds[digest])
    return spans


def _totals(layers: list[BlobFacts]) -> tuple[int, int]:
    return sum(b.size for b in layers), sum(b.uncompressed_size for b in layers)


def build_cases(images: ImageSet, work: Path) -> list[Case]:
    ocidiff = (sys.executable, "-m", "ocidiff")
    a, z, b, c = images.a_gzip, images.a_zstd, images.b_gzip, images.c_gzip
    k = images.changed_layer
    shared = [a.layers[k], c.layers[k]]
    spans = _blob_spans(a) | _blob_spans(z) | _blob_spans(b) | _blob_spans(c)
    cases: list[Case] = []

    def name(path: str) -> str:
        return Path(path).name

    def floor(key: str, title: str, layers: list[BlobFacts]) -> None:
        spec = work / f"{key}.json"
        spec.write_text(json.dumps([spans[blob.digest] for blob in layers]))
        row = scorecard.Row(key, title, f"python benchmarks/floor.py {spec.name}",
                            *_totals(layers), key, False)
        cases.append(Case(row, (sys.executable, str(HERE / "floor.py"), str(spec))))

    def ours(key: str, title: str, args: list[str], layers: list[BlobFacts], floor_key: str | None,
             ok: tuple[int, ...] = (0,), no_cache: bool = True, wipe: Path | None = None) -> None:
        if no_cache and _supports(args[0], "--no-cache"):
            args = [*args, "--no-cache"]
        shown = "ocidiff " + " ".join(name(x) if x.startswith(str(work)) else x for x in args)
        row = scorecard.Row(key, title, shown, *_totals(layers), floor_key, True)
        cases.append(Case(row, (*ocidiff, *args, "-q"), ok, wipe))

    startup = scorecard.Row("startup", "interpreter + CLI start-up", "ocidiff --help", 0, 0, None,
                            True)
    cases.append(Case(startup, (*ocidiff, "--help")))
    for kind, image in (("gzip", a), ("zstd", z)):
        layers = list(image.layers)
        floor(f"floor-{kind}", f"1. floor ({kind})", layers)
        ours(f"verify-{kind}", f"2. verify ({kind})", ["verify", image.path], layers,
             f"floor-{kind}", no_cache=False)
        ours(f"inventory-{kind}", f"3. full inventory ({kind})",
             ["ls", image.path, "--merged", "--format", "jsonl"], layers, f"floor-{kind}")
    everywhere = [*a.layers, *b.layers]
    floor("floor-everywhere", "4. floor, both images", everywhere)
    ours("diff-everywhere", "4. diff, every layer differs", ["diff", a.path, b.path], everywhere,
         "floor-everywhere", ok=(0, 1))
    floor("floor-shared", "5. floor, the differing layer of both", shared)
    ours("diff-shared", "5. diff, all but one layer shared", ["diff", a.path, c.path], shared,
         "floor-shared", ok=(0, 1))
    ours("ls-layer", "5. ls of that one layer alone", ["ls", images.changed_blob, "--format",
         "jsonl"], [c.layers[k]], None)
    # The diff must inventory both versions of the changed layer: this row reads exactly those
    # bytes, with the same inventory work, so diff-shared / ls-both is what the diff adds.
    ours("ls-both", "5. ls of both versions of that layer", ["ls", str(_pair_image(images, work)),
         "--format", "jsonl"], shared, "floor-shared")
    cache = work / "cache-bench"
    for key, title, wipe in (("diff-cold", "6. same diff, cold cache", cache),
                             ("diff-warm", "6. same diff, warm cache", None)):
        ours(key, title, ["diff", a.path, c.path, "--cache-dir", str(cache)], shared,
             "floor-shared", ok=(0, 1), no_cache=False, wipe=wipe)
        if not _supports("diff", "--cache-dir"):
            row = replace(cases[-1].row, pending="this ocidiff has no --cache-dir yet")
            cases[-1] = replace(cases[-1], row=row)
    return cases


def _pair_image(images: ImageSet, work: Path) -> Path:
    """An OCI tarball whose one image holds the changed layer of a-gzip and of c-gzip (made
    once, from the set's own blobs): what the shared-layer diff has to read, and nothing else."""
    k = images.changed_layer
    layers = [images.a_gzip.layers[k], images.c_gzip.layers[k]]
    target = work / f"pair-{images.label}.tar"
    if target.exists():
        return target
    spans = _blob_spans(images.a_gzip) | _blob_spans(images.c_gzip)
    parts = work / f"pair-{images.label}.parts"
    parts.mkdir(exist_ok=True)
    blobs: dict[str, Path | bytes] = {}
    for layer in layers:
        source, offset, size, _ = spans[layer.digest]
        blob = parts / layer.digest.split(":")[1]
        with open(source, "rb") as src, open(blob, "wb") as out:
            src.seek(offset)
            left = size
            while left:  # in pieces: the harness's RSS is in every child's count
                piece = src.read(min(left, 1 << 20))
                out.write(piece)
                left -= len(piece)
        blobs[layer.digest] = blob
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": fx.MT_OCI_MANIFEST,
        "config": {"mediaType": fx.MT_OCI_CONFIG, "digest": fx.sha256_digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": b.media_type, "digest": b.digest, "size": b.size}
                   for b in layers],
    }).encode()
    blobs[fx.sha256_digest(config)] = config
    blobs[fx.sha256_digest(manifest)] = manifest
    index = fx.index_json([{"mediaType": fx.MT_OCI_MANIFEST,
                            "digest": fx.sha256_digest(manifest), "size": len(manifest)}])
    partial = target.with_suffix(".partial")
    synth_images.write_oci_tarball(partial, blobs, index)
    partial.rename(target)
    shutil.rmtree(parts)
    return target


def _warm_page_cache(images: ImageSet) -> None:
    """All inputs in the page cache before timing, as in ../shared/PERFORMANCE.md."""
    for path in [images.changed_blob, *(i.path for i in (images.a_gzip, images.a_zstd,
                                                          images.b_gzip, images.c_gzip))]:
        with open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass


def child_environment(work: Path) -> dict[str, str]:
    """The children's environment: caches in the work directory, bytecode cached.

    An installed ocidiff has its bytecode compiled; a shell with PYTHONDONTWRITEBYTECODE set
    would make every start recompile every module (~60 ms here), so the children keep their
    bytecode under the work directory instead, whatever the caller's setting."""
    scratch = work / "cache-scratch"  # where a default-on layer cache would go: emptied every run
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"OCIDIFF_CACHE_DIR": str(scratch), "XDG_CACHE_HOME": str(scratch),
                  "PYTHONPYCACHEPREFIX": str(work / "pycache")}


def run_cases(cases: list[Case], repeat: int, work: Path) -> list[scorecard.Row]:
    env = child_environment(work)
    scratch = Path(env["OCIDIFF_CACHE_DIR"])
    # One untimed start so that the bytecode exists before the first timed run.
    measure.run_once([sys.executable, "-m", "ocidiff", "--help"], env=env)
    samples: dict[str, list[measure.Sample]] = {case.row.key: [] for case in cases}
    for round_number in range(repeat):
        for case in cases:
            if case.row.pending:
                continue
            shutil.rmtree(scratch, ignore_errors=True)
            if case.wipe is not None:
                shutil.rmtree(case.wipe, ignore_errors=True)
            sample = measure.run_once(case.argv, env=env, ok_codes=case.ok_codes)
            samples[case.row.key].append(sample)
            print(f"  [{round_number + 1}/{repeat}] {case.row.key:18s} {sample.wall:7.2f} s "
                  f"{sample.peak_rss_mib:6.0f} MiB", flush=True)
    rows = []
    for case in cases:
        runs = samples[case.row.key]
        if not runs:
            rows.append(case.row)
            continue
        best = min(runs, key=lambda s: s.wall)
        rows.append(replace(case.row, walls=tuple(s.wall for s in runs), cpu=best.cpu,
                            peak_rss_mib=max(s.peak_rss_mib for s in runs)))
    return rows


def _image_facts(images: ImageSet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, image in images.images().items():
        compressed, uncompressed = _totals(list(image.layers))
        out[key] = {"file": Path(image.path).name, "layers": len(image.layers),
                    "compressed": compressed, "uncompressed": uncompressed,
                    "entries": image.entries, "role": image.role}
    return out


def generate(work: Path, size: int, label: str) -> ImageSet:
    """Run the generator in a child process: numpy and the generator's buffers would otherwise
    swell this process, whose RSS at fork time the kernel counts into every child's peak."""
    result = subprocess.run(
        [sys.executable, str(HERE / "synth_images.py"), "--size-bytes", str(size), "--label",
         label, "--work-dir", str(work)],
        stdout=subprocess.PIPE, text=True, check=True,
    )
    images = read_set(Path(result.stdout.strip()))
    if images is None:
        raise SystemExit(f"the generator left no usable image set in {work}")
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=parse_size("300MB"),
                        help="uncompressed layer bytes per image, e.g. 100MB, 1GB, 4GB")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (best is kept)")
    parser.add_argument("--work-dir", type=Path, default=HERE / "work" / "suite")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--note", default="", help="a sentence for the results, e.g. the load")
    args = parser.parse_args(argv)
    size, label = args.size
    args.work_dir.mkdir(parents=True, exist_ok=True)
    images = generate(args.work_dir, size, label)
    cases = build_cases(images, args.work_dir)
    _warm_page_cache(images)
    print(f"running {len(cases)} measurements x {args.repeat} on {label} images", flush=True)
    machine = measure.machine()
    rows = run_cases(cases, max(1, args.repeat), args.work_dir)
    harness = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    meta = {"size": {"label": label, "bytes": size}, "repetitions": max(1, args.repeat),
            "note": args.note, "machine": machine, "images": _image_facts(images),
            "harness_rss_mib": round(harness, 1),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    doc = scorecard.document(meta, rows)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{label}.json").write_text(scorecard.dump_json(doc))
    markdown = scorecard.render_markdown(doc)
    (args.results_dir / f"{label}.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
