"""Package databases: parsing, path conventions and the dependency-change explainer."""

from __future__ import annotations

import json

import pytest

from ocidiff.diff.content import explain_content
from ocidiff.diff.findings import ContentFormatError
from ocidiff.diff.packages import Package, package_changes, package_from_path, parse_packages

from .samples import alpine_installed, apk_installed, dpkg_status, package_json, python_metadata

DPKG = "var/lib/dpkg/status"
APK = "lib/apk/db/installed"


def pypi(name: str, version: str = "") -> Package:
    return Package("pypi", name, version)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("usr/lib/python3/site-packages/requests-2.32.0.dist-info/RECORD",
         pypi("requests", "2.32.0")),
        ("site-packages/requests-2.31.0.dist-info", pypi("requests", "2.31.0")),
        ("/sp/python_dateutil-2.8.2.dist-info/METADATA", pypi("python_dateutil", "2.8.2")),
        ("sp/python-dateutil-2.8.2.dist-info/METADATA", pypi("python-dateutil", "2.8.2")),
        ("sp/zope.interface-6.0-py3.11.egg-info/PKG-INFO", pypi("zope.interface", "6.0")),
        ("sp/legacy-1.0.egg-info", pypi("legacy", "1.0")),
        ("sp/noversion.egg-info/PKG-INFO", pypi("noversion")),
        ("app/node_modules/lodash/package.json", Package("npm", "lodash", "")),
        ("app/node_modules/@babel/core/package.json", Package("npm", "@babel/core", "")),
        ("node_modules/a/node_modules/b/package.json", Package("npm", "b", "")),
        ("./node_modules/left-pad/package.json", Package("npm", "left-pad", "")),
        ("app/package.json", None),
        ("node_modules/a/lib/package.json", None),
        ("usr/bin/python3", None),
        (".dist-info", None),
    ],
)
def test_package_from_path(path: str, expected: Package | None) -> None:
    assert package_from_path(path) == expected


def test_dpkg_status_parsing_skips_removed_and_qualifies_multiarch() -> None:
    data = dpkg_status([("bash", "5.2-1"), ("libc6", "2.36-9")])
    data += b"\n" + dpkg_status([("gone", "1.0")], status="deinstall ok config-files")
    data += b"\nPackage: libc6\nStatus: install ok installed\nArchitecture: i386\nVersion: 2.36-9\n"
    assert parse_packages(DPKG, data) == (
        Package("deb", "bash", "5.2-1"),
        Package("deb", "libc6:amd64", "2.36-9"),
        Package("deb", "libc6:i386", "2.36-9"),
    )


def test_distroless_status_d_and_its_checksums() -> None:
    stanza = dpkg_status([("tzdata", "2024a-0")])
    assert parse_packages("var/lib/dpkg/status.d/tzdata", stanza) == (
        Package("deb", "tzdata", "2024a-0"),
    )
    assert parse_packages("var/lib/dpkg/status.d/tzdata.md5sums", stanza) == ()


def test_apk_python_and_npm_parsing() -> None:
    assert parse_packages(APK, apk_installed([("musl", "1.2.4-r2")])) == (
        Package("apk", "musl", "1.2.4-r2"),
    )
    metadata = python_metadata("requests", "2.32.0", ("idna<4,>=2.5", "urllib3<3,>=1.21.1"))
    assert parse_packages("sp/requests-2.32.0.dist-info/METADATA", metadata) == (
        Package("pypi", "requests", "2.32.0"),
    )
    assert parse_packages("sp/x.egg-info/PKG-INFO", python_metadata("x", "1")) == (
        Package("pypi", "x", "1"),
    )
    assert parse_packages("node_modules/a/package.json", package_json("a", "1.0.0")) == (
        Package("npm", "a", "1.0.0"),
    )
    assert parse_packages("app/package.json", b'{"dependencies": {"a": "1"}}') == ()
    assert parse_packages("etc/passwd", b"root:x:0:0") == ()
    with pytest.raises(ContentFormatError):
        parse_packages("package.json", b"[1, 2]")


def test_real_alpine_installed_database() -> None:
    packages = parse_packages(APK, alpine_installed())
    assert len(packages) == 14
    assert Package("apk", "musl", "1.1.22-r3") in packages
    assert Package("apk", "busybox", "1.30.1-r3") in packages


def test_package_changes_lists_bumps_additions_and_removals_by_name() -> None:
    old = [Package("apk", "musl", "1.0"), Package("apk", "zlib", "1.2"), Package("apk", "x", "1")]
    new = [Package("apk", "musl", "1.1"), Package("apk", "zlib", "1.2"), Package("apk", "ca", "2")]
    assert package_changes(old, new) == (("ca", "", "2"), ("musl", "1.0", "1.1"), ("x", "1", ""))


def test_dpkg_version_bump() -> None:
    old = dpkg_status([("bash", "5.2-1"), ("openssl", "3.0.11-1")])
    new = dpkg_status([("bash", "5.2-1"), ("openssl", "3.0.13-1"), ("curl", "8.5.0-2")])
    findings = explain_content(DPKG, old, new)
    assert [f.cause for f in findings] == ["dependency-change"]
    assert findings[0].changes == (("curl", "", "8.5.0-2"), ("openssl", "3.0.11-1", "3.0.13-1"))
    assert findings[0].detail == (
        "2 packages changed: curl added (8.5.0-2), openssl 3.0.11-1 -> 3.0.13-1"
    )


def test_dpkg_bump_with_another_package_touched_is_also_content() -> None:
    old = dpkg_status([("bash", "5.2-1"), ("openssl", "3.0.11-1")])
    new = dpkg_status([("bash", "5.2-1"), ("openssl", "3.0.13-1")]).replace(
        b"the bash package", b"the Bourne Again SHell"
    )
    findings = explain_content(DPKG, old, new)
    assert [f.cause for f in findings] == ["dependency-change", "content"]
    assert findings[1].detail == "other fields differ in 1 unchanged package: 'bash'"


def test_dpkg_stanzas_reordered_is_content_order() -> None:
    old = dpkg_status([("a", "1"), ("b", "2")])
    new = dpkg_status([("b", "2"), ("a", "1")])
    assert [f.cause for f in explain_content(DPKG, old, new)] == ["content-order"]


def test_dpkg_change_without_a_version_change_is_content() -> None:
    old = dpkg_status([("a", "1")])
    new = old.replace(b"Priority: optional", b"Priority: required")
    assert [f.cause for f in explain_content(DPKG, old, new)] == ["content"]


def test_real_alpine_database_bump_and_build_time() -> None:
    old = alpine_installed()
    bumped = old.replace(b"P:musl\nV:1.1.22-r3", b"P:musl\nV:1.1.22-r4")
    findings = explain_content(APK, old, bumped)
    assert findings[0].cause == "dependency-change"
    assert findings[0].changes == (("musl", "1.1.22-r3", "1.1.22-r4"),)
    # apk records each package's build time (t:); a rebuilt package with the same version
    rebuilt = old.replace(b"t:1565162130", b"t:1565169999")
    assert rebuilt != old
    assert [f.cause for f in explain_content(APK, old, rebuilt)] == ["embedded-timestamp"]


def test_python_metadata_version_and_requirements() -> None:
    path = "sp/requests-2.32.0.dist-info/METADATA"
    old = python_metadata("requests", "2.31.0", ("idna<4,>=2.5", "urllib3<3,>=1.21.1"))
    new = python_metadata("requests", "2.32.0", ("idna<4,>=2.5", "urllib3<3,>=2"))
    findings = explain_content(path, old, new)
    assert [f.cause for f in findings] == ["dependency-change", "dependency-change"]
    assert findings[0].changes == (("requests", "2.31.0", "2.32.0"),)
    assert findings[1].changes == (
        ("requires urllib3", "urllib3<3,>=1.21.1", "urllib3<3,>=2"),
    )


def test_npm_package_json() -> None:
    path = "app/node_modules/express/package.json"
    old = package_json("express", "4.18.2", {"accepts": "~1.3.8", "qs": "6.11.0"})
    new = package_json("express", "4.19.2", {"accepts": "~1.3.8", "qs": "6.11.2", "x": "^1"})
    findings = explain_content(path, old, new)
    assert [f.cause for f in findings] == ["dependency-change", "dependency-change"]
    assert findings[0].changes == (("express", "4.18.2", "4.19.2"),)
    assert findings[1].changes == (("dep qs", "6.11.0", "6.11.2"), ("dep x", "", "^1"))


def test_npm_key_order_only_is_content_order() -> None:
    old = json.dumps({"name": "a", "version": "1", "license": "MIT"}, indent=1).encode()
    new = json.dumps({"license": "MIT", "version": "1", "name": "a"}, indent=1).encode()
    findings = explain_content("node_modules/a/package.json", old, new)
    assert [f.cause for f in findings] == ["content-order"]


def test_npm_unrelated_field_change_is_content() -> None:
    old = json.dumps({"name": "a", "version": "1", "_where": "/tmp/x"}).encode()
    new = json.dumps({"name": "a", "version": "1", "_where": "/tmp/y"}).encode()
    assert [f.cause for f in explain_content("package.json", old, new)] == ["content"]


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("package.json", b"{not json", b"{still not json"),
        ("package.json", b"[" * 100_000, b"[" * 100_001),  # deeper than the recursion limit
        ("package.json", b'"a string"', b'"another"'),
        ("package.json", b"1" * 5000, b"2" * 5000),  # longer than int's digit limit
        (DPKG, b"\xff\xfe\x00garbage", b"\xff\xfe\x00more garbage"),
        (APK, b"P:\nV:\n\n\n", b"P\nV:1\n"),
        ("sp/a-1.dist-info/METADATA", b"", b"\n\n\n"),
    ],
)
def test_malformed_databases_degrade(path: str, old: bytes, new: bytes) -> None:
    findings = explain_content(path, old, new)
    assert findings and all(f.cause in ("content", "dependency-change") for f in findings)
    if path == "package.json" and not old.startswith(b'"'):
        assert "package database could not be parsed" in findings[0].detail
