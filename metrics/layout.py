"""The snapshot layout: folder and file names under a data root, which snapshots are complete and readable, and
the one door to the files (``Storage``: a local folder, or an object-storage prefix through an fsspec filesystem).

One module knows the layout, so the store that reads it, the ingest writer and the demo generators that write
it, and the benchmark cannot drift apart::

    <root>/snapshot_date=2026-10-05/metric_values.parquet   the values (hive partition: snapshot_date)
    <root>/snapshot_date=2026-10-05/orgs.parquet            the hierarchy as at that snapshot
    <root>/snapshot_date=2026-10-05/area_values.parquet     the area roll-up (derived, written with it)
    <root>/snapshot_date=2026-10-05/list_sizes.parquet      registered list sizes (ingest only)
    <root>/snapshot_date=2026-10-05/manifest.json           what went in (ingest only)
    <root>/snapshot_date=2026-10-05/_COMPLETE               object storage only: written last (see below)

**Local disk.** Writers stage files with ``STAGED_SUFFIX`` and rename them into place: DuckDB's ``**`` glob walks
hidden folders too, so a staged file must not end in ``.parquet``. A snapshot is a folder holding a values file.

**Object storage** (``s3://bucket/prefix``, ``abfs://container/prefix``) has no rename, so a snapshot is published
by writing its files and then ``_COMPLETE`` last; readers list only folders holding that marker, so a snapshot
appears whole or not at all. A writer first leaves ``_WRITER`` (who and when) in the folder; a folder without the
marker whose writer is dead (or silent for ``ABANDONED_AFTER``) is removed by the next writer.

The root is a path or a URL; the filesystem comes from fsspec with its own credential chain (for S3 the standard
AWS environment, for Azure ``AZURE_STORAGE_CONNECTION_STRING`` or account name and key), or is passed in. Block
caching is off: fsspec's default read-ahead fetches megabytes for each of the small ranges a parquet reader asks
for, ~60 times what a query needs.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import json
import os
import posixpath
import shutil
import socket
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq

SNAPSHOT_PREFIX = "snapshot_date="
METRIC_VALUES_FILE = "metric_values.parquet"
ORGS_FILE = "orgs.parquet"
ROLLUP_FILE = "area_values.parquet"
LIST_SIZES_FILE = "list_sizes.parquet"
MANIFEST_FILE = "manifest.json"
COMPLETE_MARKER = "_COMPLETE"
WRITER_MARKER = "_WRITER"
STAGED_SUFFIX = ".part"
# The tables the store serves, each read from every ``<table>*.parquet`` under the root.
TABLE_FILES = {"metric_values": METRIC_VALUES_FILE, "orgs": ORGS_FILE, "area_values": ROLLUP_FILE}
# What each object store's fsspec filesystem is made with: no read-ahead block cache (a parquet reader asks for
# exact ranges), and no listings cache (another process's new snapshot must be seen on the next listing).
OBJECT_STORE_DEFAULTS: dict[str, dict[str, Any]] = {
    "s3": {"default_cache_type": "none", "default_fill_cache": False, "use_listings_cache": False},
    "abfs": {"default_cache_type": "none", "default_fill_cache": False, "use_listings_cache": False},
}
PROTOCOL_ALIASES = {"s3a": "s3", "az": "abfs", "abfss": "abfs"}
ABANDONED_AFTER = timedelta(hours=6)  # an unpublished folder whose writer is this silent is abandoned


def is_url(root: object) -> bool:
    """True for an object-storage root such as ``s3://bucket/prefix`` (anything with a protocol)."""
    return isinstance(root, str) and "://" in root


@dataclass(frozen=True)
class FileInfo:
    """What a listing says of one file: its size in bytes and when it was last written (seconds since 1970)."""

    size: int
    modified: float


@dataclass(frozen=True, eq=False)
class Storage:
    """A data root's files: a local folder (``fs`` None: pathlib and os, renames are atomic) or an object-storage
    prefix (an fsspec filesystem: listing, sizes, ranged reads, whole-object writes). Paths are strings: local
    paths, or URLs with the protocol, which is also what DuckDB reads once ``attach`` registered the filesystem."""

    root: str
    fs: Any = None
    protocol: str = "file"

    @property
    def local(self) -> bool:
        return self.fs is None

    def join(self, *parts: str) -> str:
        return posixpath.join(*parts) if not self.local else os.path.join(*parts)

    def path(self, *parts: str) -> str:
        """A path under the root."""
        return self.join(self.root, *parts)

    def _key(self, path: str) -> str:
        return self.fs._strip_protocol(path)

    def _url(self, key: str) -> str:
        return f"{self.protocol}://{key}"

    # ----------------------------------------------------------------------------------------------- reading
    def scan(self, under: str | None = None, prefix: str = "") -> dict[str, FileInfo]:
        """Every file under the root (or ``under``), with size and time: one paginated listing on object
        storage, of the names that start with ``prefix`` there (on local disk every file is walked)."""
        top = under or self.root
        if self.local:
            return _walk(top)
        try:
            found = self.fs.find(self._key(top), detail=True, prefix=prefix)
        except FileNotFoundError:
            return {}
        return {self._url(key): FileInfo(int(info.get("size") or 0), _modified(info))
                for key, info in found.items() if info.get("type", "file") == "file"}

    def info(self, path: str) -> FileInfo:
        """Size and time of one file (raises FileNotFoundError)."""
        if self.local:
            stat = os.stat(path)
            return FileInfo(stat.st_size, stat.st_mtime)
        info = self.fs.info(self._key(path))
        if info.get("type") == "directory":
            raise FileNotFoundError(path)
        return FileInfo(int(info["size"]), _modified(info))

    def exists(self, path: str) -> bool:
        try:
            self.info(path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def open(self, path: str, mode: str = "rb", size: int | None = None) -> IO:
        """A file object; on object storage reads fetch exactly the ranges asked for (no block cache), and a
        ``size`` already known (from a listing) saves the request for it where the filesystem takes one."""
        if self.local:
            return open(path, mode)
        options: dict[str, Any] = {"cache_type": "none"} if "r" in mode else {}
        if size is not None and "r" in mode and "size" in inspect.signature(self.fs._open).parameters:
            options["size"] = size
        return self.fs.open(self._key(path), mode, **options)

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes() if self.local else self.fs.cat_file(self._key(path))

    def footer(self, path: str, size: int | None = None) -> pq.FileMetaData | str:
        """A parquet file's footer, or why it cannot be read (truncated, corrupt, empty, missing)."""
        try:
            if self.local:
                file = pq.ParquetFile(path)
            else:
                with self.open(path, size=size) as handle:
                    file = pq.ParquetFile(handle)
                    file.schema_arrow  # noqa: B018 - read while the handle is open
            file.schema_arrow  # noqa: B018 - reading footer and schema is the check
            return file.metadata
        except Exception as exc:  # noqa: BLE001 - any failure means the file is left out
            return f"{type(exc).__name__}: {exc}"

    def attach(self, con: Any) -> Any:
        """Let a DuckDB connection read this storage's URLs (DuckDB reads local paths itself); returns the
        filesystem registered (``listed_filesystem``: a caller that has listed the root tells it the files'
        sizes and times with ``remember``), or None on local disk."""
        if self.local:
            return None
        reader = listed_filesystem(self.fs)
        con.register_filesystem(reader)
        return reader

    # ----------------------------------------------------------------------------------------------- writing
    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file (one object on object storage: readers see all of it or none of it)."""
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(data)
        else:
            self.fs.pipe_file(self._key(path), data)

    def download(self, path: str, local: Path) -> None:
        """Copy a file to a local path."""
        if self.local:
            shutil.copyfile(path, local)
        else:
            self.fs.get_file(self._key(path), str(local))

    def upload(self, local: Path, path: str) -> None:
        """Copy a finished local file to ``path``."""
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, path)
        else:
            self.fs.put_file(str(local), self._key(path))

    def remove(self, path: str) -> None:
        """Remove a file or a folder and all under it; nothing there is not an error."""
        if self.local:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.remove(path)
            return
        try:
            self.fs.rm(self._key(path), recursive=True)
        except FileNotFoundError:
            pass


def listed_filesystem(inner: Any) -> Any:
    """What DuckDB is given to read object storage: ``inner`` wrapped in a ``ListedFileSystem``."""
    return _listed_filesystem_class()(inner)


@functools.cache
def _listed_filesystem_class() -> type:
    """The ``ListedFileSystem`` class, made on first use so that local use never imports fsspec."""
    from fsspec import AbstractFileSystem

    class ListedFileSystem(AbstractFileSystem):
        """The fsspec filesystem with block caching off for every file DuckDB opens (adlfs ignores the
        filesystem's default), and the sizes and times of the files a listing found answered from that listing.
        Without it DuckDB asks the store for a file's size, time and existence on every query, a request each
        (about five per file per query on S3), although a published snapshot's files never change."""

        cachable = False  # one per connection, each with its own listing

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner
            self.protocol = inner.protocol  # the URL schemes DuckDB hands to this filesystem
            self.known: dict[str, FileInfo] = {}
            self._sized_open = "size" in inspect.signature(inner._open).parameters

        def remember(self, files: Mapping[str, FileInfo]) -> None:
            """The files of the newest listing (full URLs), replacing what an older listing said."""
            self.known = {self.inner._strip_protocol(path): info for path, info in files.items()}

        def _known(self, path: str) -> FileInfo | None:
            return self.known.get(self.inner._strip_protocol(path))

        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            found = self._known(path)
            if found is None:
                return self.inner.info(path, **kwargs)
            return {"name": self.inner._strip_protocol(path), "size": found.size, "type": "file",
                    "mtime": found.modified}

        def size(self, path: str) -> int:
            found = self._known(path)
            return found.size if found is not None else self.inner.size(path)

        def modified(self, path: str) -> datetime:
            found = self._known(path)
            return datetime.fromtimestamp(found.modified, UTC) if found is not None else self.inner.modified(path)

        def exists(self, path: str, **kwargs: Any) -> bool:
            return self._known(path) is not None or self.inner.exists(path, **kwargs)

        def glob(self, path: str, **kwargs: Any) -> Any:
            if self._known(path) is not None and not any(c in path for c in "*?["):
                return [self.inner._strip_protocol(path)]  # a file the listing found: no request
            return self.inner.glob(path, **kwargs)

        def open(self, path: str, mode: str = "rb", **kwargs: Any) -> IO:
            if "r" in mode:
                kwargs.setdefault("cache_type", "none")
                found = self._known(path)
                if found is not None and self._sized_open:
                    kwargs.setdefault("size", found.size)  # no request for the size
                elif found is not None and type(self.inner).__name__ == "AzureBlobFileSystem":
                    return _azure_file(self.inner, self.inner._strip_protocol(path), found, kwargs["cache_type"])
            handle = self.inner.open(path, mode, **kwargs)
            if "r" in mode and found is not None and getattr(handle, "_details", "absent") is None:
                # s3fs reads a file's details (fsspec asks the store: a HEAD) on its first ranged read; the
                # listing has them already.
                handle._details = self.info(path)
            return handle

        def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
            return self.inner.ls(path, detail=detail, **kwargs)

        def find(self, path: str, *args: Any, **kwargs: Any) -> Any:
            return self.inner.find(path, *args, **kwargs)

        def isdir(self, path: str) -> bool:
            return self._known(path) is None and self.inner.isdir(path)

        def isfile(self, path: str) -> bool:
            return self._known(path) is not None or self.inner.isfile(path)

        def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
            return self.inner.cat_file(path, start=start, end=end, **kwargs)

        def unstrip_protocol(self, name: str) -> str:
            return self.inner.unstrip_protocol(name)

    return ListedFileSystem


def _azure_file(fs: Any, key: str, found: FileInfo, cache_type: str) -> IO:
    """adlfs's file object for reading, told its size: it takes none, and asks the store for it unless its
    ``details`` are there before it is made (as adlfs's own listing-based opens do)."""
    from adlfs.spec import AzureBlobFile

    handle = AzureBlobFile.__new__(AzureBlobFile)
    handle.details = {"name": key, "size": found.size, "type": "file"}
    handle.__init__(fs=fs, path=key, mode="rb", block_size="default", cache_type=cache_type)
    return handle


Root = Storage | Path | str  # what the layout's functions take: a Storage, or a local path or URL to make one


def _walk(top: str) -> dict[str, FileInfo]:
    """Every file under a local folder, hidden folders included (as DuckDB's ``**`` glob walks them)."""
    found = {}
    for folder, _, names in os.walk(top):
        for name in names:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # removed since it was listed
                continue
            found[path] = FileInfo(stat.st_size, stat.st_mtime)
    return found


def _modified(info: Mapping[str, Any]) -> float:
    when = info.get("LastModified") or info.get("last_modified") or info.get("mtime") or 0
    return when.timestamp() if isinstance(when, datetime) else float(when)


def _filesystem(protocol: str, options: Mapping[str, Any]) -> Any:
    """fsspec's filesystem for a protocol (fsspec keeps one instance per protocol and options)."""
    import fsspec  # only object storage needs it

    return fsspec.filesystem(protocol, **{**OBJECT_STORE_DEFAULTS.get(protocol, {}), **options})


def storage(root: Storage | Path | str, options: Mapping[str, Any] | None = None, filesystem: Any = None) -> Storage:
    """The storage of a data root: a path is local; ``s3://`` and ``abfs://`` URLs go through fsspec, made with
    ``options`` (credentials, endpoint; none: the SDK's own chain) over ``OBJECT_STORE_DEFAULTS``, or
    ``filesystem`` when one is passed."""
    if isinstance(root, Storage):
        return root
    if not is_url(root):
        return Storage(os.path.normpath(str(root)))
    scheme, rest = str(root).split("://", 1)
    protocol = PROTOCOL_ALIASES.get(scheme, scheme)
    fs = filesystem or _filesystem(protocol, options or {})
    return Storage(f"{protocol}://{rest.rstrip('/')}", fs, protocol)


# ------------------------------------------------------------------------------------------------- the layout
def snapshot_folder(root: Root, snapshot: date) -> str:
    """The folder of one snapshot."""
    return storage(root).path(f"{SNAPSHOT_PREFIX}{snapshot.isoformat()}")


def snapshot_date(folder: str | Path) -> date | None:
    """The snapshot date a folder is named for, or None when the name is not a snapshot's."""
    name = posixpath.basename(str(folder).rstrip("/"))
    if not name.startswith(SNAPSHOT_PREFIX):
        return None
    try:
        return date.fromisoformat(name.removeprefix(SNAPSHOT_PREFIX))
    except ValueError:
        return None


@dataclass(frozen=True)
class Listing:
    """One listing of a data root (on object storage one paginated request), and what the layout makes of it."""

    storage: Storage
    files: dict[str, FileInfo] = field(repr=False)

    def snapshot_folders(self) -> list[tuple[date, str]]:
        """Every published snapshot folder holding a values file, oldest first (readable or not): on local disk
        every such folder (renames publish), on object storage only those with the ``_COMPLETE`` marker."""
        folders = {posixpath.dirname(path) for path in self.files
                   if posixpath.basename(path) == METRIC_VALUES_FILE}
        found = []
        for folder in folders:
            day = snapshot_date(folder)
            published = self.storage.local or self.storage.join(folder, COMPLETE_MARKER) in self.files
            if day is not None and published and posixpath.dirname(folder) == self.storage.root.rstrip("/"):
                found.append((day, folder))
        return sorted(found)

    def parquet_files(self) -> dict[str, list[str]]:
        """Each table's files: on local disk every ``<root>/**/<table>*.parquet`` (as DuckDB's glob finds them),
        on object storage only those inside published snapshot folders."""
        paths = sorted(self.files)
        if not self.storage.local:
            published = {folder for _, folder in self.snapshot_folders()}
            paths = [p for p in paths if posixpath.dirname(p) in published]
        return {table: [p for p in paths if fnmatch.fnmatchcase(posixpath.basename(p), f"{table}*.parquet")]
                for table in TABLE_FILES}

    def unpublished_folders(self) -> list[str]:
        """Object storage: snapshot folders without the ``_COMPLETE`` marker (being written, or abandoned)."""
        if self.storage.local:
            return []
        folders = {posixpath.dirname(p) for p in self.files
                   if snapshot_date(posixpath.dirname(p)) and posixpath.dirname(posixpath.dirname(p)) == self.storage.root}
        return sorted(f for f in folders if self.storage.join(f, COMPLETE_MARKER) not in self.files)


def listing(root: Root) -> Listing:
    """The root's files. On object storage only the snapshot folders are listed (the audit log's many small
    objects beside them are not)."""
    files = storage(root)
    return Listing(files, files.scan(prefix="" if files.local else SNAPSHOT_PREFIX))


def snapshot_folders(root: Root) -> list[tuple[date, str]]:
    """Every published snapshot folder holding a values file, oldest first (see ``Listing.snapshot_folders``)."""
    return listing(root).snapshot_folders()


def parquet_files(root: Root) -> dict[str, list[str]]:
    """Every file each table is served from (see ``Listing.parquet_files``)."""
    return listing(root).parquet_files()


def footer(path: str | Path, root: Root | None = None) -> pq.FileMetaData | str:
    """A parquet file's footer, or why it cannot be read (truncated, corrupt, empty, missing)."""
    return storage(root if root is not None else str(path)).footer(str(path))


def readable(path: str | Path, root: Root | None = None) -> bool:
    return not isinstance(footer(path, root), str)


def readable_snapshots(root: Root) -> list[tuple[date, str]]:
    """Complete snapshots (values and orgs both readable), oldest first: what a new snapshot may build on."""
    store = storage(root)
    return [(day, folder) for day, folder in snapshot_folders(store)
            if readable(store.join(folder, METRIC_VALUES_FILE), store) and readable(store.join(folder, ORGS_FILE), store)]


# ------------------------------------------------------------------------------------- object-storage publication
def writer_id() -> dict[str, Any]:
    """Who is writing: host and process (a dead process on this host is known to be dead) and when it began."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": datetime.now(UTC).isoformat()}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def abandoned(claim: Mapping[str, Any] | None, now: datetime | None = None) -> bool:
    """Whether an unpublished folder's writer is gone: no claim, its process dead on this host, or silent for
    ``ABANDONED_AFTER`` (a writer on another machine cannot be asked)."""
    if not claim:
        return True
    try:
        started = datetime.fromisoformat(claim["started"])
        if claim["host"] == socket.gethostname() and claim["pid"] != os.getpid() and not pid_alive(int(claim["pid"])):
            return True
    except (KeyError, TypeError, ValueError):
        return True
    return (now or datetime.now(UTC)) - started > ABANDONED_AFTER


def read_claim(store: Storage, folder: str) -> dict[str, Any] | None:
    try:
        return json.loads(store.read_bytes(store.join(folder, WRITER_MARKER)))
    except (FileNotFoundError, ValueError):
        return None


def remove_abandoned(root: Root) -> list[str]:
    """Object storage: remove the unpublished snapshot folders whose writer is gone (a killed ingest or demo);
    returns them. Readers never saw them; a live writer's folder is left alone."""
    store = storage(root)
    gone = [folder for folder in listing(store).unpublished_folders() if abandoned(read_claim(store, folder))]
    for folder in gone:
        store.remove(folder)
    return gone


def publish(root: Root, staged: Path, snapshot: date, *, suffix: str = "",
            after_upload: Callable[[], None] | None = None) -> str:
    """Object storage: copy a finished local snapshot folder up (its files' names less ``suffix``) and make it
    visible. The claim goes first, then every file (values last), then ``_COMPLETE``: until the marker is there
    no reader lists the snapshot, and a writer killed before it leaves a claimed folder that the next writer
    removes. Returns the folder."""
    store = storage(root)
    folder = snapshot_folder(store, snapshot)
    store.remove(store.join(folder, COMPLETE_MARKER))  # re-publishing (the demo): hidden while it is rewritten
    store.write_bytes(store.join(folder, WRITER_MARKER), json.dumps(writer_id()).encode())
    files = {p.name.removesuffix(suffix) if suffix else p.name: p for p in staged.iterdir() if p.is_file()}
    for name in sorted(files, key=lambda name: name == METRIC_VALUES_FILE):
        store.upload(files[name], store.join(folder, name))
    if after_upload is not None:
        after_upload()
    marker = {"published": datetime.now(UTC).isoformat(), "files": {n: p.stat().st_size for n, p in files.items()}}
    store.write_bytes(store.join(folder, COMPLETE_MARKER), json.dumps(marker, indent=1).encode())
    store.remove(store.join(folder, WRITER_MARKER))
    return folder


def copy_snapshots(source: Root, target: Root) -> list[date]:
    """Copy every readable snapshot of one data root that another lacks (a local root up to object storage, or
    back), each published as writers publish it. Returns the snapshots copied."""
    src, dst = storage(source), storage(target)
    have = {day for day, _ in snapshot_folders(dst)}
    copied = []
    for day, folder in readable_snapshots(src):
        if day in have:
            continue
        names = [posixpath.basename(p) for p in src.scan(folder)]
        names = [n for n in names if n not in (COMPLETE_MARKER, WRITER_MARKER)]
        if dst.local:
            _copy_into_local(src, folder, names, dst, day)
        else:
            with tempfile.TemporaryDirectory(prefix="icp-copy-") as spare:
                for name in names:
                    src.download(src.join(folder, name), Path(spare) / name)
                publish(dst, Path(spare), day)
        copied.append(day)
    return copied


def _copy_into_local(src: Storage, folder: str, names: list[str], dst: Storage, day: date) -> None:
    """A snapshot downloaded into a hidden folder in the local root as ``*.part`` files (never matched by the
    ``**/*.parquet`` globs), renamed into place, then each file renamed to its name, values last: the snapshot
    exists only once its values file does."""
    target = Path(snapshot_folder(dst, day))
    shutil.rmtree(target, ignore_errors=True)  # a folder without values: a killed copy, never visible
    staged = Path(dst.root) / f".copy-{os.getpid()}-{target.name}"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name in names:
        src.download(src.join(folder, name), staged / f"{name}{STAGED_SUFFIX}")
    os.rename(staged, target)
    for name in sorted(names, key=lambda n: n == METRIC_VALUES_FILE):
        os.replace(target / f"{name}{STAGED_SUFFIX}", target / name)
