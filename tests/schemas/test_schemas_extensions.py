"""Validation with only the OVAL extension schemas a document declares: the verdicts and the
problems of the official schema as it is, never a pass that the whole schema would refuse."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas import catalog, xmlio
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.catalog import used_extensions
from stigscap.schemas.validate import check_file, validate_document

FIXTURES = Path(__file__).with_name("fixtures")
DEF = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
WIN = DEF + "#windows"
IND = DEF + "#independent"
SC_WIN = "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows"


def test_declarations_are_read_from_the_bytes():
    doc = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<a xmlns="' + DEF.encode() + b'" xmlns:w = \'' + WIN.encode() + b'\'\n'
           b'   xmlns:sc="' + SC_WIN.encode() + b'" xmlns:x="http://example.org/a#b">'
           b'<!-- xmlns:i="' + IND.encode() + b'" -->text &amp; more</a>')
    # the comment's declaration is counted too: it can only keep a schema, never drop one
    assert used_extensions(doc) == {WIN, SC_WIN, IND}
    assert used_extensions(b"\xef\xbb\xbf" + doc) == {WIN, SC_WIN, IND}
    assert used_extensions(b'<a xmlns="' + DEF.encode() + b'"/>') == frozenset()


@pytest.mark.parametrize("case", ["utf-16 with BOM", "utf-16 without BOM", "declared utf-16",
                                  "declared ebcdic", "BOM, declared ebcdic", "character reference",
                                  "entity reference"])
def test_unknown_when_the_bytes_cannot_tell(case):
    plain = '<a xmlns="' + DEF + '" xmlns:w="' + WIN + '"/>'
    data = {
        "utf-16 with BOM": plain.encode("utf-16"),
        "utf-16 without BOM": plain.encode("utf-16-le"),
        "declared utf-16": b'<?xml version="1.0" encoding="UTF-16"?>' + plain.encode(),
        "declared ebcdic": b'<?xml version="1.0" encoding="IBM037"?>' + plain.encode(),
        "BOM, declared ebcdic": b'\xef\xbb\xbf<?xml version="1.0" encoding="IBM037"?>' + plain.encode(),
        "character reference": plain.replace("-5#windows", "-5&#35;windows").encode(),
        "entity reference": plain.replace("http:", "http&#x3a;").encode(),
    }[case]
    assert used_extensions(data) is None


def _oval(metadata_extra: str, declaration: str) -> bytes:
    """An OVAL 5.11.2 definitions document without any test, so it needs no extension schema
    unless `metadata_extra` (inside a definition's metadata: `xsd:any processContents="lax"`,
    validated only where the schema knows the element) uses one."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<oval_definitions xmlns="{DEF}" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">
  <generator>
    <oval:product_name>stigscap tests</oval:product_name>
    <oval:schema_version>5.11.2</oval:schema_version>
    <oval:timestamp>2024-01-01T00:00:00</oval:timestamp>
  </generator>
  <definitions>
    <definition id="oval:test.stigscap:def:1" version="1" class="compliance">
      <metadata>
        <title>extension element in metadata</title>
        <description>lax content</description>
        {metadata_extra.replace("DECL", declaration)}
      </metadata>
    </definition>
  </definitions>
</oval_definitions>
""".encode()


# a windows-schema element without its required attributes: an error wherever the schema
# knows cmdlet_test, nothing at all where it does not (lax)
BAD_WIN = '<w:cmdlet_test DECL comment="no id, version, check, object"/>'


@pytest.mark.parametrize("declaration", [
    f'xmlns:w="{WIN}"',
    f'xmlns:w="{WIN.replace("-5#windows", "-5&#35;windows")}"',   # hidden from a byte scan
    f"xmlns:w='{WIN}'",
])
def test_a_declared_extension_is_always_validated(schema_dir, tmp_path, declaration):
    p = tmp_path / "oval.xml"
    p.write_bytes(_oval(BAD_WIN, declaration))
    result = check_file(p)
    xsd = [q for q in result.problems if q.rule.startswith("XSD")]
    assert not result.valid and xsd, "the windows element in lax metadata went unvalidated"
    assert any("cmdlet_test" in q.message and "id" in q.message for q in xsd)
    full = validate_document(etree.parse(str(p)), str(p))
    assert [(q.line, q.path, q.message) for q in result.problems] == \
        [(q.line, q.path, q.message) for q in full]


def test_left_out_extensions_are_left_out(schema_dir, tmp_path):
    """The reduced schema really lacks what the document does not declare (here checked the
    other way round: with windows left out, a windows element in lax content is skipped)."""
    data = _oval(BAD_WIN, f'xmlns:w="{WIN}"')
    root = etree.fromstring(data)
    assert not catalog.compiled_schema("oval-definitions@5.11.2", schema_dir).validate(root)
    reduced = catalog.compiled_schema("oval-definitions@5.11.2", schema_dir, frozenset({IND}))
    assert reduced.validate(root)
    assert used_extensions(data) == {WIN}
    assert not catalog.compiled_schema("oval-definitions@5.11.2", schema_dir,
                                       used_extensions(data)).validate(root)


def test_reduced_schema_has_the_official_verdict_on_ssg(schema_dir):
    ssg = Path("/usr/share/xml/scap/ssg/content/ssg-macos1015-ds.xml")
    if not ssg.exists():
        pytest.skip("SSG streams not installed")
    data = ssg.read_bytes()
    extensions = used_extensions(data)
    assert extensions is not None and WIN not in extensions and IND in extensions
    root = etree.fromstring(data)
    assert catalog.compiled_schema("sds@1.3", schema_dir, extensions).validate(root)
    assert catalog.compiled_schema("sds@1.3", schema_dir).validate(root)


def test_errors_are_worded_by_the_official_schema(schema_dir, tmp_path):
    """An unknown OVAL test: libxml2 lists the tests it expected, the official schema's list
    names other platforms' tests; the reduced schema's would not. The reported problem is
    the official one."""
    text = (FIXTURES / "mini-ds.xml").read_text(encoding="utf-8")
    text = text.replace("<win-def:cmdlet_test id", "<win-def:cmdletx_test id", 1).replace(
        "</win-def:cmdlet_test>", "</win-def:cmdletx_test>", 1)
    p = tmp_path / "ds.xml"
    p.write_text(text, encoding="utf-8")
    got = [q for q in check_file(p).problems if q.rule.startswith("XSD")]
    assert any("cmdletx_test" in q.message and "#aix}" in q.message for q in got)
    reduced = catalog.compiled_schema("sds@1.3", schema_dir, used_extensions(p.read_bytes()))
    assert not reduced.validate(etree.parse(str(p)))
    assert not any("#aix}" in e.message for e in reduced.error_log)


def test_prepare_compiles_the_reduced_schema_validation_uses(schema_dir, monkeypatch):
    """The launcher's early compile is the one check_file then uses: nothing compiled twice,
    and for a valid file, never the whole schema."""
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "_compiling", {})
    monkeypatch.setattr(catalog, "_early", None)
    path = FIXTURES / "mini-ds.xml"
    catalog.prepare(path, schema_dir)
    keys = list(catalog._compiled)
    assert [(k[1], k[2]) for k in keys] == [("sds@1.3", frozenset({WIN}))]
    assert check_file(path, schema_dir=schema_dir).valid
    assert list(catalog._compiled) == keys


def test_prepare_leaves_large_files_alone(schema_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "_early", None)
    monkeypatch.setattr(catalog, "PREPARE_MAX_BYTES", 1000)
    catalog.prepare(FIXTURES / "mini-ds.xml", schema_dir)
    assert catalog._compiled == {} and catalog._early is None


# ---------------------------------------------------------------------------------------------
# The launcher's early XSD pass (catalog.prepare / start_prepare), collected by check_file

def _invalid_copy(tmp_path: Path) -> Path:
    """mini-ds with an OVAL test the schema does not know: invalid by XSD alone."""
    text = (FIXTURES / "mini-ds.xml").read_text(encoding="utf-8")
    p = tmp_path / "ds.xml"
    p.write_text(text.replace("<win-def:cmdlet_test id", "<win-def:cmdletx_test id", 1).replace(
        "</win-def:cmdlet_test>", "</win-def:cmdletx_test>", 1), encoding="utf-8")
    return p


@pytest.fixture
def xsd_passes(monkeypatch):
    """Every XSD pass check_file runs itself on a tree (the main thread's or its worker's).
    The early pass is forced on: by default it waits for an idle core (cores.spare_core)."""
    from stigscap.schemas import validate
    monkeypatch.setattr(catalog, "_early", None)
    monkeypatch.setenv("STIGSCAP_VALIDATE_WORKER", "1")
    calls: list[str] = []
    original = validate._xsd_problems

    def counted(element, entry, source, *args, **kwargs):
        calls.append(source)
        return original(element, entry, source, *args, **kwargs)

    monkeypatch.setattr(validate, "_xsd_problems", counted)
    return calls


@pytest.mark.parametrize("parallel", [True, False])
def test_a_valid_early_pass_is_the_xsd_verdict(schema_dir, tmp_path, xsd_passes, parallel):
    path = tmp_path / "ds.xml"
    path.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.prepare(path, schema_dir)
    got = check_file(path, schema_dir=schema_dir, parallel=parallel)
    assert got.valid and xsd_passes == []
    # without it, check_file validates itself: same verdict
    catalog._early = None
    assert check_file(path, schema_dir=schema_dir, parallel=parallel).problems == got.problems
    assert xsd_passes == [str(path)]


def test_an_early_pass_of_other_bytes_is_not_taken(schema_dir, tmp_path, xsd_passes):
    """The file changed between the launcher's read and the command's: a valid verdict for
    the old bytes must not pass the new ones."""
    path = tmp_path / "ds.xml"
    path.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.prepare(path, schema_dir)
    assert _invalid_copy(tmp_path) == path   # the same path, now invalid
    got = check_file(path, schema_dir=schema_dir)
    assert not got.valid and xsd_passes == [str(path)]
    assert any("cmdletx_test" in p.message for p in got.errors)


def test_an_invalid_file_is_reported_as_without_the_early_pass(schema_dir, tmp_path, xsd_passes):
    path = _invalid_copy(tmp_path)
    without = check_file(path, schema_dir=schema_dir).problems
    catalog.prepare(path, schema_dir)
    assert catalog._early is not None
    assert check_file(path, schema_dir=schema_dir).problems == without
    assert len(xsd_passes) == 2


def test_an_early_pass_is_only_for_its_file_and_schema_directory(schema_dir, tmp_path,
                                                                 xsd_passes):
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    for p in (a, b):
        p.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.prepare(a, schema_dir)
    assert catalog.early_pass(a, schema_dir) is not None
    assert catalog.early_pass(b, schema_dir) is None
    other = tmp_path / "schemas"
    other.symlink_to(schema_dir, target_is_directory=True)   # resolves to the same directory
    assert catalog.early_pass(a, other) is not None
    copy = tmp_path / "copy"
    copy.mkdir()
    assert catalog.early_pass(a, copy) is None
    check_file(b, schema_dir=schema_dir)
    assert xsd_passes == [str(b)]


def test_start_prepare_runs_the_pass_in_the_background(schema_dir, tmp_path, xsd_passes):
    path = tmp_path / "ds.xml"
    path.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.start_prepare(path, schema_dir)
    record = catalog.early_pass(path, schema_dir)
    assert record is not None
    assert record.valid(path.read_bytes())
    assert check_file(path, schema_dir=schema_dir).valid and xsd_passes == []


def test_an_xsd_only_run_takes_the_early_pass_tree(schema_dir, tmp_path, xsd_passes,
                                                   monkeypatch):
    """--xsd-only has nothing to run beside the XSD pass: a valid early pass's tree is used,
    not parsed again; an invalid file is parsed and validated on the main path."""
    from stigscap.schemas import validate
    parses: list[str] = []
    original = validate.parse_xml_bytes

    def counted(data, source, *args, **kwargs):
        parses.append(source)
        return original(data, source, *args, **kwargs)

    monkeypatch.setattr(validate, "parse_xml_bytes", counted)
    path = tmp_path / "ds.xml"
    path.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.prepare(path, schema_dir)
    got = check_file(path, schema_dir=schema_dir, semantic_checks=False)
    assert got.valid and got.kind == "sds@1.3" and parses == [] and xsd_passes == []
    (tmp_path / "bad").mkdir()
    bad = _invalid_copy(tmp_path / "bad")
    catalog.prepare(bad, schema_dir)
    got = check_file(bad, schema_dir=schema_dir, semantic_checks=False)
    assert not got.valid and parses == [str(bad)] and xsd_passes == [str(bad)]


def test_without_an_idle_core_prepare_only_compiles(schema_dir, tmp_path, xsd_passes,
                                                    monkeypatch):
    """No core to spare (forced here): no second parse, the schema compiled all the same,
    and check_file validates the file itself."""
    monkeypatch.setenv("STIGSCAP_VALIDATE_WORKER", "0")
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "_compiling", {})
    path = tmp_path / "ds.xml"
    path.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.prepare(path, schema_dir)
    assert catalog._early is None
    assert [(k[1], k[2]) for k in catalog._compiled] == [("sds@1.3", frozenset({WIN}))]
    assert check_file(path, schema_dir=schema_dir).valid and xsd_passes == [str(path)]


# ---------------------------------------------------------------------------------------------
# libxml2's external entity loader is one per process (xmlio.LoaderWindow)

def test_a_parse_waits_while_a_loader_window_is_open():
    window = xmlio.LoaderWindow()
    done = threading.Event()

    def parse() -> None:
        xmlio.parse_xml_bytes(b"<a/>")
        done.set()

    try:
        threading.Thread(target=parse, daemon=True).start()
        assert not done.wait(0.3), "the parse began with a window open"
    finally:
        window.close()
    assert done.wait(10)
    window.close()   # again: nothing happens
    assert xmlio._windows == 0


def test_a_window_left_open_holds_a_parse_back_only_so_long(monkeypatch):
    monkeypatch.setattr(xmlio, "LOADER_WINDOW_WAIT", 0.2)
    window = xmlio.LoaderWindow()
    try:
        started = time.monotonic()
        assert xmlio.parse_xml_bytes(b"<a>x</a>").getroot().text == "x"
        assert 0.15 < time.monotonic() - started < 10
    finally:
        window.close()


def _spy_reductions(monkeypatch, window: xmlio.LoaderWindow | None = None) -> list:
    """(schema file name, result is a reduced schema, window closed) of each call."""
    calls: list = []
    original = catalog._reduced_schema_file

    def spy(url, directory, keep):
        got = original(url, directory, keep)
        calls.append((Path(url).name, got is not None, window is not None and window.closed))
        return got

    monkeypatch.setattr(catalog, "_reduced_schema_file", spy)
    return calls


def test_a_compile_closes_its_window_once_its_imports_load(schema_dir, monkeypatch):
    """Open while the compile parses its entry schema (lxml's loader not yet its own), closed
    by the first import, before the OVAL core schema is loaded (reduced); closed at the end
    in any case, also when there is nothing to compile."""
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "_compiling", {})
    window = xmlio.LoaderWindow()
    calls = _spy_reductions(monkeypatch, window)
    catalog.compiled_schema("sds@1.3", schema_dir, frozenset({WIN}), window=window)
    assert calls[0][2] is False and ("oval-definitions-schema.xsd", True, True) in calls
    assert window.closed and xmlio._windows == 0
    again = xmlio.LoaderWindow()
    catalog.compiled_schema("sds@1.3", schema_dir, frozenset({WIN}), window=again)   # cached
    assert again.closed
    broken = xmlio.LoaderWindow()
    with pytest.raises(StigscapError):
        catalog.compiled_schema("sds@1.3", schema_dir / "missing", window=broken)
    assert broken.closed and xmlio._windows == 0


def test_the_launchers_parse_waits_for_its_compiles_loader(schema_dir, tmp_path, monkeypatch):
    """`prepare` parses the file while a second thread compiles the schema. Each lxml parse
    points libxml2's one entity loader at lxml's hook and puts back what it found, so a parse
    that began before the compile and ended during it put back libxml2's own loader: the
    compile then loaded the OVAL core schema whole, every extension with it (the launcher:
    about half the runs). The parse now begins only once the compile's imports load through
    lxml's hook, here even with a compile thread slow to get there."""
    monkeypatch.setenv("STIGSCAP_VALIDATE_WORKER", "1")
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "_compiling", {})
    monkeypatch.setattr(catalog, "_early", None)
    calls = _spy_reductions(monkeypatch)
    events: list[str] = []
    find_extensions, wait = catalog.used_extensions, xmlio.wait_for_loader_windows

    def slow(data: bytes):
        time.sleep(0.2)
        return find_extensions(data)

    def waited() -> None:
        wait()
        events.append(f"parse after {len(calls)} loads")

    monkeypatch.setattr(catalog, "used_extensions", slow)
    monkeypatch.setattr(xmlio, "wait_for_loader_windows", waited)
    path = tmp_path / "ds.xml"
    path.write_bytes((FIXTURES / "mini-ds.xml").read_bytes())
    catalog.prepare(path, schema_dir)
    # the entry schema (parsed before the compile proper) and at least one import before it
    assert len(events) == 1 and int(events[0].split()[2]) >= 2, events
    assert [name for name, reduced, _ in calls if reduced] == ["oval-definitions-schema.xsd"]
    assert catalog._early is not None and catalog._early.valid(path.read_bytes())


def test_a_forked_child_has_no_open_window():
    """The thread that opened a window is not in a forked child (the fleet forks its workers):
    the child's parses must not wait for it."""
    window = xmlio.LoaderWindow()
    try:
        pid = os.fork()
        if pid == 0:   # the child: report by exit status only
            started = time.monotonic()
            ok = xmlio._windows == 0 and xmlio.parse_xml_bytes(b"<a/>") is not None
            window.close()   # the parent's window, closed on the child's path: not counted
            ok = ok and xmlio._windows == 0 and xmlio.parse_xml_bytes(b"<b/>") is not None
            os._exit(0 if ok and time.monotonic() - started < 1 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert xmlio._windows == 1   # the parent's window is still open
    finally:
        window.close()
