"""One CLI vocabulary (issue 15 item 5): an option name means the same thing in every command,
outputs are `-o/--output` (oscap's own names kept where oscap has them), and the old spellings
still work for one release with a note on stderr, but appear in no help text."""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET

import click
import pytest

from stigscap.evaluator.cli.main import COMMANDS
from stigscap.evaluator.cli.options import Command
from tests.cli_helpers import stigscap

TS = "2026-12-01T00:00:00Z"


def _commands() -> dict[str, click.Command]:
    out = {}
    for module, _ in COMMANDS.values():
        for cmd in importlib.import_module(f"stigscap.evaluator.cli.{module}").COMMANDS:
            out[cmd.name] = cmd
    return out


def _kind(opt: click.Option) -> tuple:
    """What an option takes: a switch, or a value of some kind (file, directory, choice, text)."""
    if opt.is_flag or opt.count:
        return ("switch",)
    t = opt.type
    if isinstance(t, click.Path):
        return ("path", "dir" if not t.file_okay else "file" if not t.dir_okay else "any")
    if isinstance(t, click.Choice):
        return ("choice",)
    return ("value", t.name)


# Names whose meaning honestly differs between commands, with the reason.
DIFFERENT = {
    # `--output` is the command's output: a file for most, a directory where one run writes
    # many files (run, scan, import-stig, man, export/fix of several ARFs)
    "--output",
    # `-o` is the short form of --output: same reason
    "-o",
    # `--format` is the stdout format (text|json) everywhere; click sees different Choice sets
    "--format",
}


def test_an_option_name_means_one_kind_of_thing_in_every_command():
    seen: dict[str, dict[tuple, list[str]]] = {}
    for name, cmd in _commands().items():
        for p in cmd.params:
            if not isinstance(p, click.Option) or p.hidden:
                continue
            for opt in p.opts + p.secondary_opts:
                seen.setdefault(opt, {}).setdefault(_kind(p), []).append(name)
    clashes = {opt: kinds for opt, kinds in seen.items() if len(kinds) > 1 and opt not in DIFFERENT}
    assert not clashes, clashes
    # the clashes the issue named are gone
    assert seen["--ckl"] == {("path", "file"): ["eval"]}, seen["--ckl"]  # scan: --write ckl
    assert set(sum(seen["--ca-bundle"].values(), [])) == {"eval", "verify"}  # signature trust
    assert set(sum(seen["--tls-ca-bundle"].values(), [])) == {"collect", "scan"}  # WinRM TLS
    assert set(sum(seen["--sign-key"].values(), [])) >= {"sign", "eval", "run", "scan"}
    assert "--key" not in seen and "--cert" not in seen and "--out" not in seen


def test_every_command_that_writes_names_its_output_o_output():
    cmds = _commands()
    for name in ("collect", "export", "fix", "generate", "import-stig", "man", "oval-analyse",
                 "report", "run", "scan", "sign", "tailor"):
        opts = {o for p in cmds[name].params if isinstance(p, click.Option) for o in p.opts}
        assert {"-o", "--output"} <= opts, (name, opts)
    # oscap's names stay where oscap has them
    oval_opts = next(p for p in cmds["oval-analyse"].params if p.name == "results_path").opts
    assert "--results" in oval_opts
    ev = {o for p in cmds["eval"].params for o in getattr(p, "opts", [])}
    assert {"--results-arf", "--results", "--oval-results", "--tailoring-file", "--rule",
            "--skip-rule", "--profile", "--datastream-id"} <= ev


def test_old_spellings_are_hidden_from_help_and_man_pages(tmp_path):
    renamed = {name: cmd.renamed for name, cmd in _commands().items() if isinstance(cmd, Command)}
    assert set(renamed) >= {"run", "scan", "import-stig", "sign", "collect"}
    assert stigscap("man", "-o", tmp_path, "--timestamp", TS).rc == 0
    for name, table in renamed.items():
        help_text = stigscap(name, "--help").out
        page = (tmp_path / f"stigscap-{name}.1").read_text()
        for old, new in table.items():
            assert f"{old} " not in help_text and f"{old}," not in help_text, (name, old)
            assert f"\\{old} " not in page and f"{old} " not in page.replace(new[0], ""), (name, old)
            assert new[0] in help_text, (name, new)


@pytest.mark.parametrize("args,expected", [
    (["--out", "d"], ["--output", "d"]),
    (["--out=d", "-q"], ["--output=d", "-q"]),
    # a switch that became a value
    (["--ckl", "--cklb", "--profile", "P"], ["--write", "ckl", "--write", "cklb", "--profile", "P"]),
    # a value is never rewritten, even when it looks like an old spelling
    (["--profile", "--out", "--out", "d"], ["--profile", "--out", "--output", "d"]),
    (["--tls-ca-bundle", "--ca-bundle"], ["--tls-ca-bundle", "--ca-bundle"]),
    (["--ca-bundle", "ca.pem"], ["--tls-ca-bundle", "ca.pem"]),
    # after `--` nothing is an option
    (["--", "--out"], ["--", "--out"]),
])
def test_old_spellings_are_rewritten_to_the_new_ones(args, expected):
    scan = _commands()["scan"]
    assert isinstance(scan, Command)
    assert scan.rewrite(list(args)) == expected


def test_an_optional_value_is_not_taken_for_an_old_spelling():
    run = _commands()["run"]
    assert isinstance(run, Command)
    assert run.rewrite(["--example", "--out", "d"]) == ["--example", "--output", "d"]
    assert run.rewrite(["--example", "edge2016", "--out", "d"]) == ["--example", "edge2016",
                                                                     "--output", "d"]


def test_old_spelling_runs_like_the_new_one_with_a_note(tmp_path):
    new = stigscap("run", "--example", "-o", tmp_path / "new", "--timestamp", TS)
    old = stigscap("run", "--example", "--out", tmp_path / "old", "--timestamp", TS)
    assert new.rc == old.rc == 2, (new.err, old.err)
    assert "--out" not in new.err
    notes = [ln for ln in old.err.splitlines() if "--out is now --output" in ln]
    assert len(notes) == 1, old.err
    names = sorted(p.name for p in (tmp_path / "new").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "old").iterdir()) and len(names) >= 6
    for n in names:
        assert (tmp_path / "new" / n).read_bytes() == (tmp_path / "old" / n).read_bytes(), n


def _results(arf_path) -> dict[str, str]:
    ns = {"x": "http://checklists.nist.gov/xccdf/1.2"}
    root = ET.parse(arf_path).getroot()
    return {rr.get("idref"): rr.find("x:result", ns).text
            for rr in root.iter("{http://checklists.nist.gov/xccdf/1.2}rule-result")}


def test_eval_rule_and_skip_rule_as_oscap(tmp_path):
    out = tmp_path / "run"
    assert stigscap("run", "--example", "-o", out, "--timestamp", TS).rc == 2
    ds = next(out.glob("*-ds.xml"))
    sc = next(out.glob("*-sc.xml"))
    full = _results(next(out.glob("*-arf.xml")))
    failing = sorted(r for r, v in full.items() if v == "fail")
    passing = sorted(r for r, v in full.items() if v == "pass")
    assert failing and passing
    base = ["eval", ds, "--profile", "MAC-1_Classified", "--system-characteristics", sc,
            "--timestamp", TS]

    # only one failing rule, named by its short id: exit 2, the others notselected
    only = stigscap(*base, "--rule", failing[0].rsplit("_rule_", 1)[1], "--results-arf",
                    tmp_path / "only.xml")
    assert only.rc == 2, only.err
    got = _results(tmp_path / "only.xml")
    assert got[failing[0]] == "fail"
    assert {v for r, v in got.items() if r != failing[0]} == {"notselected"}

    # skipping every failing rule leaves a clean pass run
    skip = []
    for r in failing:
        skip += ["--skip-rule", r]
    clean = stigscap(*base, *skip, "--results-arf", tmp_path / "skip.xml")
    assert clean.rc == 0, clean.out + clean.err
    got = _results(tmp_path / "skip.xml")
    assert {got[r] for r in failing} == {"notselected"}
    assert all(got[r] == full[r] for r in full if r not in failing)

    # a rule the benchmark does not have is a one-line error, no output
    bad = stigscap(*base, "--rule", "EX13-EG-999999", "--results-arf", tmp_path / "bad.xml")
    assert bad.rc == 1 and "no rule 'EX13-EG-999999'" in bad.err
    assert len(bad.err.strip().splitlines()) == 1
    assert not (tmp_path / "bad.xml").exists()
