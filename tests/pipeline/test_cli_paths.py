"""A directory where a file is expected (and a file where a directory is): every command.

Bad input is one line naming the path and exit 1, never click's usage block with exit 2 (2
means findings) and never a traceback; no output file is left. The other arguments of each
case are real, valid files, so the case reaches the code that reads the directory, not only
click's own check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from stigscap.evaluator.cli.main import main
from tests.pki import make_identity

REPO = Path(__file__).resolve().parents[2]
PROFILE = "MAC-1_Classified"
DISA = REPO / "tests" / "stig" / "fixtures" / "disa_mini_v2r3.xml"


def _invoke(args: list[str], env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real inputs: data stream, system characteristics, ARF, signed data stream, key and
    certificate, an inventory; and D, an empty directory, and F, a plain file."""
    t = tmp_path_factory.mktemp("paths")
    env = {"SOURCE_DATE_EPOCH": "1764300000"}
    run = _invoke(["run", "--example", "--output", t / "ex"], env)
    assert run.exit_code == 2, run.output
    ex = t / "ex"
    f = {
        "DS": ex / "ms-exchange-2013-edge-stig-ds.xml",
        "SC": next(ex.glob("*-sc.xml")),
        "ARF": next(ex.glob("*-arf.xml")),
        "CKL": next(ex.glob("*.ckl")),
        "EX": REPO / "content" / "examples" / "edge2013",
        "DISA": DISA,
        "D": t / "a-directory",
        "F": t / "a-file.txt",
    }
    f["D"].mkdir()
    f["F"].write_text("not a directory\n")
    ident = make_identity(t, "signer")
    f["KEY"], f["CERT"] = ident.key_pem, ident.cert_pem
    signed = _invoke(["sign", f["DS"], "--sign-key", f["KEY"], "--sign-cert", f["CERT"],
                      "-o", t / "signed-ds.xml"])
    assert signed.exit_code == 0, signed.output
    f["SDS"] = t / "signed-ds.xml"
    f["INV"] = t / "hosts.yaml"
    f["INV"].write_text(json.dumps({"hosts": [{"host": "192.0.2.1", "name": "edge01"}]}))
    f["OUT"] = t / "out"
    return f


EVAL = ["eval", "{DS}", "--profile", PROFILE, "--system-characteristics", "{SC}"]
SCAN = ["scan", "{DS}", "--profile", PROFILE, "--inventory", "{INV}", "--no-prompt"]
LIVE = ["collect", "-d", "{DS}", "--host", "192.0.2.1", "--no-prompt", "-o", "{OUT}/sc.xml"]

# (case id, arguments); {X} is replaced by the path of files[X]; {OUT}/… is a fresh output path
CASES = [
    ("validate", ["validate", "{D}"]),
    ("validate-second-of-two", ["validate", "{DS}", "{D}"]),
    ("validate-schema-dir-file", ["validate", "{DS}", "--schema-dir", "{F}"]),
    ("collect-definitions", ["collect", "-d", "{D}", "--from", "{EX}", "-o", "{OUT}/sc.xml"]),
    ("collect-output", ["collect", "-d", "{DS}", "--from", "{EX}", "-o", "{D}"]),
    ("collect-ca-bundle", LIVE + ["--tls-ca-bundle", "{D}"]),
    ("collect-client-cert", LIVE + ["--client-cert", "{D}", "--client-key", "{KEY}"]),
    ("collect-client-key", LIVE + ["--client-cert", "{CERT}", "--client-key", "{D}"]),
    ("collect-credentials-file", LIVE + ["--credentials-file", "{D}"]),
    ("eval-datastream", ["eval", "{D}", "--profile", PROFILE, "--system-characteristics", "{SC}",
                         "--results-arf", "{OUT}/arf.xml"]),
    ("eval-syschar", ["eval", "{DS}", "--profile", PROFILE, "--system-characteristics", "{D}",
                      "--results-arf", "{OUT}/arf.xml"]),
    ("eval-tailoring", EVAL + ["--tailoring", "{D}", "--results-arf", "{OUT}/arf.xml"]),
    ("eval-stig", EVAL + ["--stig", "{D}", "--ckl", "{OUT}/x.ckl"]),
    ("eval-sign-key", EVAL + ["--sign-key", "{D}", "--sign-cert", "{CERT}",
                              "--results-arf", "{OUT}/arf.xml"]),
    ("eval-sign-cert", EVAL + ["--sign-key", "{KEY}", "--sign-cert", "{D}",
                               "--results-arf", "{OUT}/arf.xml"]),
    ("eval-trusted-cert", ["eval", "{SDS}", "--profile", PROFILE, "--system-characteristics",
                           "{SC}", "--trusted-cert", "{D}", "--results-arf", "{OUT}/arf.xml"]),
    ("eval-ca-bundle", ["eval", "{SDS}", "--profile", PROFILE, "--system-characteristics",
                        "{SC}", "--ca-bundle", "{D}", "--results-arf", "{OUT}/arf.xml"]),
    ("eval-results-arf", EVAL + ["--results-arf", "{D}"]),
    ("eval-results", EVAL + ["--results", "{D}"]),
    ("eval-oval-results", EVAL + ["--oval-results", "{D}"]),
    ("eval-report", EVAL + ["--report", "{D}"]),
    ("eval-ckl", EVAL + ["--ckl", "{D}"]),
    ("eval-cklb", EVAL + ["--cklb", "{D}"]),
    ("eval-hdf", EVAL + ["--hdf", "{D}"]),
    ("verify-file", ["verify", "{D}", "--trusted-cert", "{CERT}"]),
    ("verify-trusted-cert", ["verify", "{SDS}", "--trusted-cert", "{D}"]),
    ("verify-ca-bundle", ["verify", "{SDS}", "--ca-bundle", "{D}"]),
    ("sign-file", ["sign", "{D}", "--sign-key", "{KEY}", "-o", "{OUT}/s.xml"]),
    ("sign-key", ["sign", "{DS}", "--sign-key", "{D}", "-o", "{OUT}/s.xml"]),
    ("sign-cert", ["sign", "{DS}", "--sign-key", "{KEY}", "--sign-cert", "{D}", "-o", "{OUT}/s.xml"]),
    ("sign-output", ["sign", "{DS}", "--sign-key", "{KEY}", "-o", "{D}"]),
    ("export-arf", ["export", "ckl", "{D}", "-o", "{OUT}/x.ckl"]),
    ("export-second-arf", ["export", "cklb", "{ARF}", "{D}", "-o", "{OUT}/c"]),
    ("export-stig", ["export", "ckl", "{ARF}", "--stig", "{D}", "-o", "{OUT}/x.ckl"]),
    ("export-merge", ["export", "ckl", "{ARF}", "--merge", "{D}", "-o", "{OUT}/x.ckl"]),
    ("report-arf", ["report", "{D}", "-o", "{OUT}/r.html"]),
    ("report-stig", ["report", "{ARF}", "--stig", "{D}", "-o", "{OUT}/r.html"]),
    ("report-output", ["report", "{ARF}", "-o", "{D}"]),
    ("oval-analyse-definitions", ["oval-analyse", "{D}", "{SC}", "--results", "{OUT}/r.xml"]),
    ("oval-analyse-syschar", ["oval-analyse", "{DS}", "{D}", "--results", "{OUT}/r.xml"]),
    ("oval-analyse-variables", ["oval-analyse", "{DS}", "{SC}", "--variables", "{D}",
                                "--results", "{OUT}/r.xml"]),
    ("oval-analyse-results", ["oval-analyse", "{DS}", "{SC}", "--results", "{D}"]),
    ("generate-stig", ["generate", "--stig", "{D}", "-o", "{OUT}/ds.xml"]),
    ("generate-output", ["generate", "-o", "{D}"]),
    ("generate-content-file", ["generate", "--content", "{F}", "-o", "{OUT}/ds.xml"]),
    ("generate-components-file", ["generate", "--components", "{F}"]),
    ("import-stig", ["import-stig", "{D}", "--report-only"]),
    ("import-stig-previous", ["import-stig", "{DISA}", "--previous", "{D}", "--report-only"]),
    ("import-stig-out-file", ["import-stig", "{DISA}", "--output", "{F}"]),
    ("import-stig-drafts-file", ["import-stig", "{DISA}", "--output", "{OUT}/rules",
                                 "--drafts", "{F}"]),
    ("import-stig-reuse-from-file", ["import-stig", "{DISA}", "--reuse-from", "{F}",
                                     "--report-only"]),
    ("scan-datastream", ["scan", "{D}", "--profile", PROFILE, "--inventory", "{INV}",
                         "--output", "{OUT}/scan"]),
    ("scan-inventory", ["scan", "{DS}", "--profile", PROFILE, "--inventory", "{D}",
                        "--output", "{OUT}/scan"]),
    ("scan-out-file", SCAN + ["--output", "{F}"]),
    ("scan-sign-key", SCAN + ["--sign-key", "{D}", "--sign-cert", "{CERT}", "--output", "{OUT}/s"]),
    ("scan-sign-cert", SCAN + ["--sign-key", "{KEY}", "--sign-cert", "{D}", "--output", "{OUT}/s"]),
    ("scan-client-cert", SCAN + ["--client-cert", "{D}", "--client-key", "{KEY}",
                                 "--output", "{OUT}/scan"]),
    ("scan-client-key", SCAN + ["--client-cert", "{CERT}", "--client-key", "{D}",
                                "--output", "{OUT}/scan"]),
    ("scan-credentials-file", SCAN + ["--credentials-file", "{D}", "--output", "{OUT}/scan"]),
    ("scan-ca-bundle", SCAN + ["--tls-ca-bundle", "{D}", "--output", "{OUT}/scan"]),
    ("run-from-file", ["run", "--from", "{F}", "--output", "{OUT}/run"]),
    ("run-out-file", ["run", "--example", "--output", "{F}"]),
    ("run-content-file", ["run", "--example", "--content", "{F}", "--output", "{OUT}/run"]),
    ("run-sign-key", ["run", "--example", "--sign-key", "{D}", "--sign-cert", "{CERT}",
                      "--output", "{OUT}/run"]),
    ("run-sign-cert", ["run", "--example", "--sign-key", "{KEY}", "--sign-cert", "{D}",
                       "--output", "{OUT}/run"]),
    ("run-tailoring", ["run", "--example", "--tailoring", "{D}", "--output", "{OUT}/run"]),
    ("scan-tailoring", SCAN + ["--tailoring", "{D}", "--output", "{OUT}/scan"]),
    ("tailor-datastream", ["tailor", "{D}", "--profile", PROFILE, "--unselect", "EX13-EG-000005",
                           "-o", "{OUT}/t.xml"]),
    ("tailor-output", ["tailor", "{DS}", "--profile", PROFILE, "--unselect", "EX13-EG-000005",
                       "-o", "{D}"]),
    ("info-file", ["info", "{D}"]),
    ("man-output-file", ["man", "-o", "{F}"]),
    ("fix-arf", ["fix", "{D}", "-o", "{OUT}/f.ps1"]),
]


@pytest.mark.parametrize("args", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_kind_of_path_is_one_line_exit_1(files, args, tmp_path):
    out = tmp_path / "out"
    subst = {**{k: str(v) for k, v in files.items()}, "OUT": str(out)}
    argv = [a.format(**subst) for a in args]
    before_d = sorted(os.listdir(files["D"]))
    before_f = files["F"].read_text()
    res = _invoke(argv, env={"STIGSCAP_USERNAME": "u", "STIGSCAP_PASSWORD": "p",
                             "SOURCE_DATE_EPOCH": "1764300000"})
    assert res.exit_code == 1, (res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    err = [line for line in res.output.splitlines() if line.startswith("stigscap: ")]
    assert len(err) == 1, res.output
    assert "Usage:" not in res.output and "Traceback" not in res.output
    assert "internal error" not in err[0], err[0]
    named = files["F"] if "{F}" in args else files["D"]
    assert str(named) in err[0] or named.name in err[0], err[0]
    if not args[0] == "validate":   # validate reports the other files as well
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))
    assert sorted(os.listdir(files["D"])) == before_d and files["F"].read_text() == before_f


def test_validate_still_validates_the_other_files(files):
    res = _invoke(["validate", files["DS"], files["D"]])
    assert res.exit_code == 1
    assert f"{files['DS']}: valid" in res.output
    assert f"stigscap: {files['D']}: is a directory, expected a file" in res.output
    js = _invoke(["validate", files["D"], files["DS"], "--format", "json"])
    doc = json.loads(js.output[js.output.index("{"):])
    assert doc["exit_code"] == 1 and [f["valid"] for f in doc["files"]] == [None, True]


def test_every_path_option_is_in_the_table():
    """A new file or directory option of any command must be added to CASES (options that
    take either a file or a directory, like `export -o`, excepted)."""
    import click
    ctx = click.Context(main)
    missing = []
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        cases = [c[1] for c in CASES if c[1][0] == name]
        for p in cmd.params:
            if not isinstance(p.type, click.Path) or (p.type.file_okay and p.type.dir_okay):
                continue
            if p.param_type_name == "argument":
                hit = any(a in ("{D}", "{F}") and i > 0 and not args[i - 1].startswith("-")
                          for args in cases for i, a in enumerate(args))
            else:
                hit = any(args[i] in p.opts and args[i + 1] in ("{D}", "{F}")
                          for args in cases for i in range(len(args) - 1))
            if not hit:
                missing.append(f"{name} {p.opts[0]}")
    assert not missing, missing
