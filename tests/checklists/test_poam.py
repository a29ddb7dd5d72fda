"""POA&M for eMASS from our CKL (issue 15 done-when): `saf convert ckl2POAM` (pinned @mitre/saf)
reads the checklist `run` writes and lists exactly its Open findings."""

from __future__ import annotations

import re
import subprocess
import zipfile

from lxml import etree

from tests.checklists.conftest import node_tools
from tests.cli_helpers import stigscap

TS = "2026-12-01T00:00:00Z"


def _ckl_rows(ckl) -> dict[str, tuple[str, str]]:
    """Rule_ID → (STATUS, Rule_Title) of every VULN of the checklist."""
    out = {}
    for v in etree.parse(str(ckl)).getroot().iter("VULN"):
        data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA")
                for sd in v.iter("STIG_DATA")}
        out[data["Rule_ID"]] = (v.findtext("STATUS"), data["Rule_Title"])
    return out


def test_saf_ckl2poam_lists_the_open_findings(tmp_path):
    nm = node_tools()
    out = tmp_path / "run"
    assert stigscap("run", "--example", "-o", out, "--timestamp", TS).rc == 2
    ckl = next(out.glob("*.ckl"))
    rows = _ckl_rows(ckl)
    open_rules = {r for r, (s, _t) in rows.items() if s == "Open"}
    assert open_rules and any(s == "NotAFinding" for s, _t in rows.values())
    poam = tmp_path / "poam"
    poam.mkdir()
    p = subprocess.run([str(nm / ".bin" / "saf"), "convert", "ckl2POAM", "-i", str(ckl), "-o",
                        str(poam), "-O", "DISA", "-d", "EDGE01"], capture_output=True, text=True,
                       timeout=180, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    (book,) = list(poam.iterdir())
    with zipfile.ZipFile(book) as z:
        strings = etree.fromstring(z.read("xl/sharedStrings.xml"))
    texts = ["".join(si.itertext()) for si in strings]
    # saf names each finding by its rule id (SV-84553r1_rule)
    listed = {int(n) for t in texts for n in re.findall(r"SV-(\d+)", t)}
    number = {r: int(re.match(r"SV-(\d+)", r).group(1)) for r in rows}
    assert {number[r] for r in open_rules} <= listed
    assert not {number[r] for r, (s, _t) in rows.items() if s == "NotAFinding"} & listed
    titles = "\n".join(texts)
    for rule in open_rules:   # each with its title
        assert f"Rule Title: {rows[rule][1]}" in titles, rule
