"""Production keys: refuse the built-in development keys outside the demo, and make fresh ones.

The data key encrypts media, reference photos and ID numbers (AES-GCM); the lookup key is the
HMAC key of ID-number lookups. A deployment that starts on the keys printed in this repository
protects nothing, so ``serve`` and ``worker`` refuse to start on them (docs/security.md).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from pensioncert.settings import SecuritySettings

DATA_KEY_VARIABLE = "PENSIONCERT_SECURITY__DATA_KEY"
LOOKUP_KEY_VARIABLE = "PENSIONCERT_SECURITY__LOOKUP_KEY"
MIN_LOOKUP_KEY_CHARS = 16  # a guessable HMAC key would let anyone test ID numbers against a stolen database
_DEFAULTS = SecuritySettings()
DEVELOPMENT_DATA_KEYS = frozenset({_DEFAULTS.data_key})
DEVELOPMENT_LOOKUP_KEYS = frozenset({_DEFAULTS.lookup_key})
HOW_TO = "run `pensioncert keys generate` and put its two lines in the service's environment"


def key_problems(security: SecuritySettings) -> list[str]:
    """What is wrong with the configured keys for production, one sentence per problem naming its variable."""
    problems: list[str] = []
    if security.data_key in DEVELOPMENT_DATA_KEYS:
        problems.append(f"{DATA_KEY_VARIABLE} is not set (the built-in development key is refused outside "
                        f"`pensioncert demo`); {HOW_TO}")
    else:
        try:
            raw = base64.urlsafe_b64decode(security.data_key.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            problems.append(f"{DATA_KEY_VARIABLE} is not 32 bytes in urlsafe base64; {HOW_TO}")
    if security.lookup_key in DEVELOPMENT_LOOKUP_KEYS:
        problems.append(f"{LOOKUP_KEY_VARIABLE} is not set (the built-in development key is refused outside "
                        f"`pensioncert demo`); {HOW_TO}")
    elif len(security.lookup_key) < MIN_LOOKUP_KEY_CHARS:
        problems.append(f"{LOOKUP_KEY_VARIABLE} is shorter than {MIN_LOOKUP_KEY_CHARS} characters; {HOW_TO}")
    return problems


def generate_env_lines() -> list[str]:
    """Fresh random keys as ``NAME=value`` lines (the form of a ``.env`` or systemd ``EnvironmentFile``)."""
    data_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    lookup_key = secrets.token_urlsafe(32)
    return [f"{DATA_KEY_VARIABLE}={data_key}", f"{LOOKUP_KEY_VARIABLE}={lookup_key}"]
