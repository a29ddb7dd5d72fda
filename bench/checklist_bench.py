"""Checklist/report export benchmark: one ARF replicated to N hosts, timed per phase.

    python bench/checklist_bench.py ARF [--hosts 200] [--stig U_..._Manual-xccdf.xml]

The ARF (e.g. from `stigscap eval --results-arf`) is copied N times inside one collection
(assets asset0…, reports xccdf1…, oval0…, host names host0001…). Prints seconds for reading,
CKL, CKLB and HTML rendering, output sizes and peak RSS.
"""

from __future__ import annotations

import argparse
import copy
import resource
import time

from lxml import etree

from stigscap.evaluator.results.arf_reader import arf_from_tree, read_stig
from stigscap.evaluator.checklists.model import build_checklists
from stigscap.evaluator.checklists.ckl import render_ckl
from stigscap.evaluator.checklists.cklb import render_cklb
from stigscap.schemas import namespaces as ns
from stigscap.schemas.xmlio import parse_xml_file

A, C, X = ns.ARF, ns.CORE, ns.XCCDF12


def replicate(root: etree._Element, hosts: int) -> etree._Element:
    assets = root.find(f"{{{A}}}assets")
    reports = root.find(f"{{{A}}}reports")
    rels = root.find(f"{{{C}}}relationships")
    asset0 = assets[0]
    tr_rep = next(r for r in reports if r.find(f".//{{{X}}}TestResult") is not None)
    oval_rep = next(r for r in reports if r.get("id") == "oval0")
    for el in list(assets) + list(reports) + list(rels):
        el.getparent().remove(el)
    for i in range(hosts):
        name = f"host{i:04d}"
        a = copy.deepcopy(asset0)
        a.set("id", f"asset{i}")
        for el in a.iter():
            if isinstance(el.tag, str) and el.tag.endswith("}hostname"):
                el.text = name
            elif isinstance(el.tag, str) and el.tag.endswith("}fqdn"):
                el.text = f"{name}.example.mil"
        assets.append(a)
        t = copy.deepcopy(tr_rep)
        t.set("id", f"xccdf{i + 1}")
        tr = t.find(f".//{{{X}}}TestResult")
        tr.find(f"{{{X}}}target").text = name
        tr.find(f"{{{X}}}target-id-ref").set("name", f"asset{i}")
        for ccr in tr.iter(f"{{{X}}}check-content-ref"):
            if ccr.get("href") == "#oval0":
                ccr.set("href", f"#oval{i}")
        reports.append(t)
        rel = etree.SubElement(rels, f"{{{C}}}relationship", type="arfvocab:isAbout",
                               subject=f"xccdf{i + 1}")
        etree.SubElement(rel, f"{{{C}}}ref").text = f"asset{i}"
    for i in range(hosts):
        o = copy.deepcopy(oval_rep)
        o.set("id", f"oval{i}")
        reports.append(o)
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("arf")
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--stig")
    args = ap.parse_args()
    root = replicate(parse_xml_file(args.arf, huge_tree=True).getroot(), args.hosts)
    stig = read_stig(args.stig) if args.stig else None
    t0 = time.perf_counter()
    report = arf_from_tree(root, args.arf)
    t1 = time.perf_counter()
    lists = build_checklists([report], stig=stig)
    t2 = time.perf_counter()
    ckl = sum(len(render_ckl(c)) for c in lists)
    t3 = time.perf_counter()
    cklb = sum(len(render_cklb(c)) for c in lists)
    t4 = time.perf_counter()
    from stigscap.evaluator.checklists.report_html import html_report
    html = html_report([report], stig=stig, timestamp="2026-01-01T00:00:00Z")
    t5 = time.perf_counter()
    rules = sum(len(s.rules) for c in lists for s in c.stigs)
    print(f"hosts={len(lists)} rule rows={rules}")
    print(f"read ARF {t1 - t0:.2f}s; build {t2 - t1:.2f}s; CKL {t3 - t2:.2f}s ({ckl / 1e6:.1f} MB);"
          f" CKLB {t4 - t3:.2f}s ({cklb / 1e6:.1f} MB); HTML {t5 - t4:.2f}s "
          f"({len(html) / 1e6:.1f} MB)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
