"""stigscap's cache directory in the user's home, for what is kept between runs.

Kept there: the schema files already verified against their pinned digests
(`verified_digests`) and the signing defaults table (`evaluator.signing.defaults`). Anything
read from it is only trusted as far as `private` allows; losing it only costs time.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_dir() -> Path:
    """$STIGSCAP_CACHE_DIR, else $XDG_CACHE_HOME/stigscap, else ~/.cache/stigscap."""
    base = os.environ.get("STIGSCAP_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "stigscap")
    return Path(base)


def private(st: os.stat_result) -> bool:
    """A file or directory (its stat) that belongs to this user and no one else can write."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
