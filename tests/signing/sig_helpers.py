"""Helpers for the signing tests: run xmlsec1 as an independent verifier, parse its counters."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

DS = "http://scap.nist.gov/schema/scap/source/1.2"
ARF = "http://scap.nist.gov/schema/asset-reporting-format/1.1"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
NS = {"ds": DS, "arf": ARF, "dsig": DSIG, "xccdf": "http://checklists.nist.gov/xccdf/1.2",
      "tmsad": "http://scap.nist.gov/schema/xml-dsig/1.0", "dc": "http://purl.org/dc/elements/1.1/",
      "xlink": "http://www.w3.org/1999/xlink", "core": "http://scap.nist.gov/schema/reporting-core/1.1",
      "dsig-xpath": "http://www.w3.org/2002/06/xmldsig-filter2"}
ID_ATTRS = [f"{DS}:data-stream", f"{DS}:component", f"{ARF}:extended-info", f"{ARF}:report"]


@dataclass
class XmlsecResult:
    rc: int
    ok: bool
    signed_info: tuple[int, int] | None
    manifests: tuple[int, int] | None
    output: str

    @property
    def really_ok(self) -> bool:
        """OK *and* every SignedInfo and Manifest reference ok (xmlsec1 says OK on failed
        Manifest references, ../shared/reference/tool-quirks.md §7 trap 1)."""
        return (self.rc == 0 and self.ok and self.signed_info is not None
                and self.signed_info[0] == self.signed_info[1]
                and (self.manifests is None or self.manifests[0] == self.manifests[1]))


def xmlsec_verify(path: Path, trusted_pem: Path, index: int = 1) -> XmlsecResult:
    cmd = ["xmlsec1", "--verify", "--trusted-pem", str(trusted_pem), "--print-debug"]
    for a in ID_ATTRS:
        cmd += ["--id-attr:id", a]
    cmd += ["--node-xpath", f"(//*[local-name()='Signature' and namespace-uri()='{DSIG}'])"
            f"[{index}]", str(path)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    text = p.stdout + p.stderr

    def counter(label):
        m = re.search(label + r" References \(ok/all\): (\d+)/(\d+)", text)
        return (int(m.group(1)), int(m.group(2))) if m else None

    ok = any(line.strip() == "OK" for line in text.splitlines())
    return XmlsecResult(p.returncode, ok, counter("SignedInfo"), counter("Manifests"), text)


def xmlsec_sign(template: Path, key: Path, cert: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = ["xmlsec1", "--sign", "--privkey-pem", f"{key},{cert}"]
    for a in ID_ATTRS:
        cmd += ["--id-attr:id", a]
    cmd += ["--output", str(out), str(template)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True,
                                                  huge_tree=True))


def write(tree, path: Path) -> Path:
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return path


def make_template(signed: Path, out: Path, mutate=None) -> Path:
    """An xmlsec1 signing template from one of our signed files: same structure, empty
    DigestValue / SignatureValue / X509Certificate for xmlsec1 to fill in."""
    tree = parse(signed)
    for tag in ("DigestValue", "SignatureValue", "X509Certificate"):
        for el in tree.iter(f"{{{DSIG}}}{tag}"):
            el.text = ""
    if mutate:
        mutate(tree)
    return write(tree, out)
