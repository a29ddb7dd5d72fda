"""`stigscap import-stig`: draft content rules from a DISA manual STIG; report release changes.

Authored YAML always wins: an existing rule file is never overwritten (unless --force). Its
draft goes to the drafts directory instead, and the command reports how the STIG's DISA facts
differ from the authored file (ids, check text hash), so content is updated knowingly.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from stigscap.content.loader import builtin_benchmarks, load_content, load_model
from stigscap.content.model import Rule
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write

from stigscap.generator.crossmatch import cross_draft_all, report_table, summary
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.generator.import_stig import compare_rules, rule_yaml

from .options import Command


def _existing(out: Path) -> list[tuple[Path, Rule]]:
    found = []
    for f in sorted(out.glob("*.yaml")):
        found.append((f, load_model(f, Rule)))
    return found


@click.command("import-stig", cls=Command, renamed={"--out": "--output"})
@click.argument("stig", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("content/rules"), show_default=True,
              help="rule directory: new rules are drafted here")
@click.option("--drafts", "drafts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="where drafts of rules that already exist go (default: OUTPUT/../drafts)")
@click.option("--previous", type=click.Path(dir_okay=False, path_type=Path),
              help="the previous release's DISA XCCDF: report changed/added/removed rules")
@click.option("--force", is_flag=True, help="overwrite existing rule files with drafts")
@click.option("--report-only", is_flag=True, help="write nothing; only report")
@click.option("--reuse-from", "reuse_from", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="content directory (benchmark.yaml + rules/) whose automated checks may be "
                   "reused; repeatable (default: every built-in benchmark)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="report format on stdout")
def import_stig(stig: Path, out_dir: Path, drafts_dir: Path | None, previous: Path | None,
                force: bool, report_only: bool, reuse_from: tuple[Path, ...], fmt: str) -> None:
    """Draft one YAML rule file per rule of a DISA manual STIG (XCCDF 1.1).

    Each rule is matched to the closest rule stigscap already has (legacy ids, SRG and CCI,
    title and check-text similarity): its machine check is reused when the check text says
    the same thing, else a check is drafted from the text, else the rule stays manual. The
    report lists per rule the outcome, the score and what the check text says differently."""
    bench = read_disa_benchmark(stig)
    lines: list[str] = []
    echo = lines.append if fmt == "json" else click.echo
    echo(f"{bench.title} V{bench.version}R{bench.release} ({bench.release_info}): "
         f"{len(bench.rules)} rules")
    drafts_dir = drafts_dir or out_dir.parent / "drafts"
    existing = _existing(out_dir) if out_dir.is_dir() else []
    candidates = [r for d in (reuse_from or tuple(builtin_benchmarks().values()))
                  for r in load_content(d).rules]

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
        echo(f"changes {label}: {counts['changed']} changed, {counts['added']} added, "
             f"{counts['removed']} removed, {counts['same']} unchanged")
        for c in changes:
            if c.kind != "same":
                echo(f"  {c.kind:8} {c.stig_id}: {'; '.join(c.details)}")

    results = cross_draft_all(bench.rules, candidates)
    for line in report_table(results):
        echo(line)
    by_stig_id = {r.version: f for f, r in existing}
    written = drafted_elsewhere = automated = 0
    for result in results:
        rule, draft = result.rule, result.draft
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
    echo(f"drafted {automated} of {len(bench.rules)} rules with a machine check")
    if not report_only:
        echo(f"wrote {written} rule files to {out_dir}; {drafted_elsewhere} drafts of "
             f"existing rules to {drafts_dir} (authored files kept)")
    if fmt == "json":
        click.echo(json.dumps({
            "stig": {"file": str(stig), "id": bench.id, "title": bench.title,
                     "version": bench.version, "release": bench.release,
                     "release_info": bench.release_info},
            "summary": summary(results),
            "changes": [{"stig_id": c.stig_id, "kind": c.kind, "details": list(c.details)}
                        for c in changes],
            "rules": [r.as_dict() for r in results],
            "written": None if report_only else {"rules": written, "drafts": drafted_elsewhere},
            "messages": lines,
        }, indent=2))


COMMANDS = [import_stig]

__all__ = ["COMMANDS", "StigscapError"]
