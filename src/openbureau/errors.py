"""The error tree. Every error OpenBureau raises on purpose derives from OpenBureauError.

Domain code raises these; the CLI maps them to an ``Error:`` line and exit code 1, the
service maps them to RFC 9457 problem responses. Messages must never contain personal data.
"""

from __future__ import annotations


class OpenBureauError(Exception):
    """Root of every error raised on purpose by OpenBureau."""


class ConfigError(OpenBureauError):
    """The configuration is missing, invalid or unsafe for the environment."""


class StoreError(OpenBureauError):
    """The credit-file database or the lake could not be reached or migrated."""


class NotInitialisedError(StoreError):
    """The home folder or the database has not been initialised (run ``openbureau init``)."""


class SynthError(OpenBureauError):
    """The synthetic population could not be generated as asked."""


class IngestError(OpenBureauError):
    """A furnisher batch could not be read or was refused."""


__all__ = [
    "ConfigError",
    "IngestError",
    "NotInitialisedError",
    "OpenBureauError",
    "StoreError",
    "SynthError",
]
