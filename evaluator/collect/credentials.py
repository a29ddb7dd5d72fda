"""Where WinRM credentials come from, and how they are kept out of every output.

Sources, in order: a credentials file given by the user (must be readable by its owner only),
the environment (STIGSCAP_USERNAME / STIGSCAP_PASSWORD), an interactive prompt. Never the
command line. A `Secret` never prints its value (repr/str/format give asterisks), and every
message the collector produces passes through `redact()`, which blanks any secret seen so far.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import yaml

from stigscap.schemas.errors import StigscapError

ENV_USERNAME = "STIGSCAP_USERNAME"
ENV_PASSWORD = "STIGSCAP_PASSWORD"

_SEEN: set[str] = set()
_SEEN_LOCK = threading.Lock()


class Secret:
    """A password-like value that does not reveal itself by accident."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        if value:
            with _SEEN_LOCK:
                _SEEN.add(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "********"

    def __reduce__(self):  # pickled into scan worker processes; registered again there
        return (Secret, (self._value,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: Secret | None = None

    @property
    def complete(self) -> bool:
        return bool(self.username) and bool(self.password)


def redact(text: str) -> str:
    """`text` with every secret this process has seen replaced by asterisks."""
    with _SEEN_LOCK:
        secrets = sorted(_SEEN, key=len, reverse=True)
    for s in secrets:
        # very short secrets (< 4 characters) would blank ordinary letters of every message
        if len(s) >= 4 and s in text:
            text = text.replace(s, "********")
    return text


def load_credentials_file(path: str | os.PathLike) -> Credentials:
    """A YAML mapping `username: …` / `password: …`, readable by its owner only."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise StigscapError(f"cannot read credentials file: {exc.strerror}", file=str(p)) from None
    if not stat.S_ISREG(st.st_mode):
        raise StigscapError("credentials file is not a regular file", file=str(p))
    if st.st_mode & 0o077:
        raise StigscapError(
            f"credentials file is readable or writable by group/others (mode {stat.S_IMODE(st.st_mode):04o});"
            " run: chmod 600 " + str(p), file=str(p))
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise StigscapError("credentials file is not owned by the current user", file=str(p))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        # never echo the content: the parser message may quote the password
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise StigscapError("credentials file is not a YAML mapping of username/password",
                            file=str(p), line=(line + 1) if line is not None else None) from None
    if not isinstance(data, dict) or not isinstance(data.get("username"), str) \
            or not isinstance(data.get("password"), str) or set(data) - {"username", "password"}:
        raise StigscapError("credentials file must hold exactly 'username' and 'password' strings",
                            file=str(p))
    return Credentials(data["username"], Secret(data["password"]))


Prompter = Callable[[str, bool], str]
"""Asks the user for one value: prompter(text, secret) -> answer (secret: do not echo it)."""


def resolve_credentials(*, username: str | None = None, credentials_file: str | os.PathLike | None = None,
                        prompt: bool = False, env: Mapping[str, str] | None = None,
                        prompter: Prompter | None = None) -> Credentials:
    """Credentials from file, else environment, else (when `prompt` is allowed) from `prompter`,
    which the caller supplies (the CLI passes a terminal prompt; a library caller its own)."""
    env = os.environ if env is None else env
    if credentials_file:
        creds = load_credentials_file(credentials_file)
        if username and username != creds.username:
            raise StigscapError("--username differs from the username in the credentials file",
                                file=str(credentials_file))
        return creds
    user = username or env.get(ENV_USERNAME) or None
    pw = env.get(ENV_PASSWORD)
    if pw:
        return Credentials(user, Secret(pw))
    if prompt:
        if prompter is None:
            raise StigscapError(f"no password: set {ENV_PASSWORD} or give a credentials file")
        if not user:
            user = prompter("WinRM username", False)
        return Credentials(user, Secret(prompter(f"Password for {user}", True)))
    return Credentials(user, None)
