"""`stigscap import-stig`: draft content rules from a DISA manual STIG; report release changes.

Authored YAML always wins: an existing rule file is never overwritten (unless --force). Its
draft goes to the drafts directory instead, and the command reports how the STIG's DISA facts
differ from the authored file (ids, check text hash), so content is updated knowingly.
"""

from __future__ import annotations

from pathlib import Path

import click

from stigscap.content.loader import load_model
from stigscap.content.model import Rule
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write

from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.generator.import_stig import compare_rules, draft_rule, rule_yaml


def _existing(out: Path) -> list[tuple[Path, Rule]]:
    found = []
    for f in sorted(out.glob("*.yaml")):
        found.append((f, load_model(f, Rule)))
    return found


@click.command("import-stig")
@click.argument("stig", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("content/rules"), show_default=True,
              help="rule directory: new rules are drafted here")
@click.option("--drafts", "drafts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="where drafts of rules that already exist go (default: OUT/../drafts)")
@click.option("--previous", type=click.Path(dir_okay=False, path_type=Path),
              help="the previous release's DISA XCCDF: report changed/added/removed rules")
@click.option("--force", is_flag=True, help="overwrite existing rule files with drafts")
@click.option("--report-only", is_flag=True, help="write nothing; only report")
def import_stig(stig: Path, out_dir: Path, drafts_dir: Path | None, previous: Path | None,
                force: bool, report_only: bool) -> None:
    """Draft one YAML rule file per rule of a DISA manual STIG (XCCDF 1.1)."""
    bench = read_disa_benchmark(stig)
    click.echo(f"{bench.title} V{bench.version}R{bench.release} ({bench.release_info}): "
               f"{len(bench.rules)} rules")
    drafts_dir = drafts_dir or out_dir.parent / "drafts"
    existing = _existing(out_dir) if out_dir.is_dir() else []

    if previous is not None:
        old = read_disa_benchmark(previous)
        label = f"V{old.version}R{old.release} -> V{bench.version}R{bench.release}"
        changes = compare_rules(list(old.rules), list(bench.rules))
    else:
        label = f"content {out_dir} -> V{bench.version}R{bench.release}"
        changes = compare_rules([r for _, r in existing], list(bench.rules)) if existing else []
    if changes:
        counts = {k: sum(1 for c in changes if c.kind == k)
                  for k in ("changed", "added", "removed", "same")}
        click.echo(f"changes {label}: {counts['changed']} changed, {counts['added']} added, "
                   f"{counts['removed']} removed, {counts['same']} unchanged")
        for c in changes:
            if c.kind != "same":
                click.echo(f"  {c.kind:8} {c.stig_id}: {'; '.join(c.details)}")

    by_stig_id = {r.version: f for f, r in existing}
    written = drafted_elsewhere = automated = 0
    for rule in bench.rules:
        draft = draft_rule(rule)
        automated += draft.check is not None
        if report_only:
            continue
        text = rule_yaml(draft, header=(f"{bench.title} V{bench.version}R{bench.release} — "
                                        f"{rule.group_id} / {rule.rule_id} / {rule.version} "
                                        f"(draft by stigscap import-stig)"))
        target = by_stig_id.get(rule.version, out_dir / f"{rule.version}.yaml")
        if target.exists() and not force:
            atomic_write(drafts_dir / f"{rule.version}.yaml", text)
            drafted_elsewhere += 1
        else:
            atomic_write(target, text)
            written += 1
    click.echo(f"drafted {automated} of {len(bench.rules)} rules with a machine check")
    if not report_only:
        click.echo(f"wrote {written} rule files to {out_dir}; {drafted_elsewhere} drafts of "
                   f"existing rules to {drafts_dir} (authored files kept)")


COMMANDS = [import_stig]

__all__ = ["COMMANDS", "StigscapError"]
