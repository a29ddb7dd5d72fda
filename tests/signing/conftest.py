"""Fixtures for the signing tests: throw-away PKI (made here, never committed) and signed
documents built once per session from our own generated source data stream."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.cli_helpers import stigscap
from tests.pki import NOW, Identity, make_identity  # noqa: F401 (Identity re-exported)

SIGN_TIME = "2026-11-28T00:00:00Z"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pki")
    ids = {
        "rsa": make_identity(tmp, "rsa"),
        "ec": make_identity(tmp, "ec", kind="ec"),
        "wrong": make_identity(tmp, "wrong"),
        "expired": make_identity(tmp, "expired", not_before=NOW - dt.timedelta(days=400),
                                 not_after=NOW - dt.timedelta(days=35)),
        "ca": make_identity(tmp, "ca", ca=True),
    }
    ids["leaf"] = make_identity(tmp, "leaf", issuer=ids["ca"])
    return ids


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("signing")


@pytest.fixture(scope="session")
def our_sds(work) -> Path:
    """Our own generated SCAP 1.3 source data stream (the seed rule)."""
    out = work / "exchange-ds.xml"
    run = stigscap("generate", "-o", out, "--timestamp", "2026-11-01T00:00:00Z")
    assert run.rc == 0, run.err
    return out


@pytest.fixture(scope="session")
def our_arf(work, our_sds) -> Path:
    """Our own ARF 1.1 result data stream: `stigscap collect --example` + `stigscap eval`
    (the seed rule fails on the example Edge server; the SDS is embedded as report-request)."""
    sc = work / "example-sc.xml"
    run = stigscap("collect", "-d", our_sds, "--example", "-o", sc,
                   "--timestamp", "2026-11-28T00:00:00Z")
    assert run.rc == 0, run.err
    out = work / "exchange-arf.xml"
    run = stigscap("eval", our_sds, "--profile", "MAC-1_Classified", "--system-characteristics",
                   sc, "--results-arf", out, "--timestamp", "2026-11-28T00:00:00Z", "-q")
    assert run.rc == 2 and out.exists(), run.err
    return out


@pytest.fixture(scope="session")
def signed_sds(work, our_sds, pki) -> Path:
    out = work / "exchange-ds-signed.xml"
    run = stigscap("sign", our_sds, "--sign-key", pki["rsa"].key_pem, "--sign-cert", pki["rsa"].cert_pem,
                   "-o", out, "--timestamp", SIGN_TIME)
    assert run.rc == 0, run.err
    return out


@pytest.fixture(scope="session")
def signed_arf(work, our_arf, pki) -> Path:
    out = work / "exchange-arf-signed.xml"
    run = stigscap("sign", our_arf, "--sign-key", pki["ec"].key_pem, "--sign-cert", pki["ec"].cert_pem,
                   "-o", out, "--timestamp", SIGN_TIME)
    assert run.rc == 0, run.err
    return out
