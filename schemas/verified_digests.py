"""Schema files already checked against their pinned SHA-256, remembered between runs.

`catalog.verify_file` checks every schema file a command loads against the digest pinned in
the catalog (SCAP 1.3 source data streams: 33 files, 4.2 MB). Hashing them and importing
OpenSSL's hashlib for it took 7-16 ms of each `validate` run, before anything else could
start. So a file whose digest matched is recorded here with what identifies that version of
it: device, inode, size, mtime and ctime (nanoseconds). Writing to a file or changing its
metadata sets its ctime to the current time, which no system call can set back, and
replacing it changes its inode; a later run takes a file as verified without reading it only
when all five are unchanged and the recorded digest is still the pinned one.

- A file changed less than `RACY_NS` before it was hashed is not recorded: timestamps come
  from a coarse clock, and a second change within the same tick would leave them equal
  (git's "racy clean" rule). A file that changed while it was hashed is not recorded either.
- The record is one JSON file in the user's cache directory (`user_cache.cache_dir`: 0700,
  the file 0600), read once per process. It is ignored unless it and its directory belong to the
  user and no one else can write them; a missing, unreadable or malformed record only means
  hashing again, never an error, and the record is rewritten (atomically) only when a file
  was hashed.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time

from .user_cache import cache_dir, private
from .xmlio import atomic_write

FORMAT = 1
RACY_NS = 2_000_000_000     # files changed less than 2 s before they were hashed: not recorded
MAX_RECORDS = 4096          # more (many schema directories over time): start again
RECORD_NAME = "verified-schema-files.json"
_MAX_RECORD_BYTES = 4 << 20

_now = time.time_ns
_lock = threading.Lock()
_records: dict[str, list] | None = None
_changed = False


def _read_records() -> dict[str, list]:
    path = cache_dir() / RECORD_NAME
    try:
        if not private(os.stat(path.parent)):
            return {}
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as fh:
        try:
            st = os.fstat(fh.fileno())
            if not (stat.S_ISREG(st.st_mode) and private(st) and st.st_size <= _MAX_RECORD_BYTES):
                return {}
            data = json.loads(fh.read())
        except (OSError, ValueError):
            return {}
    files = data.get("files") if isinstance(data, dict) and data.get("format") == FORMAT else None
    return files if isinstance(files, dict) else {}


def _loaded() -> dict[str, list]:
    global _records
    if _records is None:
        _records = _read_records()
    return _records


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def known(path: str, st: os.stat_result, digest: str) -> bool:
    """True when this version of the file at `path` (`st`: its stat now) was found to have
    `digest` by an earlier check."""
    with _lock:
        record = _loaded().get(path)
    return record == [*_identity(st), digest]


def remember(path: str, before: os.stat_result, digest: str) -> None:
    """Record that the file at `path`, as `before` describes it, was found to have `digest`;
    not if it has changed since `before` was taken, or changed less than RACY_NS before."""
    global _changed
    try:
        now = os.stat(path)
    except OSError:
        return
    if _identity(now) != _identity(before):
        return
    if _now() - max(now.st_mtime_ns, now.st_ctime_ns) < RACY_NS:
        return
    with _lock:
        records = _loaded()
        if len(records) >= MAX_RECORDS and path not in records:
            records.clear()
        records[path] = [*_identity(now), digest]
        _changed = True


def save() -> None:
    """Write the record if a file was added to it; any failure is ignored."""
    global _changed
    with _lock:
        if not _changed or _records is None:
            return
        payload = json.dumps({"format": FORMAT, "files": _records}, separators=(",", ":"))
        _changed = False
    try:
        directory = cache_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if private(os.stat(directory)):
            atomic_write(directory / RECORD_NAME, payload, mode=0o600)
    except Exception:  # noqa: BLE001 - a read-only home: the next run hashes again
        pass


def forget() -> None:
    """Drop what this process has read or added (tests; the record file stays)."""
    global _records, _changed
    with _lock:
        _records, _changed = None, False
