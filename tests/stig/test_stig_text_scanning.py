"""DISA description pseudo-XML and the generator's text markers, scanned in linear time.

`encoded_part` and `description_parts` (schemas.disa_xccdf) and the checklist reader used lazy
regular expressions (`<tag>(.*?)</tag>`, `\\n\\s*Automated check …`) that retry from every
opening tag or newline and scan to the end each time: a description with 20,000 unclosed
`&lt;VulnDiscussion&gt;` took 42 s. The scanners now give the same answers as those
expressions (checked here against them, as the specification, on generated inputs) and read a
hostile benchmark without hanging (a hang guard, not a timing test: the old code needs many
minutes for it, the guard allows a minute).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st
from lxml import etree

from stigscap.evaluator.results import arf_reader
from stigscap.evaluator.results.arf_reader import ocil_questions, read_stig
from stigscap.generator.disa_xccdf import encoded_part, read_disa_benchmark
from stigscap.schemas.disa_xccdf import description_parts

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "disa_mini_v2r3.xml"
REPO = HERE.parents[1]

# The expressions the scanners replace: the meaning they must keep.
SPEC_PART = lambda tag: re.compile(rf"<{tag}>(.*?)</{tag}>", re.S)  # noqa: E731
SPEC_DESC = re.compile(r"<(\w+)>(.*?)</\1>", re.S)
SPEC_AUTOMATED = re.compile(r"\n\s*Automated check \(stigscap\):\s*", re.S)
SPEC_OCIL_TAIL = re.compile(r"\n\s*Is it the case that[^\n]*\?\s*$")

TOKENS = ["<VulnDiscussion>", "</VulnDiscussion>", "<FalsePositives>", "</FalsePositives>",
          "<Documentable>", "</Documentable>", "<VulnDiscussion", "</Vuln", "<", ">", "/",
          "a", "b c", "\n", "\r\n", " ", "\t", "\x0b", "\u2028", "?", "x?",
          "Automated check (stigscap):", "Is it the case that", "Is it the case that x?"]
texts = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


def _norm(text: str) -> str:
    from stigscap.generator.disa_xccdf import normalize_text
    return normalize_text(text)


@settings(max_examples=600, deadline=None)
@given(texts)
def test_encoded_part_means_what_the_regex_meant(text):
    for tag in ("VulnDiscussion", "FalsePositives"):
        m = SPEC_PART(tag).search(text)
        assert encoded_part(text, tag) == (_norm(m.group(1)) if m else "")


@settings(max_examples=600, deadline=None)
@given(texts)
def test_description_parts_mean_what_the_regex_meant(text):
    assert description_parts(text) == SPEC_DESC.findall(text)


@settings(max_examples=600, deadline=None)
@given(texts)
def test_automated_split_means_what_the_regex_meant(text):
    parts = SPEC_AUTOMATED.split(text, maxsplit=1)
    assert arf_reader._split_automated(text) == (tuple(parts) if len(parts) == 2 else None)


@settings(max_examples=600, deadline=None)
@given(texts)
def test_ocil_question_tail_means_what_the_regex_meant(text):
    assert arf_reader._strip_ocil_question(text) == SPEC_OCIL_TAIL.sub("", text)


def test_edge_cases_by_hand():
    d = "<VulnDiscussion>" * 3 + "a<VulnDiscussion>b</VulnDiscussion>c</VulnDiscussion>"
    assert encoded_part(d, "VulnDiscussion") == "<VulnDiscussion><VulnDiscussion>a<VulnDiscussion>b"
    assert encoded_part("<VulnDiscussion>" * 5, "VulnDiscussion") == ""
    assert encoded_part("</VulnDiscussion><VulnDiscussion>x", "VulnDiscussion") == ""
    assert encoded_part("<VulnDiscussion></VulnDiscussion>", "VulnDiscussion") == ""
    assert arf_reader._split_description(
        "<FalsePositives>fp</FalsePositives><VulnDiscussion> d </VulnDiscussion>"
        + "<Mitigations>" * 4) == {"discussion": "d", "false_positives": "fp"}
    assert arf_reader._split_description("<VulnDiscussion>" * 4 + "<Mitigations>m</Mitigations>") \
        == {"mitigations": "m"}
    assert arf_reader._split_description(
        "<VulnDiscussion>v</VulnDiscussion>\n \n Automated check (stigscap):  oval  x\n") == {
            "discussion": "v", "automated_check": "oval x"}
    assert arf_reader._strip_ocil_question("Check it.\n \n  Is it the case that ok?\n") \
        == "Check it."
    assert arf_reader._strip_ocil_question("Check it. Is it the case that ok?") \
        == "Check it. Is it the case that ok?"


def _hostile_benchmark(tmp_path: Path, n: int) -> Path:
    """The fixture with V-1001's description n unclosed `<VulnDiscussion>` (escaped, as DISA
    writes it) and V-1002's description n newlines between two words."""
    src = FIXTURE.read_text(encoding="utf-8-sig")
    tree = etree.fromstring(src.encode())
    ns = {"x": "http://checklists.nist.gov/xccdf/1.1"}
    d1 = tree.find("x:Group[@id='V-1001']/x:Rule/x:description", ns)
    d1.text = "<VulnDiscussion>" * n + "<FalsePositives>fp</FalsePositives>"
    d2 = tree.find("x:Group[@id='V-1002']/x:Rule/x:description", ns)
    d2.text = "a" + "\n" * (4 * n) + "b"
    out = tmp_path / "hostile-xccdf.xml"
    out.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return out


def test_hostile_descriptions_are_read_without_hanging(tmp_path):
    # 100,000 unclosed tags: the old expressions need (100k / 20k)^2 x 42 s, over 15 minutes,
    # per reader; the scanners take milliseconds. The timeout only guards against a hang.
    path = _hostile_benchmark(tmp_path, 100_000)
    script = f"""
import json
from lxml import etree
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.evaluator.results.arf_reader import read_stig, ocil_questions
b = read_disa_benchmark({str(path)!r})
s = read_stig({str(path)!r})
ocil = etree.fromstring(
    '<ocil xmlns="http://scap.nist.gov/schema/ocil/2.0"><questionnaires>'
    '<questionnaire id="q"><actions><test_action_ref>a</test_action_ref></actions>'
    '</questionnaire></questionnaires><test_actions><boolean_question_test_action id="a" '
    'question_ref="t"/></test_actions><questions><boolean_question id="t"><question_text>'
    'x' + '\\n' * 400000 + 'y?</question_text></boolean_question></questions></ocil>')
print(json.dumps({{
    "disa_1001": b.rule("V-1001").discussion, "disa_1002": b.rule("V-1002").discussion,
    "stig_1001_fp": s.rule("SV-2001r1_rule").false_positives,
    "stig_1001_disc": s.rule("SV-2001r1_rule").discussion,
    "stig_1002_len": len(s.rule("SV-2002r2_rule").discussion),
    "ocil_len": len(ocil_questions(ocil)["q"]),
}}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == {"disa_1001": "", "disa_1002": "", "stig_1001_fp": "fp",
                   "stig_1001_disc": "", "stig_1002_len": 400_002, "ocil_len": 400_003}


def test_hostile_benchmark_readers_agree_in_process(tmp_path):
    """The same shapes, small enough for the old expressions too, read through the public
    readers: the unclosed tags yield no discussion, the closed FalsePositives is kept."""
    path = _hostile_benchmark(tmp_path, 200)
    b = read_disa_benchmark(path)
    assert b.rule("V-1001").discussion == "" and b.rule("V-1002").discussion == ""
    assert b.rule("V-1003").discussion == "Long timeouts keep idle sessions open."
    s = read_stig(path)
    r = s.rule("SV-2001r1_rule")
    assert (r.discussion, r.false_positives) == ("", "fp")
    assert s.rule("SV-2002r2_rule").discussion == "a" + "\n" * 800 + "b"
    assert ocil_questions(etree.fromstring(
        '<ocil xmlns="http://scap.nist.gov/schema/ocil/2.0"><questionnaires>'
        '<questionnaire id="q"><actions><test_action_ref>a</test_action_ref></actions>'
        '</questionnaire></questionnaires><test_actions><boolean_question_test_action id="a" '
        'question_ref="t"/></test_actions><questions><boolean_question id="t"><question_text>'
        'Look at X.\n\nIs it the case that X is on?</question_text></boolean_question>'
        '</questions></ocil>')) == {"q": "Look at X."}
