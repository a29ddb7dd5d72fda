#!/usr/bin/env python3
"""Time the DISA description scanners on hostile input (issue 11, item 10).

A DISA rule description is escaped pseudo-XML (`<VulnDiscussion>…</VulnDiscussion>…`). For
N = 20,000 / 80,000 / 320,000 unclosed `<VulnDiscussion>` (and as many newlines before no
"Automated check" marker) the table shows the seconds of
  encoded_part   generator.disa_xccdf.encoded_part (generate --stig, import-stig)
  split_desc     evaluator.results.arf_reader._split_description (export/report --stig)
The old lazy regular expressions took 42 s for N = 20,000; the scanners must stay linear:
exit status 1 if quadrupling N multiplies the time by more than 8, or N = 20,000 takes more
than 0.5 s.

    .venv/bin/python bench/description_scan_bench.py
"""

from __future__ import annotations

import sys
import time

from stigscap.evaluator.results.arf_reader import _split_description
from stigscap.generator.disa_xccdf import encoded_part

SIZES = (20_000, 80_000, 320_000)


def _best(fn, arg, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    cases = {
        "encoded_part": lambda n: _best(lambda s: encoded_part(s, "VulnDiscussion"),
                                        "<VulnDiscussion>" * n),
        "split_desc": lambda n: _best(_split_description,
                                      "<VulnDiscussion>" * n + "\n" * n + "x"),
    }
    print(f"{'N':>9} " + " ".join(f"{k:>14}" for k in cases))
    times = {k: [] for k in cases}
    for n in SIZES:
        for k, f in cases.items():
            times[k].append(f(n))
        print(f"{n:>9} " + " ".join(f"{times[k][-1]:>14.4f}" for k in cases))
    bad = False
    for k, ts in times.items():
        growth = max(max(b, 1e-3) / max(a, 1e-3) for a, b in zip(ts, ts[1:]))
        if growth > 8 or ts[0] > 0.5:
            print(f"{k}: not linear (x{growth:.1f} per x4 input, {ts[0]:.3f} s at N=20,000)")
            bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
