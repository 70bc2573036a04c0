"""Settings: the only place OpenBureau reads its configuration (``OPENBUREAU_*``)."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbureau.errors import ConfigError

logger = logging.getLogger(__name__)

Jurisdiction = Literal["cn", "us"]
Environment = Literal["development", "production"]

# Values people paste from tutorials: refused outside development (as full-stack-fastapi-template).
PLACEHOLDER_SECRETS = frozenset(
    {"", "changethis", "changeme", "secret", "password", "test", "demo"}
)


class Settings(BaseSettings):
    """OpenBureau's configuration, from ``OPENBUREAU_*`` environment variables or keywords.

    Attributes:
        home: folder holding the embedded database, the lake and the generated secrets.
        database_url: SQLAlchemy URL; SQLite in ``home`` when not given.
            PostgreSQL: ``postgresql+psycopg://user@host:5432/db``.
        lake_path: root of the Delta lake; ``<home>/lake`` when not given.
        jurisdiction: the rules profile (``cn`` or ``us``).
        environment: ``development`` allows placeholder secrets, ``production`` refuses them.
        hmac_key: key of the keyed hash used to match national ids; read from
            ``<home>/secrets/hmac.key`` when not given.
        data_key: AES-256-GCM key for personal data at rest; read from
            ``<home>/secrets/data.key`` when not given.
        max_upload_bytes: largest furnisher file accepted (after decompression).
        ingest_max_reject_share: share of rejected records above which a batch is refused.
        ingest_max_line_bytes: longest line accepted in a CSV or JSON Lines file.
        ingest_memory_mb: memory the validation engine may use before spilling to disk.
        ingest_batch_rows: records per streamed batch.
        identity_memory_mb: memory the identity linking engine (DuckDB) may use before
            spilling to ``<home>/tmp``.
        features_memory_mb: memory the feature engine (DuckDB) may use before spilling.
        features_threads: threads for feature computation (DuckDB, local Spark); all if unset.
        service_rate_per_s: requests per second each API client may make (token bucket,
            shared by every server process of the home on this machine); above it the
            service answers 429 with ``Retry-After``.
        service_rate_burst: requests a client may make at once before the rate applies.
        service_refusal_delay_s: seconds a 429 is held before it is sent (a tarpit: a client
            that ignores ``Retry-After`` cannot turn refusals into a flood of work).
        service_max_body_bytes: largest JSON request body (uploads use max_upload_bytes).
        service_workers: uvicorn worker processes of ``openbureau serve``.
        service_db_pool: database connections each server process keeps (and as many again
            in overflow under load).
        service_threads: threads each server process runs route handlers on (default 4; 0
            means one per kept connection, service_db_pool). The routes are short database
            transactions (uploads are ingested on service_ingest_threads): a few threads keep
            the database and the cores busy, more only contend for the GIL and lengthen the
            tail (measured 2026-11-27, 100k file, 2 workers, closed loop: 4 threads 334/392
            inquiries/s, p99 278/295 ms; 10 threads 312/314/s, p99 346/395 ms; 2 threads
            348/242/s — at times too few to keep the cores busy). A thread beyond
            service_db_pool would take an overflow connection, which the pool closes again.
        service_ingest_threads: threads each server process ingests uploaded batches on (their
            own, apart from the route handlers': an upload holds its thread for seconds).
        service_auth_cache_s: seconds a verified API key is remembered (a revoked key stops
            working within this time).
        scraping_volume_ratio: a lender's inquiries in the last hour above this multiple of
            its usual hourly volume raise a scraping alert.
        scraping_min_inquiries: inquiries in an hour below which no volume alert is raised.
    """

    model_config = SettingsConfigDict(env_prefix="OPENBUREAU_", extra="ignore", frozen=True)

    home: Path = Path(".openbureau")
    database_url: str | None = None
    lake_path: Path | None = None
    jurisdiction: Jurisdiction = "cn"
    environment: Environment = "development"
    hmac_key: SecretStr | None = None
    data_key: SecretStr | None = None
    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0)
    # Ingest: above this share of rejected records the whole batch is refused.
    ingest_max_reject_share: float = Field(default=0.05, ge=0.0, le=1.0)
    # Ingest: a line longer than this is refused (a runaway quote or a binary file).
    ingest_max_line_bytes: int = Field(default=1024 * 1024, gt=0)
    # Ingest: memory DuckDB may use while validating; larger files spill to <home>/tmp.
    # DuckDB fills whatever it is given as cache: 128 MB validates 10M rows as fast as 512.
    ingest_memory_mb: int = Field(default=128, ge=64)
    # Ingest: records per Arrow batch while streaming a file.
    ingest_batch_rows: int = Field(default=131_072, ge=1024)
    # Identity: memory the linking job's engine may use (a million people need a few GB).
    identity_memory_mb: int = Field(default=6144, ge=256)
    # Features: memory DuckDB may use for snapshots, features and scoring (spills to <home>/tmp).
    features_memory_mb: int = Field(default=2048, ge=64)
    # Features: compute threads of DuckDB and of a local Spark session (None: all cores).
    features_threads: int | None = Field(default=None, ge=1)
    # Service (openbureau serve): abuse limits and capacity.
    service_rate_per_s: float = Field(default=50.0, gt=0)
    service_rate_burst: int = Field(default=100, ge=1)
    service_refusal_delay_s: float = Field(default=0.5, ge=0, le=10)
    service_max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    service_workers: int = Field(default=1, ge=1)
    service_db_pool: int = Field(default=10, ge=1)
    service_threads: int = Field(default=4, ge=0)
    service_ingest_threads: int = Field(default=2, ge=1)
    service_auth_cache_s: float = Field(default=30.0, ge=0)
    scraping_volume_ratio: float = Field(default=10.0, gt=1)
    scraping_min_inquiries: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        for name in ("hmac_key", "data_key"):
            value: SecretStr | None = getattr(self, name)
            if value is None:
                continue
            if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                if self.environment != "development":
                    raise ValueError(
                        f"OPENBUREAU_{name.upper()} is a placeholder; set a real key "
                        f"(32 random bytes, base64) in the {self.environment} environment"
                    )
                logger.warning(
                    "OPENBUREAU_%s is a placeholder; acceptable only in development", name.upper()
                )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'openbureau.db').resolve()}"

    @cached_property
    def resolved_lake_path(self) -> Path:
        return (self.lake_path or self.home / "lake").resolve()

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as e:
        raise ConfigError(f"invalid configuration: {e}") from e


__all__ = ["PLACEHOLDER_SECRETS", "Environment", "Jurisdiction", "Settings", "load_settings"]
