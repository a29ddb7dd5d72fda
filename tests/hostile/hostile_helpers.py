"""Helpers for the hostile-input suite: bounded CLI runs and the valid inputs every entry point
needs besides the hostile one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_helpers import Run, stigscap

HANG_TIMEOUT = 20        # seconds; every command here finishes in a few on the old machine
PROFILE = "MAC-1_Classified"
STAMP = "2026-11-28T00:00:00Z"
REPO = Path(__file__).resolve().parents[2]
DISA_FIXTURE = REPO / "tests" / "stig" / "fixtures" / "disa_mini_v2r3.xml"


def bounded(*args, timeout: float = HANG_TIMEOUT, env: dict | None = None) -> Run:
    """`stigscap ARGS` in its own process group; a run still going after `timeout` seconds is
    killed (the whole group, nothing is left behind) and the test fails as a hang."""
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("STIGSCAP_")}
    run_env.update(env or {})
    p = subprocess.Popen([sys.executable, "-m", "stigscap.evaluator.cli.main", *map(str, args)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True,
                         env=run_env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"stigscap {args[0]} still running after {timeout}s (hung; killed)")
    return Run(p.returncode, out, err)


def bounded_python(code: str, timeout: float = HANG_TIMEOUT) -> subprocess.CompletedProcess:
    """`python -c CODE` in its own process group, killed (and failed) after `timeout`."""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"python -c … still running after {timeout}s (hung; killed)")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@dataclass
class Base:
    """Valid inputs, made once: data stream (plain and signed), syschar, ARF, CKL, OVAL
    definitions and variables, exports, inventory, signing identity."""
    dir: Path
    ds: Path
    signed_ds: Path
    sc: Path
    arf: Path
    ckl: Path
    defs: Path
    variables: Path
    exports: Path
    inventory: Path
    stig: Path
    key: Path
    cert: Path


def make_base(tmp: Path) -> Base:
    from tests.oval.ovalcases_builder import (P, F, State, Test, cmdlet_object, criteria,
                                              criterion, definition, definitions_doc,
                                              external_variable, variables_doc)
    from tests.pki import make_identity
    from tests.xccdf.xccdf_syschar import syschar_xml

    ident = make_identity(tmp, "hostile")
    ds = tmp / "ds.xml"
    run = stigscap("generate", "-o", ds, "--rule", "SV-84553r1_rule", "--timestamp", STAMP)
    assert run.rc == 0, run.err
    signed = tmp / "ds-signed.xml"
    run = stigscap("sign", ds, "--sign-key", ident.key_pem, "--sign-cert", ident.cert_pem, "-o", signed,
                   "--timestamp", STAMP)
    assert run.rc == 0, run.err
    sc = tmp / "sc.xml"
    sc.write_bytes(syschar_xml())
    arf = tmp / "arf.xml"
    run = stigscap("eval", ds, "--profile", PROFILE, "--system-characteristics", sc,
                   "--results-arf", arf, "--timestamp", STAMP, "-q")
    assert run.rc == 0, run.err
    ckl = tmp / "old.ckl"
    run = stigscap("export", "ckl", arf, "-o", ckl)
    assert run.rc == 0, run.err
    var = f"{P}:var:6993101"
    obj = f"{P}:obj:6993101"
    defs = tmp / "defs.xml"
    defs.write_bytes(definitions_doc(
        [definition(f"{P}:def:69931", criteria("AND", criterion(f"{P}:tst:6993101")))],
        [Test(f"{P}:tst:6993101", obj, [f"{P}:ste:6993101"]).xml()], [cmdlet_object(obj)],
        [State(f"{P}:ste:6993101", [F("authmechanism", None, operation="pattern match",
                                      var_ref=var)]).xml()],
        [external_variable(var)]))
    variables = tmp / "vars.xml"
    variables.write_bytes(variables_doc({var: ("string", ["^Tls$"])}))
    inventory = tmp / "hosts.yaml"
    inventory.write_text("- host.invalid\n")
    return Base(tmp, ds, signed, sc, arf, ckl, defs, variables,
                REPO / "content" / "examples" / "edge2013", inventory, DISA_FIXTURE, ident.key_pem,
                ident.cert_pem)
