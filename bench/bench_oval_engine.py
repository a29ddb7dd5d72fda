"""Benchmark: the OVAL engine alone, seed rule + platform inventory, N hosts × C connectors.

    python bench/bench_oval_engine.py [--hosts 2000] [--connectors 10]

Builds one definitions document (compiled once) and N distinct system-characteristics
documents in memory, then times evaluate + full results document per host (one core;
CPU time of this process, so other load on the machine does not distort the figures).
The ARF-level target (≥1,000 host-reports/s) is checked by the ARF bench; this one shows the
engine's share of that budget.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests.oval` fixtures
from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object,
                               collected, connector, criteria, criterion, definition,
                               definitions_doc, external_variable, syschar_doc)

from stigscap.evaluator.oval.engine import compile_definitions
from stigscap.evaluator.oval.results import build_results_document

VAR = f"{P}:var:6993101"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--connectors", type=int, default=10)
    args = ap.parse_args()
    obj, inv = f"{P}:obj:6993101", f"{P}:obj:101"
    defs = definitions_doc(
        [definition(f"{P}:def:69931", criteria("AND", criterion(f"{P}:tst:6993101"))),
         definition(f"{P}:def:1", criteria("AND", criterion(f"{P}:tst:101")), "inventory")],
        [Test(f"{P}:tst:6993101", obj, [f"{P}:ste:6993101"]).xml(),
         Test(f"{P}:tst:101", inv, [f"{P}:ste:101"], "at least one").xml()],
        [cmdlet_object(obj), cmdlet_object(inv, "ExchangeServer",
                                           ("Name", "ServerRole", "AdminDisplayVersion"))],
        [State(f"{P}:ste:6993101", [F("authmechanism", None, operation="pattern match",
                                      var_ref=VAR)]).xml(),
         State(f"{P}:ste:101", [F("serverrole", "(^|, )Edge(, |$)", operation="pattern match"),
                                F("admindisplayversion", r"^Version 15\.0 \(Build ",
                                  operation="pattern match")]).xml()],
        [external_variable(VAR)])
    compiled = compile_definitions(etree.fromstring(defs))
    auths = ["Tls", "Tls, ExchangeServer", "None", "BasicAuth, BasicAuthRequireTLS"]
    scs = []
    for h in range(args.hosts):
        recs = [connector(f"Conn {c}", auths[(h + c) % 4] if h % 3 == 0 else "Tls",
                          f"EDGE{h:05d}") for c in range(args.connectors)]
        srv = [[("name", f"EDGE{h:05d}"), ("serverrole", "Edge"),
                ("admindisplayversion", "Version 15.0 (Build 1497.2)")]]
        scs.append(etree.fromstring(syschar_doc(
            [collected(obj, "complete", [1]), collected(inv, "complete", [2])],
            [cmdlet_item(1, recs), cmdlet_item(2, srv, noun="ExchangeServer")])))
    variables = {VAR: ["^Tls$"]}
    t0 = time.process_time()
    results = {}
    for sc in scs:
        ev = compiled.evaluate(sc, variables)
        verdict = str(ev.definition_results[f"{P}:def:69931"])
        results[verdict] = results.get(verdict, 0) + 1
    t1 = time.process_time()
    for sc in scs:
        ev = compiled.evaluate(sc, variables)
        build_results_document(ev, directives="full", timestamp="2026-01-01T00:00:00")
    t2 = time.process_time()
    for sc in scs[: max(1, args.hosts // 10)]:
        ev = compiled.evaluate(sc, variables)
        ev.evidence(f"{P}:def:69931")
    t3 = time.process_time()
    n = args.hosts
    print(f"hosts={n} connectors={args.connectors} results={results}")
    print(f"evaluate only:             {n / (t1 - t0):9.0f} hosts/s ({(t1 - t0) / n * 1e6:.0f} µs/host)")
    print(f"evaluate + full results:   {n / (t2 - t1):9.0f} hosts/s ({(t2 - t1) / n * 1e6:.0f} µs/host)")
    m = max(1, n // 10)
    print(f"evaluate + evidence:       {m / (t3 - t2):9.0f} hosts/s")


if __name__ == "__main__":
    main()
