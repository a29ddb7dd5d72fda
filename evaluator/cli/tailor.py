"""CLI: `stigscap tailor DS --profile P [--select R] [--unselect R] [--set-value ID=V]
[--refine-value ID=SELECTOR] -o tailoring.xml`."""

from __future__ import annotations

from pathlib import Path

import click

from stigscap.schemas.clock import resolve_time
from stigscap.schemas.validate import ensure_valid
from stigscap.schemas.xmlio import atomic_write, parse_xml_bytes, parse_xml_file

from ..xccdf.tailoring import build_tailoring, render_tailoring
from .options import parse_pairs


@click.command("tailor")
@click.argument("datastream", type=click.Path(dir_okay=False))
@click.option("--profile", required=True, metavar="ID",
              help="the profile to tailor (full id or the part after _profile_)")
@click.option("--select", "select", multiple=True, metavar="RULE",
              help="select a rule (rule id, SV-…_rule or STIG id; repeatable)")
@click.option("--unselect", "unselect", multiple=True, metavar="RULE",
              help="unselect a rule (repeatable)")
@click.option("--set-value", multiple=True, metavar="ID=VALUE",
              help="set an XCCDF Value literally (repeatable)")
@click.option("--refine-value", multiple=True, metavar="ID=SELECTOR",
              help="choose a selector of an XCCDF Value (repeatable)")
@click.option("--new-profile", metavar="ID", help="id of the tailored profile (default: "
                                                   "<profile>_tailored)")
@click.option("--title", help="title of the tailored profile")
@click.option("--timestamp", metavar="ISO8601",
              help="the tailoring's version time (default: SOURCE_DATE_EPOCH, else now)")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="the tailoring file to write")
def tailor_cmd(datastream, profile, select, unselect, set_value, refine_value, new_profile,
               title, timestamp, output):
    """Write an XCCDF 1.2 tailoring file for a profile of a source data stream.

    The tailored profile extends PROFILE; every rule and Value named is checked against the
    benchmark first, and the file is validated against the XCCDF 1.2 schema before it is
    written. Use it with `eval/run/scan --tailoring FILE --profile <new profile>`."""
    tree = parse_xml_file(datastream, huge_tree=True)
    t = build_tailoring(tree.getroot(), profile=profile, timestamp=resolve_time(timestamp),
                        select=select, unselect=unselect,
                        set_values=parse_pairs(set_value, "--set-value"),
                        refine_values=parse_pairs(refine_value, "--refine-value"),
                        benchmark_href=Path(datastream).name, new_profile=new_profile,
                        title=title, source=datastream)
    data = render_tailoring(t)
    ensure_valid(parse_xml_bytes(data, "<tailoring>"), "<tailoring>")
    atomic_write(output, data)
    click.echo(f"wrote {output}: profile {t.profile_id} extends {t.extends} "
               f"({len(t.selections)} selection(s), {len(t.set_values) + len(t.refine_values)} "
               "value(s))")


COMMANDS = [tailor_cmd]
