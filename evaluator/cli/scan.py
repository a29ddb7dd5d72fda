"""`stigscap scan` (a fleet over WinRM → syschar + ARF per host + summary) and the live
`collect --host` mode (one host → system characteristics only, like `oscap oval collect`).

    stigscap scan DS.xml --profile MAC-1_Classified --inventory hosts.yaml --out DIR \\
        [--concurrency 16] [--resume] [--transport https --auth ntlm --ca-bundle CA.pem]

Credentials: --credentials-file (mode 600), else STIGSCAP_USERNAME / STIGSCAP_PASSWORD, else a
prompt. Never on the command line. Exit: 0 every host passed, 2 findings, 1 any error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from stigscap.evaluator.collect.winrm import WinRMOptions
from stigscap.evaluator.collect.credentials import ENV_PASSWORD, ENV_USERNAME, Credentials, resolve_credentials
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_file

STATUS_STYLE = {"pass": "green", "fail": "red", "error": "bold red", "collected": "cyan",
                "not scanned": "yellow"}


def winrm_options(fn):
    """The connection options shared by `scan` and `collect --host`."""
    opts = [
        click.option("--transport", type=click.Choice(["https", "http"]), default="https", show_default=True,
                     help="HTTPS (TLS), or HTTP with NTLM/Kerberos message encryption"),
        click.option("--port", type=int, help="WinRM port (default 5986 https / 5985 http; 443/80 for "
                                              "--endpoint exchange)"),
        click.option("--auth", type=click.Choice(["negotiate", "ntlm", "kerberos", "basic", "credssp",
                                                  "certificate"]), default="negotiate", show_default=True,
                     help="authentication (basic only over HTTPS)"),
        click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
                     help="CA certificates (PEM) that issued the hosts' WinRM certificates"),
        click.option("--insecure-skip-tls-verify", is_flag=True,
                     help="DANGEROUS: do not verify the hosts' TLS certificates"),
        click.option("--endpoint", type=click.Choice(["wsman", "exchange"]), default="wsman", show_default=True,
                     help="wsman: host WinRM + Exchange snap-in (Edge); exchange: /PowerShell "
                          "Microsoft.Exchange endpoint (Mailbox)"),
        click.option("--snapin", metavar="NAME", help="snap-in to add instead of probing Get-PSSnapin -Registered"),
        click.option("--connection-timeout", type=float, default=30, show_default=True, metavar="S"),
        click.option("--operation-timeout", type=int, default=20, show_default=True, metavar="S",
                     help="WSMan OperationTimeout"),
        click.option("--command-timeout", type=float, default=300, show_default=True, metavar="S",
                     help="deadline for each command"),
        click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="retries (with backoff) on transient faults"),
        click.option("--client-cert", type=click.Path(dir_okay=False, exists=True),
                     help="client certificate (PEM) for --auth certificate"),
        click.option("--client-key", type=click.Path(dir_okay=False, exists=True),
                     help="client key (PEM) for --auth certificate"),
        click.option("--username", metavar="USER", help=f"account (default: ${ENV_USERNAME})"),
        click.option("--credentials-file", type=click.Path(dir_okay=False),
                     help="YAML with username/password, readable by you only (chmod 600)"),
        click.option("--prompt/--no-prompt", "prompt", default=None,
                     help=f"prompt for the password when ${ENV_PASSWORD} is not set (default: on a terminal)"),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def options_from(kw: dict) -> tuple[WinRMOptions, Credentials]:
    if kw.pop("insecure_skip_tls_verify"):
        click.secho("stigscap: WARNING: TLS certificate verification is OFF (--insecure-skip-tls-verify): "
                    "a machine in the middle can read the credentials and forge results", fg="red",
                    bold=True, err=True)
        insecure = True
    else:
        insecure = False
    prompt = kw.pop("prompt")
    if prompt is None:
        prompt = click.get_text_stream("stdin").isatty()  # type: ignore[operator]  # click 8.5 stubs
    auth = kw["auth"]
    creds = resolve_credentials(username=kw.pop("username"), credentials_file=kw.pop("credentials_file"),
                                prompt=prompt and auth != "certificate")
    if auth not in ("certificate", "kerberos", "negotiate") and not creds.complete:
        raise StigscapError(f"{auth} authentication needs a username and password: set {ENV_USERNAME} and "
                            f"{ENV_PASSWORD}, or use --credentials-file")
    opts = WinRMOptions(
        transport=kw.pop("transport"), port=kw.pop("port"), auth=kw.pop("auth"), ca_bundle=kw.pop("ca_bundle"),
        insecure_skip_verify=insecure, endpoint=kw.pop("endpoint"), snapin=kw.pop("snapin"),
        connection_timeout=kw.pop("connection_timeout"), operation_timeout=kw.pop("operation_timeout"),
        command_timeout=kw.pop("command_timeout"), retries=kw.pop("retries"),
        certificate_pem=kw.pop("client_cert"), certificate_key_pem=kw.pop("client_key"),
    ).validated()
    return opts, creds


def queries_from(datastream: str):
    """The cmdlet_objects to collect live; refuses (StigscapError, nothing contacted) content that
    names a verb other than Get or a module other than the Exchange snap-in."""
    from stigscap.evaluator.collect.winrm import refuse_unsafe  # noqa: PLC0415
    from stigscap.evaluator.oval.objects import read_cmdlet_objects  # noqa: PLC0415 - branch `collect`

    root = parse_xml_file(datastream, huge_tree=True).getroot()
    objs = read_cmdlet_objects(root)
    if not objs.queries and not objs.unsupported:
        raise StigscapError("the content has no win-def:cmdlet_object to collect", file=datastream)
    refuse_unsafe([*objs.queries, *(q for q, _ in objs.unsupported)], source=datastream)
    return objs.queries, objs.unsupported


# --------------------------------------------------------------------------- collect --host
def collect_from_host(datastream: str, host: str, output: str, options: WinRMOptions,
                      credentials: Credentials, *, timestamp: str | None = None,
                      queries=None) -> int:
    """`stigscap collect DS --host H -o SC.xml`: one host's system characteristics (no evaluation).

    Returns the exit code: 0 collected; 1 some object could not be collected (the file is
    written, with those objects flagged error); 1 the collection failed as a whole (the host
    could not be reached, refused the credentials, ...): then nothing is written and an existing
    OUTPUT is left as it was. `queries`: (queries, unsupported) already read by the caller.
    """
    from stigscap.evaluator.collect.winrm import collect_host  # noqa: PLC0415
    from stigscap.evaluator.collect.model import CollectedObject  # noqa: PLC0415
    from stigscap.evaluator.collect.syschar import resolve_timestamp, syschar_bytes  # noqa: PLC0415

    queries, unsupported = queries if queries is not None else queries_from(datastream)
    c = collect_host(host, queries, options, credentials)
    if c.failed:
        first = c.errors[0] if c.errors else "the collection failed"
        click.echo(f"stigscap: {host}: {first}; nothing written to {output}", err=True)
        return 1
    objects = list(c.objects) + [CollectedObject(q, flag="error", status="error", messages=[f"not collected: {w}"])
                                 for q, w in unsupported]
    atomic_write(output, syschar_bytes(objects, c.system_info, timestamp=resolve_timestamp(timestamp)))
    for e in c.errors:
        click.echo(f"stigscap: {host}: {e}", err=True)
    return 1 if c.errors else 0


def collect_host_options(fn):
    """Options `stigscap collect` adds for its live mode: --host plus connection + credentials."""
    fn = winrm_options(fn)
    return click.option("--host", metavar="HOST",
                        help="collect live from HOST over WinRM/PSRP (instead of --from exports)")(fn)


def collect_live(definitions, output, timestamp, live: dict) -> int:
    """`stigscap collect -d DS --host H -o SC.xml`: the body of collect's --host mode."""
    live = dict(live)
    host = live.pop("host")
    queries = queries_from(str(definitions))  # refuses unsafe content before asking for credentials
    options, creds = options_from(live)
    return collect_from_host(str(definitions), host, str(output), options, creds, timestamp=timestamp,
                             queries=queries)


# --------------------------------------------------------------------------- scan
@click.command("scan")
@click.argument("datastream", type=click.Path(dir_okay=False, exists=True))
@click.option("--profile", metavar="ID", help="XCCDF profile (full id or the part after _profile_)")
@click.option("--inventory", required=True, type=click.Path(dir_okay=False, exists=True),
              help="hosts: YAML list / {defaults, hosts} or CSV with a 'host' column")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="directory for <host>.syschar.xml, <host>.arf.xml, <host>.result.json, summary.json")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=16, show_default=True,
              help="hosts scanned at the same time")
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="worker processes (default: from CPU count and concurrency)")
@click.option("--resume", is_flag=True, help="skip hosts finished by an earlier run into the same --out")
@click.option("--timestamp", metavar="ISO8601", help="results time (default: SOURCE_DATE_EPOCH, else now)")
@click.option("--refine-value", multiple=True, metavar="ID=SELECTOR", help="choose an XCCDF Value selector")
@click.option("--set-value", multiple=True, metavar="ID=VALUE", help="set an XCCDF Value literally")
@click.option("--ckl", "ckl", is_flag=True, help="also write a STIG Viewer 2 checklist per host")
@click.option("--cklb", "cklb", is_flag=True, help="also write a STIG Viewer 3 checklist per host")
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="KEY",
              help="sign every host's ARF (PEM or PKCS#12; password from STIGSCAP_KEY_PASSWORD "
                   "or a prompt)")
@click.option("--sign-cert", type=click.Path(dir_okay=False), metavar="CERT",
              help="PEM certificate (chain) of --sign-key")
@click.option("--quiet", "-q", is_flag=True, help="no progress display")
@winrm_options
@click.pass_context
def scan_command(ctx, datastream, profile, inventory, out_dir, concurrency, processes, resume, timestamp,
                 refine_value, set_value, ckl, cklb, sign_key, sign_cert, quiet, **kw):
    """Collect and evaluate many hosts over WinRM: one ARF per host and a summary."""
    from stigscap.evaluator.fleet.scan import sigint_interrupts  # noqa: PLC0415
    with sigint_interrupts():  # Ctrl-C works even when started with SIGINT ignored (`cmd &`)
        _scan(ctx, datastream, profile, inventory, out_dir, concurrency, processes, resume, timestamp,
              refine_value, set_value, ckl, cklb, sign_key, sign_cert, quiet, **kw)


def _scan(ctx, datastream, profile, inventory, out_dir, concurrency, processes, resume, timestamp,
          refine_value, set_value, ckl, cklb, sign_key, sign_cert, quiet, **kw):
    from stigscap.evaluator.cli.eval import parse_pairs  # noqa: PLC0415
    from stigscap.evaluator.fleet.scan import ScanJob, load_done, read_inventory, run_fleet, summary_document  # noqa: PLC0415

    if sign_cert and not sign_key:
        raise StigscapError("--sign-cert goes with --sign-key")
    from stigscap.evaluator.cli.sign import load_key_files  # noqa: PLC0415
    signer = load_key_files(sign_key, sign_cert) if sign_key else None
    # unsafe content is refused before credentials are asked for or any host is contacted
    queries, unsupported = queries_from(datastream)
    defaults, creds = options_from(kw)
    hosts = read_inventory(inventory, defaults)
    job = ScanJob(out_dir=out_dir, queries=queries, unsupported=unsupported, timestamp=timestamp,
                  datastream=datastream, profile=profile,
                  evaluator_kwargs={"set_values": parse_pairs(set_value, "--set-value"),
                                    "refine_values": parse_pairs(refine_value, "--refine-value")},
                  checklists=tuple(f for f, on in (("ckl", ckl), ("cklb", cklb)) if on),
                  signer=signer)
    # compile once up front: a bad profile or data stream fails before any host is contacted
    from stigscap.evaluator.fleet.scan import _evaluator  # noqa: PLC0415
    _evaluator(job)
    Path(out_dir).mkdir(parents=True, exist_ok=True)

    outcomes = [load_done(job, h) if resume else None for h in hosts]
    todo = [i for i, o in enumerate(outcomes) if o is None]
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t0 = time.monotonic()
    interrupted = False

    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,  # noqa: PLC0415
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

    finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    summary = summary_document(job, outcomes, hosts, started=started, finished=finished,
                               interrupted=interrupted, wall_seconds=time.monotonic() - t0)
    atomic_write(Path(out_dir) / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    _print_table(console if not quiet else Console(stderr=True), summary, quiet)
    if interrupted:
        click.echo("stigscap: interrupted; finished hosts are complete, re-run with --resume", err=True)
        ctx.exit(130)
    ctx.exit(summary["exit_code"])


def _error_result(job, host):
    from stigscap.evaluator.fleet.scan import HostOutcome, host_files  # noqa: PLC0415
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
    from rich.table import Table  # noqa: PLC0415
    if not quiet:
        table = Table(title="stigscap scan", show_lines=False)
        for col in ("host", "status", "pass", "fail", "error", "other", "seconds", "problem"):
            table.add_column(col, justify="right" if col in ("pass", "fail", "error", "other", "seconds") else "left")
        for row in summary["hosts"]:
            counts = row.get("counts") or {}
            other = sum(v for k, v in counts.items() if k not in ("pass", "fail", "error"))
            st = row["status"]
            table.add_row(row["name"], f"[{STATUS_STYLE.get(st, '')}]{st}[/]", str(counts.get("pass", "")),
                          str(counts.get("fail", "")), str(counts.get("error", "")), str(other or ""),
                          f"{row.get('seconds', 0):.1f}", (row.get("errors") or [""])[0][:80])
        console.print(table)
    totals = ", ".join(f"{k} {v}" for k, v in sorted(summary["totals"].items()))
    click.echo(f"{len(summary['hosts'])} host(s): {totals} ({summary['wall_seconds']:.1f} s)")


COMMANDS = [scan_command]
