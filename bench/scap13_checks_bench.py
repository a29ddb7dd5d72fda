#!/usr/bin/env python3
"""`stigscap validate` (official XSDs + the native SCAP 1.3 requirement checks) beside oscap's
full validation with its Schematron (`oscap xccdf validate F`: XSD + the SDS 1.3 Schematron)
on one SSG source data stream (issue 13, row 5: the checks ≥ 50× faster than oscap's full
Schematron on the same file).

The anchor takes minutes (debian11, the smallest stream the issue gives a figure for: 142–146 s),
so it runs once (`--anchor-runs`); stigscap's full validate and its XSD-only validate (to show
what the SCAP 1.3 checks themselves cost) run `--runs` times, interleaved after the anchor.
Each command is its own process (wall, CPU user+sys, peak RSS via wait4). The judged ratio is
CPU time (steadier on a shared machine); wall is printed too, with the load average. Exit
status 1 when the anchor's CPU time is less than 50× stigscap's full validate.

    .venv/bin/python bench/scap13_checks_bench.py [FILE] [--runs 3] [--anchor-runs 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from syschar_runs import STIGSCAP, median_run, run

DEFAULT = Path("/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--anchor-runs", type=int, default=1)
    ap.add_argument("--target", type=float, default=50.0, help="anchor CPU / stigscap CPU")
    args = ap.parse_args()
    oscap = shutil.which("oscap")
    if not oscap:
        sys.exit("oscap not installed (apt-get install openscap-scanner)")
    f = str(args.file)
    print(f"{args.file.name} ({args.file.stat().st_size / 1e6:.1f} MB); load average at start "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    anchor = median_run([run([oscap, "xccdf", "validate", f]) for _ in range(args.anchor_runs)])
    full, xsd = [], []
    for _ in range(args.runs):
        full.append(run([STIGSCAP, "validate", f]))
        xsd.append(run([STIGSCAP, "validate", "--xsd-only", f]))
    rows = [("oscap xccdf validate (XSD + Schematron)", anchor),
            ("stigscap validate (XSD + SCAP 1.3 checks)", median_run(full)),
            ("stigscap validate --xsd-only", median_run(xsd))]
    print(f"{'command':44} {'wall s':>8} {'cpu s':>8} {'RSS MiB':>8} {'exit':>5} "
          f"{'anchor/this wall':>16} {'anchor/this cpu':>15}")
    for name, r in rows:
        print(f"{name:44} {r.wall:8.2f} {r.cpu:8.2f} {r.rss_mib:8.0f} {r.code:5d} "
              f"{anchor.wall / r.wall:16.1f} {anchor.cpu / r.cpu:15.1f}")
    ratio = anchor.cpu / rows[1][1].cpu
    print(f"SCAP 1.3 checks alone (full - xsd-only): cpu {rows[1][1].cpu - rows[2][1].cpu:.2f} s; "
          f"anchor runs {args.anchor_runs}, stigscap runs {args.runs} (medians)")
    print(f"speed-up (CPU) {ratio:.1f}x, target >= {args.target:.0f}x: "
          f"{'met' if ratio >= args.target else 'MISSED'}; load average at end "
          f"{os.getloadavg()[0]:.2f}")
    return 0 if ratio >= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
