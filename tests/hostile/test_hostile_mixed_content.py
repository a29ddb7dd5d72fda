"""Comments and processing instructions inside values: what the engines read is exactly what
a signature covers.

Canonical XML without comments (every signature here) drops a comment and keeps the text on
both sides, so `^<!-- -->Tls$` is signed as `^Tls$`: the signature stays valid when such a
comment is inserted after signing, and every reader must then read `^Tls$` (lxml's `.text`
stops at the comment: `^`, which matches anything). A processing instruction is signed, and
cannot be part of a value: refused with one line naming file, line and element.

One test per entry point that reads values: eval (data stream signed and not, syschar,
tailoring), oval-analyse (definitions, syschar, variables), collect -d, validate, verify,
export ckl/cklb and report (ARF, --merge of a CKL), import-stig / generate --stig, run --from."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import shared_file
from tests.hostile.hostile_helpers import PROFILE, STAMP, Base, bounded, make_base
from tests.xccdf.xccdf_syschar import syschar_xml

RULE = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"
VALUE = "xccdf_mil.disa.stig_value_receive_connector_authmechanism"
XCCDF = "http://checklists.nist.gov/xccdf/1.2"
BASIC = [("Default internal receive connector EDGE01", "BasicAuth")]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    return make_base(tmp_path_factory.mktemp("mixed-base"))


def _edit(src: Path, dst: Path, old: bytes, new: bytes, count: int | None = None) -> Path:
    data = src.read_bytes()
    n = data.count(old)
    assert n and (count is None or n == count), (old, n)
    dst.write_bytes(data.replace(old, new))
    return dst


def _eval(tmp_path: Path, ds: Path, sc: bytes | Path, *extra, profile: str = PROFILE):
    if isinstance(sc, bytes):
        path = tmp_path / "sc.xml"
        path.write_bytes(sc)
        sc = path
    arf = tmp_path / "arf.xml"
    run = bounded("eval", ds, "--profile", profile, "--system-characteristics", sc,
                  "--results-arf", arf, "--timestamp", STAMP, "-q", *extra)
    return run, arf


def _result(arf: Path) -> str:
    rr = etree.parse(str(arf)).find(f".//{{{XCCDF}}}rule-result[@idref='{RULE}']")
    return rr.findtext(f"{{{XCCDF}}}result")


def _one_line(run, *needles):
    assert run.rc == 1, (run.rc, run.out, run.err)
    lines = [ln for ln in run.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in run.err, run.err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# ---------------------------------------------------------------- eval: the signed data stream

@pytest.mark.parametrize("inside", [b"<!-- -->", b"<!--Tls$</value>-->", b"<![CDATA[]]>"],
                         ids=["comment", "comment-with-markup", "empty-cdata"])
def test_markup_inserted_into_a_signed_value_keeps_the_signature_and_the_verdict(
        base, tmp_path, inside):
    """The issue's attack: `^<!-- -->Tls$` inserted into the signed data stream; the signature
    still verifies (comments are outside the C14N digest), and a BasicAuth connector must
    still fail SV-84553r1 — the engine reads `^Tls$`, as signed, not `^`."""
    ds = _edit(base.signed_ds, tmp_path / "ds.xml", b">^Tls$</value>",
               b">^" + inside + b"Tls$</value>", count=2)
    verify = bounded("verify", ds, "--trusted-cert", base.cert)
    assert verify.rc == 0, verify.out + verify.err          # the premise: still valid
    run, arf = _eval(tmp_path, ds, syschar_xml(BASIC), "--trusted-cert", base.cert)
    assert run.rc == 2, (run.out, run.err)
    assert _result(arf) == "fail"
    # and the compliant host still passes under the same (commented) signed stream
    run, arf = _eval(tmp_path, ds, syschar_xml(), "--trusted-cert", base.cert)
    assert run.rc == 0 and _result(arf) == "pass", run.err


def test_processing_instruction_in_a_value_is_signed_and_refused(base, tmp_path):
    signed = _edit(base.signed_ds, tmp_path / "signed.xml", b">^Tls$</value>",
                   b">^<?x y?>Tls$</value>", count=2)
    assert bounded("verify", signed, "--trusted-cert", base.cert).rc == 1   # a PI is signed
    ds = _edit(base.ds, tmp_path / "ds.xml", b">^Tls$</value>", b">^<?x y?>Tls$</value>",
               count=2)
    run, arf = _eval(tmp_path, ds, syschar_xml(BASIC))
    line = _one_line(run, "<value> may contain only text, found a processing instruction")
    assert line.startswith(f"stigscap: {ds}:")
    assert not arf.exists()


def test_child_element_in_a_value_is_refused(base, tmp_path):
    ds = _edit(base.ds, tmp_path / "ds.xml", b">^Tls$</value>", b">^<b/>Tls$</value>",
               count=2)
    run, _ = _eval(tmp_path, ds, syschar_xml(BASIC))
    _one_line(run, "<value> may contain only text, found element <b>")


# ---------------------------------------------------------------- eval: syschar and tailoring

def _commented_syschar(auth: str, split: int) -> bytes:
    data = syschar_xml([("Default internal receive connector EDGE01", auth)])
    needle = f">{auth}<".encode()
    assert data.count(needle) == 1
    return data.replace(needle, f">{auth[:split]}<!-- -->{auth[split:]}<".encode())


def test_comment_in_a_collected_value_does_not_hide_the_rest(base, tmp_path):
    run, arf = _eval(tmp_path, base.ds, _commented_syschar("Tls, BasicAuth", 3))
    assert run.rc == 2 and _result(arf) == "fail", run.err
    run, arf = _eval(tmp_path, base.ds, _commented_syschar("Tls", 1))
    assert run.rc == 0 and _result(arf) == "pass", run.err


def _tailoring(path: Path, value: str) -> Path:
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<Tailoring xmlns="{XCCDF}" id="xccdf_mil.example_tailoring_site">
  <version time="2026-01-01T00:00:00">1</version>
  <Profile id="xccdf_mil.example_profile_site"
           extends="xccdf_mil.disa.stig_profile_{PROFILE}">
    <title>Site profile</title>
    <set-value idref="{VALUE}">{value}</set-value>
  </Profile>
</Tailoring>
""")
    return path


def test_comment_in_a_tailored_value(base, tmp_path):
    t = _tailoring(tmp_path / "t.xml", "^<!-- -->Tls$")
    run, arf = _eval(tmp_path, base.ds, syschar_xml(BASIC), "--tailoring", t,
                     profile="xccdf_mil.example_profile_site")
    assert run.rc == 2 and _result(arf) == "fail", run.err
    t = _tailoring(tmp_path / "t.xml", "^<?x?>Tls$")
    run, _ = _eval(tmp_path, base.ds, syschar_xml(BASIC), "--tailoring", t,
                   profile="xccdf_mil.example_profile_site")
    _one_line(run, f"{t}:7:", "<set-value> may contain only text")


# ---------------------------------------------------------------- oval-analyse

def _analyse(base: Base, tmp_path: Path, defs: Path, sc: Path, *extra):
    out = tmp_path / "res.xml"
    return bounded("oval-analyse", defs, sc, "--results", out, *extra,
                   env={"SOURCE_DATE_EPOCH": "1790000000"})


def _oval_files(tmp_path: Path, pattern: str | None, auth: str, var_values: list[str]):
    from tests.oval.ovalcases_builder import (P, F, State, Test, cmdlet_item, cmdlet_object,
                                              collected, connector, criteria, criterion,
                                              definition, definitions_doc, external_variable,
                                              syschar_doc, variables_doc)
    var, obj = f"{P}:var:6993101", f"{P}:obj:6993101"
    field = (F("authmechanism", "@PATTERN@", operation="pattern match") if pattern is not None
             else F("authmechanism", None, operation="pattern match", var_ref=var))
    defs = tmp_path / "defs.xml"
    defs.write_bytes(definitions_doc(
        [definition(f"{P}:def:69931", criteria("AND", criterion(f"{P}:tst:6993101")))],
        [Test(f"{P}:tst:6993101", obj, [f"{P}:ste:6993101"]).xml()], [cmdlet_object(obj)],
        [State(f"{P}:ste:6993101", [field]).xml()],
        [external_variable(var)]).replace(b"@PATTERN@", (pattern or "").encode()))
    sc = tmp_path / "sc.xml"
    sc.write_bytes(syschar_doc([collected(obj, "complete", [1])],
                               [cmdlet_item(1, [connector("C0", "@AUTH@")])])
                   .replace(b"@AUTH@", auth.encode()))
    variables = tmp_path / "vars.xml"
    variables.write_bytes(variables_doc({var: ("string", ["@V@"])})
                          .replace(b"@V@", var_values[0].encode()))
    return defs, sc, variables


@pytest.mark.parametrize("where", ["definitions", "variables", "syschar"])
def test_oval_analyse_reads_whole_values(base, tmp_path, where):
    pattern = "^<!-- -->Tls$" if where == "definitions" else None
    auth = "Tls<!-- -->, BasicAuth" if where == "syschar" else "BasicAuth"
    value = "^<!-- -->Tls$" if where == "variables" else "^Tls$"
    defs, sc, variables = _oval_files(tmp_path, pattern, auth, [value])
    run = _analyse(base, tmp_path, defs, sc, "--variables", variables)
    assert run.rc == 0, run.err
    assert run.out.strip().endswith(": false"), run.out


@pytest.mark.parametrize("where", ["definitions", "variables", "syschar"])
def test_oval_analyse_refuses_processing_instructions_in_values(base, tmp_path, where):
    pattern = "^<?x?>Tls$" if where == "definitions" else None
    auth = "Tls<?x?>, BasicAuth" if where == "syschar" else "BasicAuth"
    value = "^<?x?>Tls$" if where == "variables" else "^Tls$"
    defs, sc, variables = _oval_files(tmp_path, pattern, auth, [value])
    run = _analyse(base, tmp_path, defs, sc, "--variables", variables)
    name = {"definitions": defs, "variables": variables, "syschar": sc}[where]
    _one_line(run, f"{name}:", "may contain only text, found a processing instruction")


# ---------------------------------------------------------------- collect -d, validate

def test_collect_reads_the_whole_cmdlet_noun(base, tmp_path):
    ds = _edit(base.ds, tmp_path / "ds.xml", b">ReceiveConnector</win-def:noun>",
               b">Receive<!-- -->Connector</win-def:noun>", count=1)
    out = tmp_path / "sc.xml"
    run = bounded("collect", "-d", ds, "--from", base.exports, "-o", out)
    assert run.rc == 0, run.err
    assert "oval:mil.disa.stig:obj:6993101 (Get-ReceiveConnector): complete" in run.err
    ds = _edit(base.ds, tmp_path / "ds2.xml", b">ReceiveConnector</win-def:noun>",
               b">Receive<?x?>Connector</win-def:noun>", count=1)
    _one_line(bounded("collect", "-d", ds, "--from", base.exports, "-o", out),
              "<noun> may contain only text")


def test_validate_and_platform_read_the_whole_cpe_check_id(base, tmp_path):
    """The CPE dictionary's check names the platform's OVAL definition; a comment in the
    signed id changes neither the signature nor the reference validate checks."""
    ds = _edit(base.signed_ds, tmp_path / "ds.xml", b">oval:mil.disa.stig:def:1</check>",
               b">oval:mil.disa.stig:def:<!-- -->1</check>", count=1)
    assert bounded("verify", ds, "--trusted-cert", base.cert).rc == 0
    run = bounded("validate", ds)
    assert run.rc == 0, run.out + run.err
    run, arf = _eval(tmp_path, ds, syschar_xml(), "--trusted-cert", base.cert)
    assert run.rc == 0 and _result(arf) == "pass", run.err


# ---------------------------------------------------------------- ARF readers and checklists

def test_signed_arf_with_a_comment_in_a_result_still_verifies_and_reads_whole(base, tmp_path):
    signed = tmp_path / "arf-signed.xml"
    assert bounded("sign", base.arf, "--sign-key", base.key, "--sign-cert", base.cert, "-o", signed,
                   "--timestamp", STAMP).rc == 0
    arf = _edit(signed, tmp_path / "arf.xml", b"<result>pass</result>",
                b"<result>pa<!-- -->ss</result>")
    assert bounded("verify", arf, "--trusted-cert", base.cert).rc == 0
    out = tmp_path / "x.ckl"
    assert bounded("export", "ckl", arf, "-o", out).rc == 0
    assert b"<STATUS>NotAFinding</STATUS>" in out.read_bytes()


@pytest.mark.parametrize("cmd", ["export ckl", "export cklb", "report"])
def test_processing_instruction_in_an_arf_result_is_refused(base, tmp_path, cmd):
    arf = _edit(base.arf, tmp_path / "arf.xml", b"<result>pass</result>",
                b"<result>pa<?x?>ss</result>")
    out = tmp_path / "out.file"
    args = ["report", arf, "-o", out] if cmd == "report" else \
        ["export", cmd.split()[1], arf, "-o", out]
    _one_line(bounded(*args), "<result> may contain only text")
    assert not out.exists()


def test_merge_reads_the_whole_ckl_status(base, tmp_path):
    ckl = _edit(base.ckl, tmp_path / "old.ckl", b"<STATUS>NotAFinding</STATUS>",
                b"<STATUS>NotA<!-- -->Finding</STATUS>")
    out = tmp_path / "new.cklb"
    run = bounded("export", "cklb", base.arf, "--merge", ckl, "-o", out)
    assert run.rc == 0, run.err
    ckl = _edit(base.ckl, tmp_path / "old2.ckl", b"<STATUS>NotAFinding</STATUS>",
                b"<STATUS>NotA<?x?>Finding</STATUS>")
    _one_line(bounded("export", "cklb", base.arf, "--merge", ckl, "-o", out),
              "<STATUS> may contain only text")


# ---------------------------------------------------------------- DISA STIG readers

def test_import_stig_reads_whole_versions_and_idents(base, tmp_path):
    plain = bounded("import-stig", base.stig, "--report-only")
    assert plain.rc == 0, plain.err
    stig = _edit(base.stig, tmp_path / "stig.xml", b">TEST-00-000010</version>",
                 b">TEST-00-<!-- -->000010</version>", count=1)
    stig = _edit(stig, tmp_path / "stig2.xml", b">CCI-001368</ident>",
                 b">CCI-<!-- -->001368</ident>")
    commented = bounded("import-stig", stig, "--report-only")
    assert (commented.rc, commented.out) == (plain.rc, plain.out), commented.err
    stig = _edit(base.stig, tmp_path / "stig3.xml", b">TEST-00-000010</version>",
                 b">TEST-00-<?x?>000010</version>", count=1)
    _one_line(bounded("import-stig", stig, "--report-only"), "<version> may contain only text")


def test_generate_from_a_stig_with_comments_in_ids(tmp_path):
    v1r5 = shared_file("samples",
                       "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml")
    plain = tmp_path / "plain.xml"
    run = bounded("generate", "--stig", v1r5, "--rule", "SV-84553r1_rule", "-o", plain,
                  timeout=120)
    assert run.rc == 0, run.err
    stig = _edit(v1r5, tmp_path / "stig.xml", b">EX13-EG-000340</version>",
                 b">EX13-EG-<!-- -->000340</version>", count=1)
    commented = tmp_path / "commented.xml"
    run = bounded("generate", "--stig", stig, "--rule", "SV-84553r1_rule", "-o", commented,
                  timeout=120)
    assert run.rc == 0, run.err
    assert commented.read_bytes() == plain.read_bytes()


# ---------------------------------------------------------------- run --from (CLIXML)

def test_run_from_an_export_with_a_comment_in_a_value(tmp_path):
    """CLIXML is parsed with comments and processing instructions dropped, so a value split
    by one is read whole (`Tls, BasicAuth`: the seed rule fails)."""
    import shutil

    from tests.collect.collect_fixtures import clixml_text, write_clixml
    from tests.hostile.hostile_helpers import REPO
    text = clixml_text([("Default internal receive connector EDGE01", "Tls, BasicAuth")],
                       auth_shape="string")
    assert text.count(">Tls, BasicAuth<") == 1
    d = tmp_path / "exports"
    shutil.copytree(REPO / "content" / "examples" / "edge2013", d)
    write_clixml(d / "Get-ReceiveConnector.xml",
                 text.replace(">Tls, BasicAuth<", ">Tls<!-- --><?x?>, BasicAuth<"))
    out = tmp_path / "out"
    run = bounded("run", "--from", d, "--output", out, "--timestamp", STAMP, timeout=120)
    assert run.rc in (1, 2), run.err     # findings; other rules lack the trimmed properties
    line = next(ln for ln in run.out.splitlines() if "EX13-EG-000340" in ln)
    assert "AuthMechanism=Tls, BasicAuth" in line and line.split("│")[-2].strip() == "fail"
