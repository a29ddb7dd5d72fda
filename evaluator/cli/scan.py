"""`stigscap scan` (a fleet over WinRM → syschar + ARF per host + summary) and the live
`collect --host` mode (one host → system characteristics only, like `oscap oval collect`).

    stigscap scan DS.xml --profile MAC-1_Classified --inventory hosts.yaml -o DIR \\
        [--concurrency 16] [--resume] [--transport https --auth ntlm --tls-ca-bundle CA.pem]

Credentials: --credentials-file (mode 600), else STIGSCAP_USERNAME / STIGSCAP_PASSWORD, else a
prompt. Never on the command line. Exit: 0 every host passed, 2 findings, 1 any error.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import click

from stigscap.schemas.clock import resolve_time, wall_clock, zulu
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_file

from .options import (WINRM_RENAMED, Command, key_password_prompter, parse_pairs, winrm_options,
                      winrm_options_from)

STATUS_STYLE = {"pass": "green", "fail": "red", "error": "bold red", "collected": "cyan",
                "not scanned": "yellow"}


# --------------------------------------------------------------------------- scan
@click.command("scan", cls=Command,
               renamed={"--out": "--output", "--ckl": ("--write", "ckl"), "--cklb": ("--write", "cklb"),
                        "--hdf": ("--write", "hdf"), **WINRM_RENAMED})
@click.argument("datastream", type=click.Path(dir_okay=False, exists=True))
@click.option("--profile", metavar="ID", help="XCCDF profile (full id or the part after _profile_)")
@click.option("--inventory", required=True, type=click.Path(dir_okay=False, exists=True),
              help="hosts: YAML list / {defaults, hosts} or CSV with a 'host' column")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="directory for <host>.syschar.xml, <host>.arf.xml, <host>.result.json, summary.json")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=16, show_default=True,
              help="hosts scanned at the same time")
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="worker processes (default: from CPU count and concurrency)")
@click.option("--resume", is_flag=True, help="skip hosts finished by an earlier run into the same --output")
@click.option("--timestamp", metavar="ISO8601", help="results time (default: SOURCE_DATE_EPOCH, else now)")
@click.option("--refine-value", multiple=True, metavar="ID=SELECTOR", help="choose an XCCDF Value selector")
@click.option("--set-value", multiple=True, metavar="ID=VALUE", help="set an XCCDF Value literally")
@click.option("--tailoring", "--tailoring-file", "tailoring_file", type=click.Path(dir_okay=False),
              metavar="FILE", help="XCCDF 1.2 tailoring file (`stigscap tailor`); --profile may name "
                                   "one of its profiles")
@click.option("--write", "formats", multiple=True, type=click.Choice(["ckl", "cklb", "hdf"]),
              help="also write per host: ckl (STIG Viewer 2), cklb (STIG Viewer 3), hdf "
                   "(Heimdall); repeatable")
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="KEY",
              help="sign every host's ARF (PEM or PKCS#12; password from STIGSCAP_KEY_PASSWORD "
                   "or a prompt)")
@click.option("--sign-cert", type=click.Path(dir_okay=False), metavar="CERT",
              help="PEM certificate (chain) of --sign-key")
@click.option("--quiet", "-q", is_flag=True, help="no progress display")
@winrm_options
@click.pass_context
def scan_command(ctx, datastream, profile, inventory, out_dir, concurrency, processes, resume, timestamp,
                 refine_value, set_value, formats, sign_key, sign_cert, quiet, **kw):
    """Collect and evaluate many hosts over WinRM: one ARF per host and a summary."""
    from stigscap.evaluator.fleet.scan import sigint_interrupts
    with sigint_interrupts():  # Ctrl-C works even when started with SIGINT ignored (`cmd &`)
        _scan(ctx, datastream, profile, inventory, out_dir, concurrency, processes, resume, timestamp,
              refine_value, set_value, "ckl" in formats, "cklb" in formats, "hdf" in formats,
              sign_key, sign_cert, quiet, **kw)


def _scan(ctx, datastream, profile, inventory, out_dir, concurrency, processes, resume, timestamp,
          refine_value, set_value, ckl, cklb, hdf, sign_key, sign_cert, quiet, **kw):
    from stigscap.evaluator.collect.winrm import live_queries
    from stigscap.evaluator.fleet.scan import ScanJob, load_done, read_inventory, run_fleet, summary_document
    from stigscap.evaluator.signing.keys import load_key_files

    if sign_cert and not sign_key:
        raise StigscapError("--sign-cert goes with --sign-key")
    signer = load_key_files(sign_key, sign_cert, prompter=key_password_prompter()) \
        if sign_key else None
    # unsafe content is refused before credentials are asked for or any host is contacted
    from stigscap.evaluator.fleet.scan import multi_benchmark_queries
    ds_root = parse_xml_file(datastream, huge_tree=True).getroot()
    queries, unsupported = live_queries(ds_root, datastream)
    # a collection of several benchmarks: per host, the one whose platform matches
    platform_queries, datastream_queries = multi_benchmark_queries(ds_root, datastream)
    tailoring_file = kw.pop("tailoring_file")
    tailoring = {"tailoring": parse_xml_file(tailoring_file),
                 "tailoring_href": tailoring_file} if tailoring_file else {}
    defaults, creds = winrm_options_from(kw)
    # each host's results carry the time it was judged: --timestamp, else SOURCE_DATE_EPOCH,
    # else the clock when that host is done
    clock = functools.partial(resolve_time, timestamp)
    hosts = read_inventory(inventory, defaults)
    job = ScanJob(out_dir=out_dir, queries=queries, unsupported=unsupported, clock=clock,
                  datastream=datastream, profile=profile,
                  evaluator_kwargs={"set_values": parse_pairs(set_value, "--set-value"),
                                    "refine_values": parse_pairs(refine_value, "--refine-value"),
                                    **tailoring},
                  checklists=tuple(f for f, on in (("ckl", ckl), ("cklb", cklb), ("hdf", hdf)) if on),
                  signer=signer, platform_queries=platform_queries,
                  datastream_queries=datastream_queries)
    # compile once up front: a bad profile or data stream fails before any host is contacted
    from stigscap.evaluator.fleet.scan import compile_job
    for ds_id in datastream_queries or [None]:
        compile_job(job, ds_id)
    Path(out_dir).mkdir(parents=True, exist_ok=True)

    outcomes = [load_done(job, h) if resume else None for h in hosts]
    todo = [i for i, o in enumerate(outcomes) if o is None]
    started = zulu(wall_clock())
    t0 = time.monotonic()
    interrupted = False

    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    console = Console(stderr=True, quiet=quiet)
    running: set[str] = set()
    progress = Progress(SpinnerColumn(), TextColumn("[bold]scan"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
                        TextColumn("{task.description}"), console=console, transient=False,
                        disable=quiet)
    if resume and len(todo) < len(hosts):
        console.print(f"resuming: {len(hosts) - len(todo)} host(s) already done")

    def on_start(h):
        running.add(h.name)
        progress.update(task, description=_running_text(running))

    def on_done(o):
        running.discard(o.name)
        style = STATUS_STYLE.get(o.status, "")
        detail = ", ".join(f"{k} {v}" for k, v in sorted(o.counts.items())) if o.counts else ""
        if o.benchmark:
            detail = f"[{o.benchmark.split('_benchmark_', 1)[-1]}] " + detail
        if o.errors:
            detail = (detail + "; " if detail else "") + o.errors[0]
        progress.console.print(f"[{style}]{o.status:<9}[/] {o.name}  {o.seconds:.1f}s  {detail}", markup=True,
                               highlight=False)
        progress.update(task, advance=1, description=_running_text(running))

    with progress:
        task = progress.add_task("", total=len(todo))
        try:
            done = run_fleet(job, [hosts[i] for i in todo], creds, concurrency=concurrency,
                             processes=processes, on_start=on_start, on_done=on_done)
            for i, o in zip(todo, done):
                outcomes[i] = o
        except KeyboardInterrupt:
            interrupted = True
            # finished hosts wrote result.json: pick them up for the summary
            for i in todo:
                outcomes[i] = load_done(job, hosts[i]) or _error_result(job, hosts[i])

    finished = zulu(wall_clock())
    summary = summary_document(job, outcomes, hosts, started=started, finished=finished,
                               interrupted=interrupted, wall_seconds=time.monotonic() - t0)
    atomic_write(Path(out_dir) / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    _print_table(console if not quiet else Console(stderr=True), summary, quiet)
    if interrupted:
        click.echo("stigscap: interrupted; finished hosts are complete, re-run with --resume", err=True)
        ctx.exit(130)
    ctx.exit(summary["exit_code"])


def _error_result(job, host):
    from stigscap.evaluator.fleet.scan import HostOutcome, host_files
    try:
        data = json.loads(host_files(job.out_dir, host)["result"].read_text(encoding="utf-8"))
        return HostOutcome.from_json(data)
    except (OSError, ValueError, TypeError):
        return None


def _running_text(running: set[str]) -> str:
    names = sorted(running)
    more = f" +{len(names) - 3}" if len(names) > 3 else ""
    return ("running: " + ", ".join(names[:3]) + more) if names else ""


def _print_table(console, summary: dict, quiet: bool) -> None:
    from rich.table import Table
    if not quiet:
        table = Table(title="stigscap scan", show_lines=False)
        # a collection of several benchmarks: which one each host was judged against
        benchmarks = any(row.get("benchmark") for row in summary["hosts"])
        for col in ("host", *(("benchmark",) if benchmarks else ()), "status", "pass", "fail",
                    "error", "other", "seconds", "problem"):
            table.add_column(col, justify="right" if col in ("pass", "fail", "error", "other", "seconds") else "left")
        for row in summary["hosts"]:
            counts = row.get("counts") or {}
            other = sum(v for k, v in counts.items() if k not in ("pass", "fail", "error"))
            st = row["status"]
            bench = ((row.get("benchmark") or "").split("_benchmark_", 1)[-1],) if benchmarks else ()
            table.add_row(row["name"], *bench, f"[{STATUS_STYLE.get(st, '')}]{st}[/]", str(counts.get("pass", "")),
                          str(counts.get("fail", "")), str(counts.get("error", "")), str(other or ""),
                          f"{row.get('seconds', 0):.1f}", (row.get("errors") or [""])[0][:80])
        console.print(table)
    totals = ", ".join(f"{k} {v}" for k, v in sorted(summary["totals"].items()))
    click.echo(f"{len(summary['hosts'])} host(s): {totals} ({summary['wall_seconds']:.1f} s)")


COMMANDS = [scan_command]
