"""The bureau's keys: generated at ``init``, read from configuration, never put in the database."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from openbureau.config import Settings
from openbureau.errors import ConfigError, NotInitialisedError

_KEY_FILES = {"hmac_key": "hmac.key", "data_key": "data.key"}
_KEY_BYTES = 32


@dataclass(frozen=True, repr=False)
class Keys:
    """Raw key material. ``repr`` is hidden so keys never reach a log line or a traceback."""

    hmac_key: bytes
    data_key: bytes

    def __repr__(self) -> str:
        return "Keys(<hidden>)"


def ensure_keys(settings: Settings) -> list[Path]:
    """Create the key files that configuration does not provide. Returns the files created."""
    created: list[Path] = []
    folder = settings.secrets_dir
    for attr, filename in _KEY_FILES.items():
        if getattr(settings, attr) is not None:
            continue
        path = folder / filename
        if path.exists():
            continue
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        encoded = base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii")
        # O_EXCL + 0600 from the first byte: the key is never world-readable, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(encoded + "\n")
        created.append(path)
    return created


def load_keys(settings: Settings) -> Keys:
    """Load both keys from configuration or from ``<home>/secrets``."""
    raw: dict[str, bytes] = {}
    for attr, filename in _KEY_FILES.items():
        secret = getattr(settings, attr)
        if secret is not None:
            text = secret.get_secret_value()
            source = f"OPENBUREAU_{attr.upper()}"
        else:
            path = settings.secrets_dir / filename
            if not path.exists():
                raise NotInitialisedError(
                    f"key file {path} is missing: run 'openbureau init' or set "
                    f"OPENBUREAU_{attr.upper()}"
                )
            text = path.read_text(encoding="ascii").strip()
            source = str(path)
        raw[attr] = _decode_key(text, source, development=settings.environment == "development")
    return Keys(**raw)


def _decode_key(text: str, source: str, *, development: bool) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (binascii.Error, UnicodeEncodeError):
        key = b""
    if len(key) == _KEY_BYTES:
        return key
    if development:
        # Placeholder keys are allowed in development only: stretch them so the code paths run.
        import hashlib

        return hashlib.sha256(text.encode("utf-8")).digest()
    raise ConfigError(f"{source} must be {_KEY_BYTES} random bytes, base64-encoded")


__all__ = ["Keys", "ensure_keys", "load_keys"]
