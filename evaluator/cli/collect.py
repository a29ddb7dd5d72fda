"""`stigscap collect`: offline PowerShell exports → OVAL system characteristics."""

from __future__ import annotations

from pathlib import Path

import click

from stigscap.schemas.clock import resolve_time, zulu
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_file

from ..collect.model import CollectedObject
from ..collect.offline import (EXAMPLES, DEFAULT_EXAMPLE, ExportMap, collect_with_system,
                               example_exports_dir)
from ..collect.syschar import syschar_bytes, write_syschar
from ..collect.model import cmdlet_name
from ..oval.objects import read_cmdlet_objects
from .options import WINRM_RENAMED, Command, collect_host_options, winrm_options_from
from .terminal import working


def _parse_interface(text: str) -> tuple[str, str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not parts[0]:
        raise StigscapError(f"--interface {text!r}: expected NAME,IP,MAC "
                            "(e.g. Ethernet0,192.0.2.10,00-15-5D-01-02-03)")
    return parts[0], parts[1], parts[2]


@click.command("collect", cls=Command, renamed=WINRM_RENAMED)
@click.option("--definitions", "-d", "definitions", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="SCAP source data stream or OVAL definitions whose cmdlet_objects to fill")
@click.option("--from", "sources", multiple=True, metavar="DIR|CMDLET=FILE",
              help="a directory of exports named after the cmdlet (Get-ReceiveConnector.xml, "
                   "Get-ExchangeServer.json, ...), or CMDLET=FILE / OVAL-OBJECT-ID=FILE; "
                   "repeatable")
@click.option("--example", is_flag=False, flag_value=DEFAULT_EXAMPLE, default=None,
              type=click.Choice(list(EXAMPLES)), metavar="[STIG]",
              help="use a built-in example server's exports: "
                   f"{', '.join(EXAMPLES)} (default {DEFAULT_EXAMPLE})")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="system characteristics file to write")
@click.option("--host-name", help="primary host name (default: Fqdn/Name of Get-ExchangeServer)")
@click.option("--os-name", help="operating system name")
@click.option("--os-version", help="operating system version")
@click.option("--architecture", help="hardware architecture (default x86_64)")
@click.option("--interface", "interfaces", multiple=True, metavar="NAME,IP,MAC",
              help="a network interface of the host; repeatable")
@click.option("--asset-ref", default="asset0", show_default=True,
              help="ARF asset id for con:asset-identification ('' to leave it out)")
@click.option("--timestamp", help="generator timestamp (ISO 8601; default SOURCE_DATE_EPOCH "
                                  "or now)")
@collect_host_options  # live mode: --host H + the WinRM options of `scan`
def collect_cmd(definitions: Path, sources: tuple[str, ...], example: str | None, output: Path,
                host_name: str | None, os_name: str | None, os_version: str | None,
                architecture: str | None, interfaces: tuple[str, ...], asset_ref: str,
                timestamp: str | None, **live) -> None:
    """Read PowerShell exports of an (air-gapped) Exchange server into OVAL system
    characteristics for the cmdlet_objects of DEFINITIONS.

    Exit 0: written, every object collected. Exit 1: nothing written (bad arguments or
    definitions), or written but some objects are flagged error / not collected (the file
    says why).
    """
    if live.get("host"):  # live WinRM collection of one host
        if sources or example:
            raise StigscapError("--host collects live; it cannot be combined with --from/--example")
        click.get_current_context().exit(_collect_live(definitions, output, timestamp, live))
    if not sources and not example:
        raise StigscapError("give --from DIR (exports named after the cmdlet) or --example")
    specs = list(sources)
    if example:
        specs.append(str(example_exports_dir(example)))
    exports = ExportMap.from_specs(specs)
    objects = read_cmdlet_objects(parse_xml_file(definitions, huge_tree=True).getroot())
    if not objects.all():
        raise StigscapError("no win-def:cmdlet_object in the definitions", file=str(definitions))
    stamp = zulu(resolve_time(timestamp))
    with working(f"collecting {len(objects.all())} object(s) from the exports…"):
        collected, system, notes = collect_with_system(
            objects, exports, host_name=host_name, os_name=os_name, os_version=os_version,
            architecture=architecture, interfaces=[_parse_interface(i) for i in interfaces])
    write_syschar(output, collected, system, timestamp=stamp, asset_ref=asset_ref or None)
    problems = [c for c in collected if c.flag in ("error", "not collected")]
    for note in notes:
        click.echo(f"stigscap: note: {note}", err=True)
    for c in collected:
        first = c.messages[-1] if c.flag in ("error", "not collected") and c.messages else ""
        line = (f"{c.query.object_id} ({cmdlet_name(c.query)}): {c.flag}, "
                + (f"{len(c.records)} record(s)" if c.query.kind == "cmdlet" else
                   f"{len(c.items)} {c.query.kind} item(s)"))
        click.echo(line + (f": {first}" if first else ""), err=True)
    if problems:
        click.echo(f"stigscap: {len(problems)} of {len(collected)} object(s) not collected; "
                   f"{output} written with the reasons", err=True)
        click.get_current_context().exit(1)


def _collect_live(definitions: Path, output: Path, timestamp: str | None, live: dict) -> int:
    """`collect -d DS --host H -o SC.xml`: one host's system characteristics, no evaluation.

    Returns the exit code: 0 collected; 1 some object could not be collected (the file is
    written, with those objects flagged error); 1 the collection failed as a whole (the host
    could not be reached, refused the credentials, ...): then nothing is written and an existing
    OUTPUT is left as it was."""
    from stigscap.evaluator.collect.winrm import collect_host, live_queries

    live = dict(live)
    host = live.pop("host")
    # unsafe content is refused before credentials are asked for or the host is contacted
    queries, unsupported = live_queries(parse_xml_file(definitions, huge_tree=True).getroot(),
                                        str(definitions))
    options, credentials = winrm_options_from(live)
    c = collect_host(host, queries, options, credentials)
    if c.failed:
        first = c.errors[0] if c.errors else "the collection failed"
        click.echo(f"stigscap: {host}: {first}; nothing written to {output}", err=True)
        return 1
    objects = list(c.objects) + [
        CollectedObject(q, flag="error", status="error", messages=[f"not collected: {w}"])
        for q, w in unsupported]
    atomic_write(output, syschar_bytes(objects, c.system_info,
                                       timestamp=zulu(resolve_time(timestamp))))
    for e in c.errors:
        click.echo(f"stigscap: {host}: {e}", err=True)
    return 1 if c.errors else 0


COMMANDS = [collect_cmd]

