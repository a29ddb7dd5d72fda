"""The XSD pass in a worker thread, overlapping the checks, gives the verdicts of one thread."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas.validate import check_file, validate_document

FIXTURES = Path(__file__).with_name("fixtures")
MINI = (FIXTURES / "mini-ds.xml").read_text(encoding="utf-8")

SINGLE_ERRORS = {
    "oval-content": ("<win-def:verb>Get</win-def:verb>", "<win-def:verb>Set</win-def:verb>"),
    "component-attribute": ('id="scap_mil.disa.stig_comp_test-cpe-dictionary.xml" timestamp="2024-01-01T00:00:00"',
                            'id="scap_mil.disa.stig_comp_test-cpe-dictionary.xml" timestamp="yesterday"'),
    "xccdf-content": ('<xccdf:status date="2024-01-01">accepted</xccdf:status>',
                      '<xccdf:status date="2024-01-01">accepted</xccdf:status><xccdf:bogus/>'),
    "datastream-attribute": ('use-case="CONFIGURATION"\n      timestamp="2024-01-01T00:00:00"',
                             'use-case="CONFIGURATION"\n      timestamp="soon"'),
    "duplicate-component-id": ('id="scap_mil.disa.stig_comp_test-oval.xml" timestamp',
                               'id="scap_mil.disa.stig_comp_test-xccdf.xml" timestamp'),
    "duplicate-id-across-parts": ('<xccdf:Profile id="xccdf_mil.disa.stig_profile_MAC-1_Classified">',
                                  '<xccdf:Profile id="xccdf_mil.disa.stig_profile_MAC-1_Classified" '
                                  'Id="scap_mil.disa.stig_comp_test-oval.xml">'),
    "cpe-content": ('<cpe-item name="cpe:/a:microsoft:exchange_server:2013">', '<cpe-item name="not a cpe">'),
}


def _everything(result):
    return [(p.line, p.path, p.rule, p.message, p.severity) for p in result.problems]


@pytest.mark.parametrize("case", sorted(SINGLE_ERRORS))
def test_xsd_worker_matches_one_thread(schema_dir, tmp_path, case):
    old, new = SINGLE_ERRORS[case]
    p = tmp_path / "ds.xml"
    p.write_text(MINI.replace(old, new, 1), encoding="utf-8")
    one = check_file(p, parallel=False)
    two = check_file(p, parallel=True)
    assert any(q.rule.startswith("XSD") for q in one.problems)
    assert _everything(two) == _everything(one)
    # and both are what the parsed document gets from the official schema as it is (no
    # reduction to the OVAL extensions the file declares)
    whole = validate_document(etree.parse(str(p)), str(p))
    assert [(q.line, q.path, q.rule, q.message, q.severity) for q in whole] == _everything(one)


def test_xsd_worker_on_other_kinds(schema_dir, tmp_path):
    """Not only source data streams: the data stream's OVAL component as a file of its own,
    with an XSD error, gets the same problems from either path."""
    root = etree.fromstring(MINI.encode("utf-8"))
    oval = next(root.iter("{http://oval.mitre.org/XMLSchema/oval-definitions-5}oval_definitions"))
    text = etree.tostring(oval, encoding="unicode")
    assert "<win-def:verb>Get</win-def:verb>" in text
    p = tmp_path / "oval.xml"
    p.write_text(text.replace("<win-def:verb>Get</win-def:verb>",
                              "<win-def:verb>Set</win-def:verb>", 1), encoding="utf-8")
    one, two = check_file(p, parallel=False), check_file(p, parallel=True)
    assert one.kind.startswith("oval-definitions") and not one.valid
    assert _everything(two) == _everything(one)


@pytest.fixture
def workers(monkeypatch):
    """The XSD workers check_file starts, to tell that the worker (not the fallback on the main
    thread) produced the XSD problems."""
    from stigscap.schemas import validate

    started = []

    class Recorded(validate._XsdWorker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(validate, "_XsdWorker", Recorded)
    return started


def test_the_worker_does_the_xsd_pass(schema_dir, tmp_path, workers):
    old, new = SINGLE_ERRORS["oval-content"]
    p = tmp_path / "ds.xml"
    p.write_text(MINI.replace(old, new, 1), encoding="utf-8")
    check_file(p, parallel=False)
    assert workers == []
    two = check_file(p, parallel=True)
    assert len(workers) == 1 and workers[0]._result is not None
    assert [q.rule for q in workers[0]._result] == [q.rule for q in two.problems
                                                    if q.rule.startswith("XSD")]


def test_xsd_only_stays_on_one_thread(schema_dir, workers):
    """Without checks there is nothing to overlap the XSD pass with."""
    assert check_file(FIXTURES / "mini-ds.xml", parallel=True, semantic_checks=False).valid
    assert workers == []


def test_xsd_worker_on_broken_large_stream(schema_dir, tmp_path, workers):
    ssg = Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml")
    if not ssg.exists():
        pytest.skip("SSG debian11 stream not installed")
    text = ssg.read_text(encoding="utf-8")
    broken = text.replace('check="all"', 'check="most"', 1).replace(
        "<xccdf-1.2:title", "<xccdf-1.2:titel", 1).replace("</xccdf-1.2:title>", "</xccdf-1.2:titel>", 1)
    p = tmp_path / "broken-ds.xml"
    p.write_text(broken, encoding="utf-8")
    one, two = check_file(p, parallel=False), check_file(p, parallel=True)
    assert len(workers) == 1 and workers[0]._result
    assert len([q for q in one.problems if q.rule.startswith("XSD")]) >= 2
    assert _everything(two) == _everything(one)


def test_xsd_worker_on_ssg(schema_dir):
    ssg = Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml")
    if not ssg.exists():
        pytest.skip("SSG debian11 stream not installed")
    one, two = check_file(ssg, parallel=False), check_file(ssg, parallel=True)
    assert one.valid and len(one.problems) > 100   # SCAP 1.3 warnings of the SSG content
    assert _everything(two) == _everything(one)


def test_no_second_thread_while_every_core_is_busy(monkeypatch):
    """The worker thread is used only when a core is idle now: with a busy process on every
    core the answer is no, whatever the 1-minute load average says."""
    from stigscap.schemas.cores import others_running, spare_core

    monkeypatch.delenv("STIGSCAP_VALIDATE_WORKER", raising=False)
    if not os.path.exists("/proc/loadavg"):
        pytest.skip("no /proc/loadavg on this platform")
    cores = len(os.sched_getaffinity(0))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        deadline = time.monotonic() + 5
        while others_running() < cores and time.monotonic() < deadline:
            time.sleep(0.05)   # until the busy processes are all runnable
        assert others_running() >= cores
        assert spare_core() is False
        monkeypatch.setenv("STIGSCAP_VALIDATE_WORKER", "1")
        assert spare_core() is True
    finally:
        for p in busy:
            p.kill()
            p.wait()


def _url(tree_or_root) -> str:
    tree = tree_or_root if isinstance(tree_or_root, etree._ElementTree) else tree_or_root.getroottree()
    return tree.docinfo.URL


def test_kept_trees_are_the_ones_parsed(schema_dir):
    """`keep` receives every tree check_file parsed (the worker's too) instead of freeing
    them on return; the verdict is the same either way."""
    path = FIXTURES / "mini-ds.xml"
    for parallel, trees in ((True, 2), (False, 1)):
        kept: list = []
        assert _everything(check_file(path, parallel=parallel, keep=kept)) == \
            _everything(check_file(path, parallel=parallel))
        assert len(kept) == trees
        assert {_url(t) for t in kept} == {str(path)}


def test_the_cli_keeps_only_the_last_files_trees(cli, schema_dir):
    from stigscap.evaluator.cli import validate_files as cli_validate

    first, last = FIXTURES / "mini-ds.xml", FIXTURES / "family-ds.xml"
    res = cli("validate", first, last)
    assert res.exit_code == 0, res.output
    assert {_url(t) for t in cli_validate._LAST_PARSED} == {str(last)}


def test_the_worker_may_join_the_prefetch_before_it_started(schema_dir, tmp_path, workers,
                                                            monkeypatch):
    """check_file starts the schema prefetch just after the XSD worker; the worker's parse of
    a small file can be done first and join the prefetch before it started. The worker must
    still do the XSD pass (seen once in a clean-clone CI run: the worker failed, and the main
    thread fell back to validating alone)."""
    import time

    from stigscap.schemas import validate

    start = validate._SchemaPrefetch.start

    def late(self):
        time.sleep(0.3)   # long after the worker's parse of this small file
        start(self)

    monkeypatch.setattr(validate._SchemaPrefetch, "start", late)
    old, new = SINGLE_ERRORS["oval-content"]
    p = tmp_path / "ds.xml"
    p.write_text(MINI.replace(old, new, 1), encoding="utf-8")
    got = check_file(p, parallel=True)
    assert len(workers) == 1 and workers[0]._result is not None
    assert [q.rule for q in workers[0]._result] == [q.rule for q in got.problems
                                                    if q.rule.startswith("XSD")]
