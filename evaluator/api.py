"""stigscap from Python, without the CLI: generate, collect, evaluate, report, sign, verify.

    import stigscap

    ds = stigscap.generate_datastream()                      # built-in content → SCAP 1.3 SDS
    sc = stigscap.collect_offline(ds, stigscap.example_exports())
    result = stigscap.evaluate(ds, sc, profile="MAC-1_Classified")
    ckl = stigscap.checklist(result.to_bytes(), "ckl")

Documents go in as bytes, a path, or a parsed lxml tree/element; documents come out as bytes.
Every problem with the input is a `StigscapError` naming the file, line and problem. Times:
`timestamp` (ISO 8601 or datetime) when given, else SOURCE_DATE_EPOCH, else now; the engines
below never read the clock themselves.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from lxml import etree

from stigscap.schemas.clock import resolve_time, zulu
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import parse_xml_bytes, parse_xml_file, serialize

from .checklists.export import checklist_from_arf, render_checklists
from .results.arf import ArfResult, Evaluator, TargetInfo, target_addresses, target_from_syschar
from .signing.core import SigningKey
from .signing.verifier import VerifyReport

Document = Union[bytes, str, "os.PathLike[str]", etree._Element, etree._ElementTree]
"""An XML document: its bytes, a path to it, or a parsed lxml tree or element."""
Time = Union[str, dt.datetime, None]


def _root(doc: Document, what: str) -> etree._Element:
    if isinstance(doc, etree._ElementTree):
        return doc.getroot()
    if isinstance(doc, etree._Element):
        return doc
    if isinstance(doc, bytes):
        return parse_xml_bytes(doc, f"<{what}>", huge_tree=True).getroot()
    if isinstance(doc, (str, os.PathLike)):
        return parse_xml_file(doc, huge_tree=True).getroot()
    raise TypeError(f"{what}: expected bytes, a path or an lxml element, not "
                    f"{type(doc).__name__}")


def _bytes(doc: Document, what: str) -> bytes:
    if isinstance(doc, bytes):
        return doc
    return serialize(_root(doc, what), pretty=False)


# ------------------------------------------------------------------------------- content

def generate_datastream(content_dir: str | os.PathLike[str] | None = None, *,
                        rules: Sequence[str] = (), stig: str | os.PathLike[str] | None = None,
                        timestamp: Time = None) -> bytes:
    """The SCAP 1.3 source data stream of a content directory (default: the built-in Exchange
    2013 Edge STIG content), validated before it is returned. `stig`: DISA's manual XCCDF
    whose facts to use; `rules`: only these rules. Default time: the benchmark's status date."""
    from stigscap.content.loader import load_content
    from stigscap.generator.build import content_from_stig, content_time, generate, id_scheme
    from stigscap.generator.disa_xccdf import read_disa_benchmark

    content = load_content(Path(content_dir) if content_dir is not None else None)
    if stig is not None:
        content = content_from_stig(content, read_disa_benchmark(stig), list(rules))
    else:
        content = content.select(list(rules))
    when = resolve_time(timestamp, fallback=content_time(content))
    return generate(content, id_scheme(content), when).datastream


# ------------------------------------------------------------------------------- collection

def example_exports(stig: str = "edge2013") -> Path:
    """The directory of built-in example exports of one STIG's server, with findings:
    "edge2013" (default; the Exchange 2013 Edge benchmark, `generate_datastream()`'s default),
    "edge2016", "mailbox2016", "edge2019" (for the benchmarks exchange2016_edge,
    exchange2016_mailbox, exchange2019_edge)."""
    from .collect.offline import example_exports_dir
    return example_exports_dir(stig)


def collect_offline(definitions: Document, exports: str | os.PathLike[str] | Iterable[str], *,
                    host_name: str | None = None, timestamp: Time = None) -> bytes:
    """OVAL system characteristics (bytes) for the cmdlet_objects of `definitions` (a data
    stream or OVAL definitions), read from PowerShell exports: a directory of files named after
    the cmdlet (Get-ReceiveConnector.xml, ….json), or specs "DIR" / "CMDLET=FILE"."""
    from .collect.offline import ExportMap, collect_with_system
    from .collect.syschar import syschar_bytes
    from .oval.objects import read_cmdlet_objects

    specs = [os.fspath(exports)] if isinstance(exports, (str, os.PathLike)) else \
        [str(s) for s in exports]
    export_map = ExportMap.from_specs(specs)
    objects = read_cmdlet_objects(_root(definitions, "definitions"))
    if not objects.all():
        raise StigscapError("no win-def:cmdlet_object in the definitions")
    collected, system, _notes = collect_with_system(objects, export_map, host_name=host_name)
    return syschar_bytes(collected, system, timestamp=zulu(resolve_time(timestamp)))


# ------------------------------------------------------------------------------- evaluation

def evaluate(datastream: Document, syschar: Document, *, profile: str | None = None,
             tailoring: Document | None = None, set_values: Mapping[str, str] | None = None,
             refine_values: Mapping[str, str] | None = None,
             addresses: Sequence[str] = (), timestamp: Time = None) -> ArfResult:
    """Judge one host (its system characteristics) against a source data stream.

    The result has `rule_results`, `counts`, `exit_code` (0 pass, 2 findings, 1 error) and
    `to_bytes()` (the ARF 1.1 report). For many hosts, build one `Evaluator` and call its
    `evaluate` per host: the data stream is compiled once."""
    ev = Evaluator(_root(datastream, "data stream"), profile,
                   tailoring=_root(tailoring, "tailoring") if tailoring is not None else None,
                   set_values=set_values, refine_values=refine_values)
    sc = _root(syschar, "system characteristics")
    target = target_from_syschar(sc, addresses=target_addresses(addresses))
    return ev.evaluate(sc, target=target, timestamp=resolve_time(timestamp))


# ------------------------------------------------------------------------------- reports

def checklist(arf: Document | ArfResult, fmt: str = "ckl", *,
              stig: str | os.PathLike[str] | None = None,
              merge: str | os.PathLike[str] | None = None) -> bytes:
    """The STIG Viewer checklist (fmt "ckl" or "cklb") of a single-host ARF. `stig`: DISA's
    manual XCCDF, so every rule of it is listed; `merge`: an earlier checklist whose manual
    reviews are carried over."""
    data = arf.to_bytes() if isinstance(arf, ArfResult) else _bytes(arf, "ARF")
    return checklist_from_arf(data, fmt, stig=_path(stig), merge=_path(merge))


def checklists(arfs: Iterable[Document], fmt: str = "ckl", *,
               stig: str | os.PathLike[str] | None = None) -> dict[str, bytes]:
    """{file name: checklist bytes}, one per host, for several ARFs (a fleet)."""
    return render_checklists([_bytes(a, "ARF") for a in arfs], fmt, stig=_path(stig))


def html_report(arfs: Iterable[Document], *, stig: str | os.PathLike[str] | None = None,
                title: str | None = None, timestamp: Time = None) -> str:
    """One self-contained HTML report for one or more ARFs."""
    from .checklists.report_html import html_report as _html
    return _html([_bytes(a, "ARF") for a in arfs], stig=_path(stig), title=title,
                 timestamp=resolve_time(timestamp))


def _path(p: str | os.PathLike[str] | None) -> str | None:
    return os.fspath(p) if p is not None else None


# ------------------------------------------------------------------------------- signatures

def load_signing_key(key: str | os.PathLike[str], cert: str | os.PathLike[str] | None = None, *,
                     password: str | None = None) -> SigningKey:
    """A private key (PEM, optionally encrypted, or PKCS#12) and its certificate chain."""
    from .signing import core
    from .signing.keys import _read
    key_data = _read(key, "private key")
    cert_data = _read(cert, "certificate") if cert is not None else None
    return core.load_signing_key(key_data, cert_data,
                                 password=password.encode() if password is not None else None,
                                 source=os.fspath(key))


def sign(document: Document, key: SigningKey, *, timestamp: Time = None) -> bytes:
    """A source data stream or ARF report, signed (XML-DSig as SP 800-126r3 lays out)."""
    from .signing.signer import sign_bytes
    return sign_bytes(_bytes(document, "document"), key, resolve_time(timestamp))


def verify(document: Document, *, trusted: Sequence[str | os.PathLike[str]] = (),
           ca_bundle: str | os.PathLike[str] | None = None,
           at_time: Time = None) -> VerifyReport:
    """Check every signature of a source data stream or ARF report against pinned
    certificates (`trusted` files) or a CA bundle; `report.valid`, `report.reason`."""
    from .signing.keys import load_certificates
    from .signing.verifier import verify_document
    if not trusted and ca_bundle is None:
        raise StigscapError("give trusted certificates or a CA bundle")
    certs = [c for path in trusted for c in load_certificates(path)]
    when = resolve_time(at_time) if at_time is not None else None
    return verify_document(_root(document, "document"), certs,
                           ca_file=_path(ca_bundle), at_time=when)


# ------------------------------------------------------------------------------- validation

def validate(document: Document) -> list[Any]:
    """Problems of a SCAP document (official XSDs, then semantic and SCAP 1.3 checks); an
    empty list means valid."""
    from stigscap.schemas.validate import check_document
    return list(check_document(_root(document, "document"), "<document>").problems)


__all__ = ["ArfResult", "Document", "Evaluator", "SigningKey", "StigscapError", "TargetInfo",
           "VerifyReport", "checklist", "checklists", "collect_offline", "evaluate",
           "example_exports", "generate_datastream", "html_report", "load_signing_key", "sign",
           "validate", "verify"]
