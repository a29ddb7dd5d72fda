"""Validation with only the OVAL extension schemas a document declares: the verdicts and the
problems of the official schema as it is, never a pass that the whole schema would refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas import catalog
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
    path = FIXTURES / "mini-ds.xml"
    catalog.prepare(path, schema_dir)
    keys = list(catalog._compiled)
    assert [(k[1], k[2]) for k in keys] == [("sds@1.3", frozenset({WIN}))]
    assert check_file(path, schema_dir=schema_dir).valid
    assert list(catalog._compiled) == keys


def test_prepare_leaves_large_files_alone(schema_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "_compiled", {})
    monkeypatch.setattr(catalog, "PREPARE_MAX_BYTES", 1000)
    catalog.prepare(FIXTURES / "mini-ds.xml", schema_dir)
    assert catalog._compiled == {}
