"""The catalog's SQLite schema and its migrations, one version at a time.

`docs/catalog.md` documents every table; keep the two in step. A migration is a list of
statements applied in one transaction; `schema_version` records the version reached. Changing a
released version's statements is never allowed: add a new version instead.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

_V1 = (
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        ocidiff_version TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        arguments TEXT NOT NULL,
        releases INTEGER NOT NULL DEFAULT 0,
        audited INTEGER NOT NULL DEFAULT 0,
        layers_read INTEGER NOT NULL DEFAULT 0,
        bytes_read INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE images (
        image_id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        position INTEGER,
        fingerprint TEXT NOT NULL,
        size INTEGER NOT NULL,
        format TEXT,
        outer_compression TEXT,
        created TEXT,
        status TEXT NOT NULL,
        error TEXT,
        problems INTEGER NOT NULL DEFAULT 0,
        producers TEXT NOT NULL DEFAULT '[]',
        run_id INTEGER REFERENCES runs(run_id)
    )""",
    """CREATE TABLE platforms (
        platform_id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        platform TEXT NOT NULL,
        names TEXT NOT NULL,
        manifest_digest TEXT,
        config_digest TEXT,
        created TEXT,
        layer_count INTEGER NOT NULL,
        size INTEGER NOT NULL,
        uncompressed_size INTEGER NOT NULL,
        epoch INTEGER,
        base_name TEXT,
        base_digest TEXT,
        base_layers INTEGER NOT NULL DEFAULT 0,
        base_chain TEXT,
        base_image TEXT,
        document TEXT NOT NULL,
        UNIQUE (image_id, key)
    )""",
    """CREATE TABLE blobs (
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        media_type TEXT,
        kind TEXT NOT NULL
    )""",
    """CREATE TABLE layers (
        digest TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        diff_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        uncompressed_size INTEGER NOT NULL,
        compression TEXT NOT NULL,
        compression_info TEXT NOT NULL,
        is_tar INTEGER NOT NULL,
        trailer TEXT,
        trailing_data_bytes INTEGER NOT NULL,
        entries INTEGER,
        file_bytes INTEGER NOT NULL,
        PRIMARY KEY (digest, cache_key)
    )""",
    """CREATE TABLE image_layers (
        platform_id INTEGER NOT NULL REFERENCES platforms(platform_id) ON DELETE CASCADE,
        layer_index INTEGER NOT NULL,
        digest TEXT,
        diff_id TEXT,
        media_type TEXT,
        size INTEGER,
        created_by TEXT,
        status TEXT NOT NULL,
        PRIMARY KEY (platform_id, layer_index)
    )""",
    """CREATE TABLE files (
        layer_digest TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        path TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        mode INTEGER NOT NULL,
        raw_mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        uname TEXT NOT NULL,
        gname TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        atime_ns INTEGER,
        ctime_ns INTEGER,
        linkname TEXT NOT NULL,
        devmajor INTEGER NOT NULL,
        devminor INTEGER NOT NULL,
        xattrs TEXT NOT NULL,
        encoding TEXT NOT NULL,
        pax_keys TEXT NOT NULL,
        digest TEXT,
        offset INTEGER NOT NULL,
        PRIMARY KEY (layer_digest, cache_key, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE layer_packages (
        layer_digest TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        path TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        PRIMARY KEY (layer_digest, cache_key, path, ecosystem, name, version)
    ) WITHOUT ROWID""",
    """CREATE TABLE layer_contents (
        layer_digest TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        mode TEXT NOT NULL,
        mtime INTEGER,
        source_path TEXT,
        PRIMARY KEY (layer_digest, cache_key, path, kind)
    ) WITHOUT ROWID""",
    """CREATE TABLE packages (
        platform_id INTEGER NOT NULL REFERENCES platforms(platform_id) ON DELETE CASCADE,
        ecosystem TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        path TEXT NOT NULL,
        layer_index INTEGER NOT NULL,
        PRIMARY KEY (platform_id, ecosystem, name, version, path)
    )""",
    """CREATE TABLE problems (
        image_id INTEGER NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        message TEXT NOT NULL,
        expected TEXT,
        actual TEXT,
        PRIMARY KEY (image_id, seq)
    )""",
    """CREATE TABLE hazards (
        platform_id INTEGER NOT NULL REFERENCES platforms(platform_id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        examples TEXT NOT NULL,
        PRIMARY KEY (platform_id, code)
    )""",
    """CREATE TABLE diffs (
        old_platform_id INTEGER NOT NULL REFERENCES platforms(platform_id) ON DELETE CASCADE,
        new_platform_id INTEGER NOT NULL REFERENCES platforms(platform_id) ON DELETE CASCADE,
        verdict TEXT NOT NULL,
        changed_layers INTEGER NOT NULL,
        PRIMARY KEY (old_platform_id, new_platform_id)
    )""",
    """CREATE TABLE causes (
        old_platform_id INTEGER NOT NULL,
        new_platform_id INTEGER NOT NULL,
        code TEXT NOT NULL,
        count INTEGER NOT NULL,
        ignored INTEGER NOT NULL,
        example TEXT,
        PRIMARY KEY (old_platform_id, new_platform_id, code),
        FOREIGN KEY (old_platform_id, new_platform_id)
            REFERENCES diffs(old_platform_id, new_platform_id) ON DELETE CASCADE
    )""",
    "CREATE INDEX images_position ON images(position)",
    "CREATE INDEX platforms_image ON platforms(image_id)",
    "CREATE INDEX platforms_base ON platforms(base_chain)",
    "CREATE INDEX image_layers_digest ON image_layers(digest)",
    "CREATE INDEX files_path ON files(path)",
    "CREATE INDEX files_digest ON files(digest)",
    "CREATE INDEX packages_name ON packages(name, version)",
    "CREATE INDEX hazards_code ON hazards(code)",
    "CREATE INDEX diffs_new ON diffs(new_platform_id)",
    "CREATE INDEX causes_code ON causes(code)",
)

# version -> statements that bring the previous version to it
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ((1, _V1),)

# Tables whose content an audit produces; `runs` is bookkeeping and `images.run_id` says which
# run last wrote a release (both vary between runs of the same audit).
CONTENT_TABLES = (
    "images",
    "platforms",
    "blobs",
    "layers",
    "image_layers",
    "files",
    "layer_packages",
    "layer_contents",
    "packages",
    "problems",
    "hazards",
    "diffs",
    "causes",
)
