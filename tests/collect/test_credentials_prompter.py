"""Credentials and key passwords are asked through a prompter the caller passes (the CLI a
hidden terminal prompt): the library itself never talks to a terminal."""

from __future__ import annotations

import pytest

from stigscap.evaluator.collect.credentials import ENV_PASSWORD, resolve_credentials
from stigscap.evaluator.signing.keys import load_key_files
from stigscap.schemas.errors import StigscapError
from tests.pki import make_identity


def test_prompter_is_asked_for_username_then_hidden_password():
    asked = []

    def prompter(text: str, secret: bool) -> str:
        asked.append((text, secret))
        return "s3cret" if secret else "PERIMETER\\auditor"

    creds = resolve_credentials(prompt=True, env={}, prompter=prompter)
    assert asked == [("WinRM username", False), ("Password for PERIMETER\\auditor", True)]
    assert creds.username == "PERIMETER\\auditor" and creds.password.reveal() == "s3cret"


def test_environment_wins_and_no_prompter_means_a_one_line_error():
    creds = resolve_credentials(prompt=True, env={ENV_PASSWORD: "pw", "STIGSCAP_USERNAME": "u"},
                                prompter=lambda *_: pytest.fail("asked although set"))
    assert creds.username == "u"
    with pytest.raises(StigscapError, match=ENV_PASSWORD):
        resolve_credentials(prompt=True, env={})


def test_encrypted_key_password_from_prompter_or_a_named_variable(tmp_path, monkeypatch):
    ident = make_identity(tmp_path, "enc", password="correct horse")
    monkeypatch.delenv("STIGSCAP_KEY_PASSWORD", raising=False)
    with pytest.raises(StigscapError, match="STIGSCAP_KEY_PASSWORD"):
        load_key_files(ident.key_pem, ident.cert_pem)
    sk = load_key_files(ident.key_pem, ident.cert_pem, prompter=lambda text: "correct horse")
    assert sk.chain[0] == ident.cert
