#!/usr/bin/env python3
"""Time `stigscap validate` against `oscap ds sds-validate` on the SSG source data streams.

For every file (default: all /usr/share/xml/scap/ssg/content/ssg-*-ds.xml, the SCAP 1.3 ones)
each command runs N times (default 3, interleaved) as a separate process; the table shows
the medians (peak RSS: the largest of the runs, from wait4):
  oscap      `oscap ds sds-validate F`             (XSD only; the reference)
  xsd        `stigscap validate --xsd-only F`      (the same job: must be <= oscap)
  full       `stigscap validate F`                 (XSD + reference and SCAP 1.3 checks)
and the ratios xsd/oscap and full/oscap, plus the CPU seconds (user+sys) of oscap and of the
XSD-only run: on a machine shared with other work, CPU time is the steadier comparison.
Before the clock starts, one `stigscap validate` run records the schema files as verified
(their pinned digests, `schemas.verified_digests`), as every run after a user's first finds
them. stigscap's modules are byte-compiled first, as a wheel install leaves them: with
PYTHONDONTWRITEBYTECODE set (it is, on the machines this project runs on) an editable
install would otherwise compile its sources again in every run (≈35 ms per start).
Exit status 1 if any stream is reported invalid or if full validate takes longer than oscap
on any file (the issue-13 target: full validate <= 1.0x oscap, every file).

    .venv/bin/python bench/validate_bench.py [--runs 3] [FILE ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

SSG = Path("/usr/share/xml/scap/ssg/content")


def _stigscap() -> list[str]:
    exe = Path(sys.executable).with_name("stigscap")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("stigscap")
    if not found:
        sys.exit("stigscap not installed in this environment (pip install -e .)")
    return [found]


def _time(cmd: list[str]) -> tuple[float, float, int, float]:
    """(wall seconds, CPU seconds user+sys, exit code, peak RSS MiB) of one run of `cmd`."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (wall, usage.ru_utime + usage.ru_stime, proc.returncode, usage.ru_maxrss / 1024)


def _byte_compile() -> None:
    """Write the .pyc files of the stigscap package, wherever it is installed."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("stigscap")
    if spec is None:
        return
    import stigscap
    roots = {Path(p) for p in stigscap.__path__}
    for sub in ("content", "evaluator", "generator", "schemas"):
        sub_spec = importlib.util.find_spec(f"stigscap.{sub}")
        if sub_spec is not None and sub_spec.submodule_search_locations:
            roots.update(Path(p) for p in sub_spec.submodule_search_locations)
    for root in sorted(roots):
        compileall.compile_dir(str(root), quiet=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--worker", choices=["auto", "on", "off"], default="auto",
                    help="XSD pass in a second thread during the checks: auto (when a core is idle), "
                         "forced on, or off (STIGSCAP_VALIDATE_WORKER)")
    args = ap.parse_args(argv)
    files = args.files or sorted(SSG.glob("ssg-*-ds.xml"), key=lambda p: -p.stat().st_size)
    if not files:
        sys.exit(f"no files given and no SSG streams in {SSG}")
    oscap = shutil.which("oscap")
    if not oscap:
        sys.exit("oscap not installed (apt-get install openscap-scanner)")
    st = _stigscap()
    _byte_compile()
    # one run before the clock starts, as any run after a user's first finds it: the schema
    # files' digests recorded as verified (schemas.verified_digests). A first run hashes them
    # (bench/RESULTS.md gives that cost).
    subprocess.run([*st, "validate", "--xsd-only", str(files[0])], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    if args.worker != "auto":
        os.environ["STIGSCAP_VALIDATE_WORKER"] = "1" if args.worker == "on" else "0"
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"XSD worker: {args.worker}; {args.runs} runs each")
    print(f"{'file':32} {'MB':>6} {'oscap s':>8} {'xsd s':>7} {'full s':>7} {'xsd/oscap':>9} "
          f"{'full/oscap':>10} {'cpu oscap':>9} {'cpu xsd':>8} {'cpu x/o':>7} {'MiB oscap':>9} "
          f"{'MiB xsd':>7} {'MiB full':>8}  verdict")
    bad, rows = False, []
    for f in files:
        mb = f.stat().st_size / 1e6
        # interleaved, so load from other processes hits the three commands alike
        cmds = [[oscap, "ds", "sds-validate", str(f)], [*st, "validate", "--xsd-only", str(f)],
                [*st, "validate", str(f)]]
        samples: list[list[float]] = [[], [], []]
        cpus: list[list[float]] = [[], [], []]
        peaks = [0.0, 0.0, 0.0]
        rcs = [0, 0, 0]
        for _ in range(args.runs):
            for i, cmd in enumerate(cmds):
                t, c, rcs[i], rss = _time(cmd)
                samples[i].append(t)
                cpus[i].append(c)
                peaks[i] = max(peaks[i], rss)
        (t_o, t_x, t_f), (rc_o, rc_x, rc_f) = [statistics.median(x) for x in samples], rcs
        c_o, c_x, c_f = (statistics.median(x) for x in cpus)
        verdict = "ok" if (rc_x, rc_f) == (0, 0) else f"rc xsd={rc_x} full={rc_f} oscap={rc_o}"
        bad |= verdict != "ok"
        rows.append((f, mb, t_o, t_x, t_f, *peaks))
        print(f"{f.name:32} {mb:6.1f} {t_o:8.3f} {t_x:7.3f} {t_f:7.3f} {t_x / t_o:9.2f} "
              f"{t_f / t_o:10.2f} {c_o:9.3f} {c_x:8.3f} {c_x / c_o:7.2f} {peaks[0]:9.0f} "
              f"{peaks[1]:7.0f} {peaks[2]:8.0f}  {verdict}", flush=True)
    tot = [sum(r[i] for r in rows) for i in (2, 3, 4)]
    print(f"{'TOTAL':32} {sum(r[1] for r in rows):6.1f} {tot[0]:8.2f} {tot[1]:7.2f} {tot[2]:7.2f} "
          f"{tot[1] / tot[0]:9.2f} {tot[2] / tot[0]:10.2f}")
    print("peak RSS (largest run of any file): oscap {:.0f} MiB, --xsd-only {:.0f} MiB, full {:.0f} "
          "MiB".format(*(max(r[i] for r in rows) for i in (5, 6, 7))))
    largest = max(rows, key=lambda r: r[1])
    print(f"largest: {largest[0].name} xsd/oscap = {largest[3] / largest[2]:.2f}; "
          f"load average at end: {os.getloadavg()[0]:.2f}")
    over = [r for r in rows if r[4] / r[2] > 1.0]
    print(f"issue-13 target, full validate <= 1.00x oscap on every file: "
          f"{'met' if not over else f'missed on {len(over)} of {len(rows)} files'}")
    return 1 if bad or over else 0


if __name__ == "__main__":
    raise SystemExit(main())
