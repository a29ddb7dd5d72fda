"""The schema catalog: pinned official files, found by option/env/system dir, clear messages."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import pytest

from stigscap.schemas import catalog

FIXTURES = Path(__file__).with_name("fixtures")


def test_catalog_matches_installed_official_files(schema_dir):
    cat = catalog.load_catalog()
    names = {e.name for e in cat.entries}
    for required in ("sds@1.3", "sds@1.2", "xccdf@1.2", "xccdf@1.1", "arf@1.1", "oval-definitions@5.11.2",
                     "oval-system-characteristics@5.11.2", "oval-results@5.11.2", "oval-variables@5.11.2",
                     "cpe-dictionary@2.3", "cpe-language@2.3", "ocil@2.0"):
        assert required in names
    for rel, digest in cat.digests.items():
        data = (schema_dir / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, rel
    for e in cat.entries:
        assert e.file in e.closure and all(f in cat.digests for f in e.closure)


def test_sds13_closure_has_its_imports():
    e = catalog.load_catalog().entry("sds@1.3")
    for f in ("xccdf/1.2/xccdf_1.2.xsd", "oval/5.11.3/oval-definitions-schema.xsd",
              "oval/5.11.3/windows-definitions-schema.xsd", "ocil/2.0/ocil-2.0.xsd",
              "cpe/2.3/cpe-dictionary_2.3.xsd", "common/xmldsig-core-schema.xsd"):
        assert f in e.closure


def _copy_schema_tree(src: Path, dst: Path) -> Path:
    """A copy of just the files the sds@1.3 schema needs."""
    for rel in catalog.load_catalog().entry("sds@1.3").closure:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst / rel)
    return dst


def test_unmodified_copy_validates(cli, schema_dir, tmp_path):
    d = _copy_schema_tree(schema_dir, tmp_path / "schemas")
    res = cli("validate", "--schema-dir", d, FIXTURES / "mini-ds.xml")
    assert res.exit_code == 0, res.output


def test_changed_schema_file_is_named(cli, schema_dir, tmp_path):
    d = _copy_schema_tree(schema_dir, tmp_path / "schemas")
    target = d / "xccdf/1.2/xccdf_1.2.xsd"
    target.write_bytes(target.read_bytes() + b"<!-- local edit -->\n")
    res = cli("validate", "--schema-dir", d, FIXTURES / "mini-ds.xml")
    assert res.exit_code == 1
    msg = res.stderr.strip()
    assert len(msg.splitlines()) == 1
    assert str(target) in msg and "differs" in msg and "openscap-common" in msg


def test_missing_schema_file_is_named(cli, schema_dir, tmp_path, monkeypatch):
    d = _copy_schema_tree(schema_dir, tmp_path / "schemas")
    (d / "ocil/2.0/ocil-2.0.xsd").unlink()
    monkeypatch.setenv("STIGSCAP_SCHEMA_DIR", str(d))  # the environment variable is honoured
    res = cli("validate", FIXTURES / "mini-ds.xml")
    assert res.exit_code == 1
    msg = res.stderr.strip()
    assert "ocil/2.0/ocil-2.0.xsd" in msg and "missing" in msg
    assert "apt-get install openscap-common" in msg


def test_missing_schema_dir(cli, schema_dir, tmp_path):
    res = cli("validate", "--schema-dir", tmp_path / "absent", FIXTURES / "mini-ds.xml")
    assert res.exit_code == 1
    assert "does not exist" in res.stderr and "openscap-common" in res.stderr


def test_unknown_schema_kind_message():
    with pytest.raises(Exception, match="unknown schema kind 'nope@1'"):
        catalog.load_catalog().entry("nope@1")


def test_regenerated_catalog_equals_committed(schema_dir):
    """The committed catalog is exactly what the generator (with xmlschema cross-check) makes."""
    import json

    built = catalog.build_catalog(schema_dir, cross_check=False)
    committed = json.loads(catalog.CATALOG_FILE.read_text())
    assert built["schemas"] == committed["schemas"]
    assert built["files"] == committed["files"]


def test_concurrent_requests_share_one_compile(schema_dir, monkeypatch):
    """A compile under way in one thread (the launcher's `prepare`) is waited for by the
    others, not repeated: one compile, one XMLSchema object for every caller."""
    compiles = []
    real = catalog._compile

    def counted(name, d, extensions=None, window=None):
        compiles.append(name)
        return real(name, d, extensions, window)

    monkeypatch.setattr(catalog, "_compile", counted)
    monkeypatch.setattr(catalog, "_compiled", {})   # nothing compiled yet in this process
    monkeypatch.setattr(catalog, "_compiling", {})
    barrier = threading.Barrier(4)
    got: list = []

    def ask():
        barrier.wait()
        got.append(catalog.compiled_schema("sds@1.3", schema_dir))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(got) == 4 and all(s is got[0] for s in got)
    assert compiles == ["sds@1.3"]


# what `prepare` compiles, and that check_file then uses it: test_schemas_extensions.py
# (test_prepare_compiles_the_reduced_schema_validation_uses)


def test_prepare_never_raises_nor_waits(schema_dir, tmp_path, monkeypatch):
    """Whatever the launcher guessed from the command line: a missing file, a directory, a
    FIFO (never opened for reading), a JSON checklist, broken XML, an unknown root: nothing
    compiled, no exception; `validate` itself reports each one."""
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "_early", None)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "c.cklb").write_text('{"stigs": []}', encoding="utf-8")
    (tmp_path / "broken.xml").write_text("<a><b></a>", encoding="utf-8")
    (tmp_path / "other.xml").write_text("<html/>", encoding="utf-8")
    done = threading.Event()

    def run():
        for name in ("missing.xml", ".", "fifo", "c.cklb", "broken.xml", "other.xml"):
            catalog.prepare(tmp_path / name, schema_dir)
            catalog.start_prepare(tmp_path / name, schema_dir)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(30), "prepare blocked"
    assert catalog._compiled == {} and catalog._early is None
