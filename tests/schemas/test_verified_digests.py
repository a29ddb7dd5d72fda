"""Schema files verified in an earlier run (schemas.verified_digests): not read again while
unchanged, read again whenever they may have changed, and a record that someone else could
have written is ignored."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from stigscap.schemas import catalog, verified_digests
from stigscap.schemas.errors import StigscapError
from tests.cli_helpers import stigscap

from .conftest import FIXTURES

ENTRY = "sds@1.3"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A cache directory of this test's own, and a process that has verified nothing yet."""
    d = tmp_path / "cache"
    monkeypatch.setenv("STIGSCAP_CACHE_DIR", str(d))
    monkeypatch.setattr(catalog, "_verified", {})
    verified_digests.forget()
    yield d
    verified_digests.forget()


@pytest.fixture
def hashed(monkeypatch) -> list[Path]:
    """The files catalog.verify_file reads to hash them, in order (the real hash is taken)."""
    seen: list[Path] = []
    real = catalog._sha256

    def spy(path: Path) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(catalog, "_sha256", spy)
    return seen


def _next_run() -> None:
    """What a new process starts from: nothing verified, the record not yet read."""
    catalog._verified.clear()
    verified_digests.forget()


def _entry():
    return catalog.load_catalog().entry(ENTRY)


def _copy(schema_dir: Path, dst: Path) -> Path:
    for rel in _entry().closure:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schema_dir / rel, dst / rel)
    return dst.resolve()


def _seconds_later(monkeypatch, seconds: int = 3) -> None:
    """The clock `seconds` ahead: files this test has just written count as changed that long
    ago (else the racy rule keeps them out of the record)."""
    monkeypatch.setattr(verified_digests, "_now", lambda: time.time_ns() + seconds * 10**9)


def _record(cache: Path) -> dict:
    return json.loads((cache / verified_digests.RECORD_NAME).read_text())["files"]


def test_files_are_hashed_once_then_taken_from_the_record(cache, hashed, schema_dir, tmp_path,
                                                          monkeypatch):
    d = _copy(schema_dir, tmp_path / "schemas")
    _seconds_later(monkeypatch)
    closure = _entry().closure
    catalog.verify_entry(_entry(), d)
    assert sorted(hashed) == sorted(d / rel for rel in closure)
    files = _record(cache)
    assert sorted(files) == sorted(str(d / rel) for rel in closure)
    st = os.stat(d / closure[0])
    assert files[str(d / closure[0])] == [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                         st.st_ctime_ns, catalog.load_catalog().digests[closure[0]]]
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache / verified_digests.RECORD_NAME).st_mode) == 0o600

    _next_run()
    hashed.clear()
    catalog.verify_entry(_entry(), d)
    assert hashed == []


def test_a_file_changed_after_it_was_recorded_is_hashed_again_and_refused(
        cache, hashed, schema_dir, tmp_path, monkeypatch):
    d = _copy(schema_dir, tmp_path / "schemas")
    _seconds_later(monkeypatch)
    catalog.verify_entry(_entry(), d)
    time.sleep(0.05)   # past the file system clock's tick of the copy (see the racy rule)
    target = d / "xccdf/1.2/xccdf_1.2.xsd"
    data = target.read_bytes()
    at = data.index(b"<xsd:")
    target.write_bytes(data[:at] + b"<xsd:"[::-1] + data[at + 5:])   # same size, other bytes
    assert target.stat().st_size == len(data)

    _next_run()
    hashed.clear()
    with pytest.raises(StigscapError, match="differs from the official"):
        catalog.verify_entry(_entry(), d)
    assert target in hashed


def test_a_replaced_file_is_hashed_again(cache, hashed, schema_dir, tmp_path, monkeypatch):
    d = _copy(schema_dir, tmp_path / "schemas")
    _seconds_later(monkeypatch)
    catalog.verify_entry(_entry(), d)
    target = d / "common/xml.xsd"
    before = target.stat()
    shutil.copy2(schema_dir / "common/xml.xsd", target.with_name("xml.new"))
    os.replace(target.with_name("xml.new"), target)   # same bytes and mtime, another inode
    assert target.stat().st_ino != before.st_ino

    _next_run()
    hashed.clear()
    catalog.verify_entry(_entry(), d)
    assert hashed == [target]


def test_files_changed_just_before_they_were_hashed_are_not_recorded(cache, hashed, schema_dir,
                                                                     tmp_path):
    d = _copy(schema_dir, tmp_path / "schemas")   # written now: within RACY_NS
    catalog.verify_entry(_entry(), d)
    n = len(hashed)
    assert n == len(_entry().closure)
    assert not (cache / verified_digests.RECORD_NAME).exists()

    _next_run()
    catalog.verify_entry(_entry(), d)
    assert len(hashed) == 2 * n


def test_a_recorded_digest_other_than_the_pinned_one_is_not_taken(cache, hashed, schema_dir,
                                                                  tmp_path, monkeypatch):
    d = _copy(schema_dir, tmp_path / "schemas")
    _seconds_later(monkeypatch)
    catalog.verify_entry(_entry(), d)
    record = cache / verified_digests.RECORD_NAME
    doc = json.loads(record.read_text())
    target = str(d / "common/xlink.xsd")
    doc["files"][target][-1] = "0" * 64   # e.g. recorded by a release that pinned another copy
    record.write_text(json.dumps(doc))

    _next_run()
    hashed.clear()
    catalog.verify_entry(_entry(), d)
    assert hashed == [Path(target)]


@pytest.mark.parametrize("what", ["record writable by others", "directory writable by others",
                                  "record is a symlink", "record is not JSON"])
def test_a_record_that_is_not_private_and_sound_is_ignored(cache, hashed, schema_dir, tmp_path,
                                                           monkeypatch, what):
    d = _copy(schema_dir, tmp_path / "schemas")
    _seconds_later(monkeypatch)
    catalog.verify_entry(_entry(), d)
    record = cache / verified_digests.RECORD_NAME
    if what == "record writable by others":
        record.chmod(0o666)
    elif what == "directory writable by others":
        cache.chmod(0o777)
    elif what == "record is a symlink":
        real = cache / "elsewhere.json"
        record.rename(real)
        record.symlink_to(real)
    else:
        record.write_bytes(b"{not json")

    _next_run()
    hashed.clear()
    catalog.verify_entry(_entry(), d)
    assert len(hashed) == len(_entry().closure)


def test_an_unwritable_cache_directory_costs_time_only(tmp_path, hashed, schema_dir, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("STIGSCAP_CACHE_DIR", str(blocker / "cache"))   # cannot be created
    monkeypatch.setattr(catalog, "_verified", {})
    verified_digests.forget()
    try:
        catalog.verify_entry(_entry(), schema_dir)
        assert len(hashed) == len(_entry().closure)
    finally:
        verified_digests.forget()


def test_validate_records_the_official_schemas_once(tmp_path, schema_dir):
    env = {k: v for k, v in os.environ.items()
           if k not in ("STIGSCAP_SCHEMA_DIR", "STIGSCAP_OPENSCAP_SCHEMAS")}
    env["STIGSCAP_CACHE_DIR"] = str(tmp_path / "cache")
    first = stigscap("validate", FIXTURES / "mini-ds.xml", env=env)
    assert first.rc == 0, first.err
    record = tmp_path / "cache" / verified_digests.RECORD_NAME
    files = json.loads(record.read_text())["files"]
    official = schema_dir.resolve()
    assert sorted(files) == sorted(str(official / rel) for rel in _entry().closure)
    written = record.stat().st_mtime_ns
    second = stigscap("validate", FIXTURES / "mini-ds.xml", env=env)
    assert (second.rc, second.out) == (first.rc, first.out)
    assert record.stat().st_mtime_ns == written   # nothing new to record
