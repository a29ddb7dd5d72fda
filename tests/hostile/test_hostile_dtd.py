"""No file, FIFO, device or URL named in a DTD is ever opened, and no input file that is not a
regular file is read: for every entry point of the command line, a DOCTYPE whose parameter
entity names /dev/zero or a FIFO, and a FIFO given as the input itself, end in one line and
exit 1 within seconds (libxml2 reads external parameter entities while it parses, whatever the
parser options, so the DOCTYPE has to be refused before it sees the document).

Every run is bounded (own process group, killed after 20 s, the test then fails as a hang);
the FIFOs are real (os.mkfifo) and never get a writer."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.hostile.hostile_helpers import (PROFILE, Base, bounded, bounded_python, make_base)

DEV_ZERO = '<!DOCTYPE r [<!ENTITY % z SYSTEM "file:///dev/zero"> %z;]>\n<r/>\n'


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    return make_base(tmp_path_factory.mktemp("hostile-base"))


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _hostile(tmp_path: Path, variant: str, fifo: Path, name: str = "input.xml") -> Path:
    """The hostile input file for a variant."""
    if variant == "fifo-as-input":
        return fifo
    path = tmp_path / name
    if variant == "dtd-dev-zero":
        path.write_text(DEV_ZERO)
    elif variant == "dtd-fifo":
        path.write_text(f'<!DOCTYPE r [<!ENTITY % f SYSTEM "file://{fifo}"> %f;]>\n<r/>\n')
    elif variant == "dtd-fifo-external-subset":
        path.write_text(f'<!DOCTYPE r SYSTEM "{fifo}">\n<r/>\n')
    else:
        raise AssertionError(variant)
    return path


# entry point -> argv with the hostile file H in the named role (B: valid inputs, O: output)
ENTRY_POINTS = {
    "validate": lambda H, B, O: ["validate", H],
    "collect -d": lambda H, B, O: ["collect", "-d", H, "--from", B.exports, "-o", O / "sc.xml"],
    "eval data stream": lambda H, B, O: ["eval", H, "--profile", PROFILE,
                                         "--system-characteristics", B.sc,
                                         "--results-arf", O / "arf.xml", "-q"],
    "eval syschar": lambda H, B, O: ["eval", B.ds, "--profile", PROFILE,
                                     "--system-characteristics", H,
                                     "--results-arf", O / "arf.xml", "-q"],
    "eval tailoring": lambda H, B, O: ["eval", B.ds, "--profile", PROFILE, "--tailoring", H,
                                       "--system-characteristics", B.sc,
                                       "--results-arf", O / "arf.xml", "-q"],
    "verify": lambda H, B, O: ["verify", H, "--trusted-cert", B.cert],
    "sign": lambda H, B, O: ["sign", H, "--sign-key", B.key, "--sign-cert", B.cert, "-o", O / "s.xml"],
    "export ckl ARF": lambda H, B, O: ["export", "ckl", H, "-o", O / "x.ckl"],
    "export cklb ARF": lambda H, B, O: ["export", "cklb", H, "-o", O / "x.cklb"],
    "export --stig": lambda H, B, O: ["export", "ckl", B.arf, "--stig", H, "-o", O / "x.ckl"],
    "export --merge CKL": lambda H, B, O: ["export", "cklb", B.arf, "--merge", H,
                                           "-o", O / "x.cklb"],
    "generate --stig": lambda H, B, O: ["generate", "--stig", H, "-o", O / "ds.xml"],
    "import-stig": lambda H, B, O: ["import-stig", H, "--output", O / "rules"],
    "import-stig --previous": lambda H, B, O: ["import-stig", B.stig, "--previous", H,
                                               "--report-only"],
    "oval-analyse definitions": lambda H, B, O: ["oval-analyse", H, B.sc,
                                                 "--results", O / "r.xml"],
    "oval-analyse syschar": lambda H, B, O: ["oval-analyse", B.defs, H,
                                             "--results", O / "r.xml"],
    "oval-analyse variables": lambda H, B, O: ["oval-analyse", B.defs, B.sc, "--variables", H,
                                               "--results", O / "r.xml"],
    "report": lambda H, B, O: ["report", H, "-o", O / "r.html"],
    "report --stig": lambda H, B, O: ["report", B.arf, "--stig", H, "-o", O / "r.html"],
    "scan data stream": lambda H, B, O: ["scan", H, "--profile", PROFILE, "--inventory",
                                         B.inventory, "--output", O / "scan", "-q"],
}
VARIANTS = ["dtd-dev-zero", "dtd-fifo", "dtd-fifo-external-subset", "fifo-as-input"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_entry_point_refuses_dtd_and_fifo_in_one_line(base, tmp_path, fifo, entry, variant):
    hostile = _hostile(tmp_path, variant, fifo)
    out = tmp_path / "out"
    out.mkdir()
    run = bounded(*ENTRY_POINTS[entry](hostile, base, out))
    assert run.rc == 1, (run.rc, run.out, run.err)
    lines = [ln for ln in run.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in run.err, run.err
    assert lines[0].startswith(f"stigscap: {hostile}"), lines[0]
    if variant == "fifo-as-input":
        assert "not a regular file (a FIFO)" in lines[0]
    else:
        assert "document type declarations (DTD) are not allowed" in lines[0]
    assert [p.name for p in out.rglob("*") if p.is_file()] == []   # nothing written


# ---------------------------------------------------------------- exports (CLIXML is XML too)

def _clixml_dtd(fifo: Path, variant: str) -> bytes:
    target = "/dev/zero" if variant == "dtd-dev-zero" else str(fifo)
    objs = ('<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            '<Obj RefId="0"><MS><S N="Name">a</S><S N="AuthMechanism">Tls</S></MS></Obj></Objs>')
    doc = f'<!DOCTYPE Objs [<!ENTITY % z SYSTEM "file://{target}"> %z;]>{objs}'
    if variant == "utf16-after-long-comment":   # the DTD well past the first megabyte
        doc = "<!--" + "x" * (3 << 20) + "-->" + doc
        return b"\xff\xfe" + doc.encode("utf-16-le")
    return doc.encode("utf-8")


def _export_dir(tmp_path: Path, data: bytes) -> Path:
    d = tmp_path / "exports"
    d.mkdir()
    (d / "Get-ReceiveConnector.xml").write_bytes(data)
    return d


@pytest.mark.parametrize("variant", ["dtd-dev-zero", "dtd-fifo", "utf16-after-long-comment"])
@pytest.mark.parametrize("entry", ["collect --from", "run --from"])
def test_export_with_dtd_is_an_error_not_a_hang(base, tmp_path, fifo, entry, variant):
    d = _export_dir(tmp_path, _clixml_dtd(fifo, variant))
    out = tmp_path / "out"
    reason = "Get-ReceiveConnector.xml: document type declarations (DTD) are not allowed"
    if entry == "collect --from":
        run = bounded("collect", "-d", base.ds, "--from", d, "-o", out / "sc.xml")
        assert run.rc == 1, (run.rc, run.out, run.err)       # objects not collected
        assert reason in run.err
        sc = out / "sc.xml"
    else:
        run = bounded("run", "--from", d, "--output", out, "--timestamp", "2026-11-28T00:00:00Z")
        assert run.rc == 2, (run.rc, run.out, run.err)       # no rule passes
        assert "EX13-EG-000340 │ I   │        │                 │ unknown" in run.out
        sc = next(out.glob("*-sc.xml"))
    assert "Traceback" not in run.err
    # the export is an error of its object, with the reason in the system characteristics
    assert reason in sc.read_text()


@pytest.mark.parametrize("entry", ["collect --from", "run --from"])
def test_export_given_as_a_fifo_is_refused(base, tmp_path, fifo, entry):
    spec = f"Get-ReceiveConnector={fifo}"
    out = tmp_path / "out"
    if entry == "collect --from":
        run = bounded("collect", "-d", base.ds, "--from", spec, "-o", out / "sc.xml")
    else:
        run = bounded("run", "--from", spec, "--output", out)
    assert run.rc == 1 and "not a regular file" in run.err, (run.rc, run.out, run.err)
    assert len([ln for ln in run.err.splitlines() if ln.strip()]) == 1
    run = bounded("collect", "-d", base.ds, "--from", fifo, "-o", out / "sc.xml")
    assert run.rc == 1 and "not a regular file or directory" in run.err, run.err


# ---------------------------------------------------------------- encodings and prologs

_SAFE_PARSE = """
import sys
from stigscap.schemas.xmlio import parse_xml_bytes
from stigscap.schemas.errors import StigscapError
try:
    parse_xml_bytes(open(sys.argv[1] if len(sys.argv) > 1 else {path!r}, 'rb').read(), 'doc.xml')
    print('PARSED')
except StigscapError as exc:
    print('REFUSED', exc)
"""

DTD = '<!DOCTYPE r [<!ENTITY % z SYSTEM "file:///dev/zero"> %z;]>'
# the DTD as one UTF-7 base64 run ("+ADwAIQ…-"): ASCII bytes without a "<" in them
UTF7_DTD = b"+" + base64.b64encode(DTD.encode("utf-16-be")).rstrip(b"=") + b"-"
ENCODED = {
    # name: (bytes, expected refusal text)
    "utf8-bom": (b"\xef\xbb\xbf" + DTD.encode() + b"<r/>", "DTD"),
    "utf16le-bom": (("\ufeff" + DTD + "<r/>").encode("utf-16-le"), "DTD"),
    "utf16be-bom": (("\ufeff" + DTD + "<r/>").encode("utf-16-be"), "DTD"),
    "utf16le-no-bom": (('<?xml version="1.0" encoding="UTF-16"?>' + DTD + "<r/>")
                       .encode("utf-16-le"), "DTD"),
    "utf16be-no-bom": (('<?xml version="1.0"?>' + DTD + "<r/>").encode("utf-16-be"), "DTD"),
    "declared-utf7": (b'<?xml version="1.0" encoding="UTF-7"?>' + UTF7_DTD + b"<r/>",
                      "unsupported character encoding 'UTF-7'"),
    "utf32-bom": (('<?xml version="1.0" encoding="UTF-32"?>' + DTD + "<r/>").encode("utf-32"),
                  "UTF-32"),
    "ucs4-no-bom": (("<?xml version='1.0'?>" + DTD + "<r/>").encode("utf-32-be"), "UCS-4"),
    "ebcdic": (('<?xml version="1.0" encoding="IBM037"?>' + DTD + "<r/>").encode("cp037"),
               "EBCDIC"),
    "declared-utf16-on-8-bit-bytes": (b'<?xml version="1.0" encoding="UTF-16"?>'
                                      + (DTD + "<r/>").encode("utf-16-le"), "not UTF-16"),
    "unquoted-encoding": (b'<?xml version="1.0" encoding=UTF-7?>' + UTF7_DTD + b"<r/>",
                          "unreadable encoding declaration"),
    "after-comments-and-pis": (('<?xml version="1.0"?>\n<!-- a -- b -->\n<?pi x?>\n'
                                + DTD + "<r/>").encode(), "doc.xml:4: document type"),
    "after-a-2mb-comment": (("<!--" + "-" * (2 << 20) + "-->" + DTD + "<r/>").encode(), "DTD"),
    "lowercase-doctype": (b'<!doctype r [<!ENTITY % z SYSTEM "file:///dev/zero"> %z;]><r/>',
                          "DTD"),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_dtd_hidden_by_encoding_or_prolog_is_refused(tmp_path, name):
    data, expect = ENCODED[name]
    path = tmp_path / "doc.xml"
    path.write_bytes(data)
    p = bounded_python(_SAFE_PARSE.format(path=str(path)))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("REFUSED") and expect in p.stdout, p.stdout


@pytest.mark.parametrize("data", [
    b"\x0c" + DTD.encode() + b"<r/>",           # not XML whitespace: libxml2 stops at once
    b"garbage" + DTD.encode() + b"<r/>",
    b"<r/>" + DTD.encode(),                      # after the root: not well-formed
], ids=["formfeed", "text-before", "after-root"])
def test_malformed_prolog_never_reaches_the_dtd(tmp_path, data):
    path = tmp_path / "doc.xml"
    path.write_bytes(data)
    p = bounded_python(_SAFE_PARSE.format(path=str(path)))
    assert p.returncode == 0 and p.stdout.startswith("REFUSED"), (p.stdout, p.stderr)


@pytest.mark.parametrize("data", [
    '<?xml version="1.0" encoding="UTF-16"?>\n<!-- c --><r>é</r>'.encode("utf-16"),
    '<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>'.encode("latin-1"),
    '<?xml version="1.0" encoding="windows-1252"?><r>\xe9</r>'.encode("cp1252"),
    b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><r>\xc3\xa9</r>',
    b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-16"?><r>\xc3\xa9</r>',  # label ignored
    "<?xml version='1.0'?><?xml-stylesheet href='a.xsl'?><!--x--><r>é</r>".encode(),
], ids=["utf16", "latin1", "cp1252", "utf8-bom", "utf8-bom-utf16-label", "stylesheet-pi"])
def test_ordinary_encodings_still_parse(tmp_path, data):
    from stigscap.schemas.xmlio import parse_xml_bytes
    assert parse_xml_bytes(data, "doc.xml").getroot().text == "é"


def test_large_prolog_is_checked_in_linear_time(tmp_path):
    """Many small comments before the root: the prolog check must not rescan them."""
    from stigscap.schemas.xmlio import check_prolog
    import time
    data = b"<!---->" * 400_000 + b"<r/>"
    t0 = time.process_time()
    check_prolog(data, "doc.xml")
    assert time.process_time() - t0 < 5
