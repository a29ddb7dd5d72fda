"""Fixtures for the WinRM collector tests: a loopback WSMan/PSRP server per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from winrm_testserver import WinRMTestServer  # noqa: E402

PASSWORD = "Corr3ct-Horse!x7Q"
USER = "stigadmin"


@pytest.fixture
def make_server(monkeypatch):
    """Factory: start a WinRMTestServer (stopped at teardown). NTLM_USER_FILE is restored."""
    monkeypatch.setenv("NTLM_USER_FILE", "/nonexistent")
    servers = []

    def _make(**kwargs) -> WinRMTestServer:
        kwargs.setdefault("users", {USER: PASSWORD})
        srv = WinRMTestServer(**kwargs).start()
        servers.append(srv)
        return srv

    yield _make
    for s in servers:
        s.stop()
