"""Benchmark: offline collection of 100,000 Receive connectors (PS 5.1 Export-Clixml, depth 2).

Usage: .venv/bin/python bench/collect_100k.py [N]
Prints wall time of collection and of writing the system characteristics, and peak RSS.
Targets (issue 13), scaled linearly to N: collection of 100,000 connectors ≤ 30 s, collection
and writing ≤ 60 s, peak RSS ≤ 1 GB; exits 1 when one is missed.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from stigscap.evaluator.collect.offline import ExportMap, collect_offline
from stigscap.evaluator.collect.model import SystemInfo
from stigscap.evaluator.oval.objects import read_cmdlet_objects
from stigscap.evaluator.collect.syschar import syschar_bytes
from stigscap.schemas.xmlio import atomic_write, parse_xml_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.collect.collect_fixtures import DEFS, clixml_text, write_clixml  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "exports"
        d.mkdir()
        conns = [(f"Receive connector {i:06d} EDGE01", "Tls" if i % 2 else
                  "Tls, ExchangeServer") for i in range(n)]
        f = write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(conns))
        size = f.stat().st_size
        del conns
        objects = read_cmdlet_objects(parse_xml_file(DEFS).getroot())
        t0 = time.perf_counter()
        collected = collect_offline(objects, ExportMap.from_specs([str(d)]))
        t1 = time.perf_counter()
        data = syschar_bytes(collected, SystemInfo("EDGE01"), timestamp="2026-01-01T00:00:00Z")
        atomic_write(Path(tmp) / "sc.xml", data)
        t2 = time.perf_counter()
        rc = next(c for c in collected if c.query.noun == "ReceiveConnector")
        assert rc.flag == "complete" and len(rc.records) == n, rc.messages
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"connectors={n} export={size / 1e6:.1f} MB (UTF-16LE) collect={t1 - t0:.1f}s "
              f"write={t2 - t1:.1f}s syschar={len(data) / 1e6:.1f} MB peak_rss={rss:.0f} MB")
        scale = n / 100_000
        missed = [what for what, ok in (
            (f"collect ≤ {30 * scale:.1f} s", t1 - t0 <= 30 * scale),
            (f"collect + write ≤ {60 * scale:.1f} s", t2 - t0 <= 60 * scale),
            ("peak RSS ≤ 1024 MB", rss <= 1024)) if not ok]
        for what in missed:
            print(f"target missed: {what}")
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
