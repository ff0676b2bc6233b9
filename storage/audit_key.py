"""The audit log's key: a secret kept outside the database, so its owner cannot re-seal history.

Every process that writes or checks audit rows finds it the same way, in this order:

1. `MICROBUY_AUDIT_KEY` in the environment;
2. `MICROBUY_AUDIT_KEY_FILE`, a file only its owner may read;
3. for a SQLite file database only, `<database file>.audit-key` beside it, made owner-only the
   first time it is needed (`microbuy db upgrade`, or the first audit row).

A PostgreSQL database has no default: several hosts share it, and each making its own key would
split the chain, so the key is configured explicitly there.
"""

import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from settings import Settings

from .errors import StorageError

KEY_VARIABLE = "MICROBUY_AUDIT_KEY"
KEY_FILE_VARIABLE = "MICROBUY_AUDIT_KEY_FILE"
DEFAULT_KEY_SUFFIX = ".audit-key"
# HMAC-SHA256 keys shorter than the hash add guessable bits, not safety.
MIN_KEY_CHARS = 32


class AuditKeyError(StorageError):
    """No usable audit key: missing, too short, or in a file others may read."""


def default_key_file(url: str) -> Optional[Path]:
    """`<database file>.audit-key` for a SQLite file database; None for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database + DEFAULT_KEY_SUFFIX)


def _checked(text: str, where: str) -> bytes:
    text = text.strip()
    if len(text) < MIN_KEY_CHARS:
        raise AuditKeyError(
            f"the audit key in {where} is {len(text)} characters; it needs at least {MIN_KEY_CHARS} "
            "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')")
    return text.encode("utf-8")


# path -> ((inode, mtime, size), key): a key file is read again only when it changes.
_file_cache: Dict[str, Tuple[Tuple[int, int, int], bytes]] = {}


def read_key_file(path: Path, variable: str = KEY_FILE_VARIABLE) -> bytes:
    """The key in `path`, refused if the file is not a regular file only its owner can read."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise AuditKeyError(f"the audit key file {path} ({variable}) does not exist") from None
    if not stat.S_ISREG(info.st_mode):
        raise AuditKeyError(f"the audit key file {path} ({variable}) is not a regular file")
    if info.st_mode & 0o077:
        raise AuditKeyError(
            f"the audit key file {path} ({variable}) can be read or changed by others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); make it owner-only: chmod 600 {path}")
    signature = (info.st_ino, info.st_mtime_ns, info.st_size)
    cached = _file_cache.get(str(path))
    if cached is not None and cached[0] == signature:
        return cached[1]
    key = _checked(path.read_text(encoding="utf-8"), f"{path} ({variable})")
    _file_cache[str(path)] = (signature, key)
    return key


def create_key_file(path: Path) -> bool:
    """Write a new random key to `path`, owner-only; False if the file already exists.

    Written beside the target and linked into place, so a process that reads it at the same
    moment sees a whole key or no file, and two processes racing to create it keep one key.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(secrets.token_hex(32) + "\n")
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)


def audit_key(url: str, env: Optional[Mapping[str, str]] = None, *, create: bool = False) -> bytes:
    """The key that seals the audit log of the database at `url` (`env` instead of os.environ).

    `create`: make the SQLite default key file when it does not exist yet. Checking the log never
    creates one (a made-up key would only say every row is broken).
    """
    value = Settings.secret(KEY_VARIABLE, env)
    file = Settings.read(KEY_FILE_VARIABLE, env)
    if value and file:
        raise AuditKeyError(f"both {KEY_VARIABLE} and {KEY_FILE_VARIABLE} are set; set only one")
    if value:
        return _checked(value, KEY_VARIABLE)
    if file:
        return read_key_file(file)
    default = default_key_file(url)
    if default is None:
        raise AuditKeyError(
            f"no audit key: set {KEY_VARIABLE}, or {KEY_FILE_VARIABLE} to a file only its owner can read "
            "(a PostgreSQL database has no default key; see docs/storage.md)")
    if create and not default.exists():
        try:
            create_key_file(default)
        except OSError as exc:
            raise AuditKeyError(f"cannot make the default audit key file {default}: {exc.strerror}") from None
    if not default.exists():
        raise AuditKeyError(
            f"no audit key: the default key file {default} does not exist (microbuy db upgrade makes it for a "
            f"new database); set {KEY_VARIABLE} or {KEY_FILE_VARIABLE} if the key is kept elsewhere")
    return read_key_file(default, "the default audit key file")


def session_url(session: Session) -> str:
    bind = session.get_bind()
    return getattr(bind, "engine", bind).url.render_as_string(hide_password=False)


def key_for_session(session: Session, *, create: bool = False) -> bytes:
    """The audit key for the database `session` works on."""
    return audit_key(session_url(session), create=create)


def key_source(url: str, env: Optional[Mapping[str, str]] = None) -> str:
    """Where the key for `url` is taken from, for messages (never the key itself)."""
    if Settings.is_set(KEY_VARIABLE, env):
        return KEY_VARIABLE
    file = Settings.read(KEY_FILE_VARIABLE, env)
    if file:
        return f"{KEY_FILE_VARIABLE} ({file})"
    return f"the key file beside the database ({default_key_file(url)})"
