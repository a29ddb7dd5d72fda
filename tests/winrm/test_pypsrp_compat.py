"""pypsrp internals are used for one tested minor version only: another one is refused before
any host is contacted (a changed private serializer would turn typed values into raw text)."""

from __future__ import annotations

import socket

import pytest

from stigscap.evaluator.collect import pypsrp_compat
from stigscap.evaluator.collect.credentials import Credentials, Secret
from stigscap.evaluator.collect.model import CmdletQuery
from stigscap.evaluator.collect.winrm import WinRMOptions, collect_host


@pytest.mark.parametrize("version, ok", [("0.9.0", True), ("0.9.1", True), ("0.10.0", False),
                                         ("1.0.0", False), ("0.8.1", False), ("dev", False)])
def test_only_the_tested_minor_version_is_accepted(version, ok):
    why = pypsrp_compat.unsupported_pypsrp(version)
    assert (why is None) == ok
    if not ok:
        assert version in why and "pypsrp>=0.9,<0.10" in why


def test_the_installed_pypsrp_is_the_tested_one():
    assert pypsrp_compat.unsupported_pypsrp() is None


def test_the_installed_version_is_read_once_per_process(monkeypatch):
    """Every host's session asks (a fleet scan: hundreds per process); the package metadata
    is read the first time only."""
    reads = []
    real = pypsrp_compat.metadata.version

    def counted(name):
        reads.append(name)
        return real(name)
    monkeypatch.setattr(pypsrp_compat.metadata, "version", counted)
    pypsrp_compat._installed_pypsrp.cache_clear()
    try:
        assert [pypsrp_compat.unsupported_pypsrp() for _ in range(3)] == [None] * 3
    finally:
        pypsrp_compat._installed_pypsrp.cache_clear()
    assert reads == ["pypsrp"]


def test_an_untested_pypsrp_is_refused_before_connecting(monkeypatch):
    # a port that is listening: a connection attempt would be accepted (and counted)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    monkeypatch.setattr(pypsrp_compat, "_installed_pypsrp", lambda: "0.10.2")
    q = CmdletQuery(object_id="oval:x:obj:1", module_name=None, verb="Get", noun="ReceiveConnector")
    try:
        c = collect_host("127.0.0.1", [q], WinRMOptions(transport="http", auth="ntlm", port=port,
                                                        retries=0),
                         Credentials("u", Secret("p")))
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()
    assert c.failed and [e.kind for e in c.errors] == ["config_error"]
    assert "pypsrp 0.10.2 is not supported" in c.errors[0].message
    assert c.objects[0].flag == "error"
