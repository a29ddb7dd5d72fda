"""One schema-directory setting: `STIGSCAP_SCHEMA_DIR`, read in one function
(`schemas.catalog.configured_schema_dir`) by the validator and by the signer's default-attribute
filling alike. The older name `STIGSCAP_OPENSCAP_SCHEMAS` (once read by the signer only) is still
accepted for one release, with exactly one deprecation line on stderr per run.

Real runs of the `stigscap` command line (validate, sign), each in its own process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stigscap.schemas import catalog
from tests.cli_helpers import stigscap
from tests.pki import make_identity

from .conftest import FIXTURES, require_schema_dir

NEW, OLD = "STIGSCAP_SCHEMA_DIR", "STIGSCAP_OPENSCAP_SCHEMAS"
WARNING = f"stigscap: warning: {OLD} is deprecated"


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (NEW, OLD)}
    env["STIGSCAP_CACHE_DIR"] = str(tmp_path / "cache")   # no schema cache from another run
    env.update(settings)
    return env


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_old_name_is_still_read_with_one_warning_line(tmp_path):
    d = str(require_schema_dir())
    mini = FIXTURES / "mini-ds.xml"
    run = stigscap("validate", mini, mini, env=_env(tmp_path, **{OLD: d}))
    assert run.rc == 0, run.err
    # two files validated, the setting read for each: still one line, and only that line
    assert _lines(run.err) == [f"{WARNING} (still read for this release); use {NEW}"]
    assert run.out.count(": valid sds@1.3") == 2


def test_old_name_names_its_directory_in_errors(tmp_path):
    absent = tmp_path / "absent"
    run = stigscap("validate", FIXTURES / "mini-ds.xml", env=_env(tmp_path, **{OLD: str(absent)}))
    assert run.rc == 1
    lines = _lines(run.err)
    assert len(lines) == 2 and lines[0].startswith(WARNING), run.err
    assert f"schema directory {absent} ({OLD}) does not exist" in lines[1]
    assert "Traceback" not in run.err


def test_new_name_wins_over_old_one(tmp_path):
    run = stigscap("validate", FIXTURES / "mini-ds.xml",
                   env=_env(tmp_path, **{NEW: str(require_schema_dir()),
                                         OLD: str(tmp_path / "absent")}))
    assert run.rc == 0, run.err
    assert _lines(run.err) == [f"{WARNING} (ignored, {NEW} is set); use {NEW}"]


def test_new_name_alone_gives_no_warning(tmp_path):
    run = stigscap("validate", FIXTURES / "mini-ds.xml",
                   env=_env(tmp_path, **{NEW: str(require_schema_dir())}))
    assert run.rc == 0 and run.err == "", run.err


@pytest.mark.parametrize("name", [NEW, OLD])
def test_signer_reads_the_same_setting(tmp_path, name):
    """The signer writes schema default attributes from the XSDs of the one setting: pointed
    at a directory without them, signing stops with one line naming that directory."""
    require_schema_dir()
    ident = make_identity(tmp_path, "signer")
    absent = tmp_path / "no-schemas"
    out = tmp_path / "signed.xml"
    run = stigscap("sign", FIXTURES / "mini-ds.xml", "--sign-key", ident.key_pem, "--sign-cert",
                   ident.cert_pem, "-o", out, env=_env(tmp_path, **{name: str(absent)}))
    assert run.rc == 1, (run.out, run.err)
    lines = _lines(run.err)
    assert lines[-1].startswith("stigscap: schema not found: " + str(absent)), run.err
    assert f"set {NEW})" in lines[-1]
    assert len(lines) == (2 if name == OLD else 1) and "Traceback" not in run.err
    if name == OLD:
        assert lines[0].startswith(WARNING)
    assert not out.exists()


def test_one_function_reads_the_setting(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(catalog, "_deprecation_warned", False)
    monkeypatch.delenv(NEW, raising=False)
    monkeypatch.delenv(OLD, raising=False)
    assert catalog.configured_schema_dir() == (Path(catalog.DEFAULT_SCHEMA_DIR),
                                               "the system schema directory")
    monkeypatch.setenv(OLD, str(tmp_path / "old"))
    assert catalog.configured_schema_dir() == (tmp_path / "old", OLD)
    assert catalog.configured_schema_dir("x") == (Path("x"), "--schema-dir")
    monkeypatch.setenv(NEW, str(tmp_path / "new"))
    assert catalog.configured_schema_dir() == (tmp_path / "new", NEW)
    from stigscap.evaluator.signing.defaults import schema_root
    assert schema_root() == tmp_path / "new"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(WARNING)
