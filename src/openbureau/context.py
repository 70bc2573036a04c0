"""The Context: one object the CLI, the service and notebooks share (settings, stores, keys)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openbureau.config import Settings, load_settings
from openbureau.errors import NotInitialisedError
from openbureau.keys import Keys, ensure_keys, load_keys
from openbureau.store.db import make_engine, session_factory, sqlite_path
from openbureau.store.schema import current_revision, head_revision, upgrade

if TYPE_CHECKING:
    from openbureau.ingest.load import NationalIdSealer


@dataclass(frozen=True)
class InitResult:
    home: Path
    database: str
    lake: Path
    revision: str | None
    keys_created: list[Path]


class Context:
    """Everything a command needs, created lazily: nothing heavy happens at construction."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def keys(self) -> Keys:
        return load_keys(self.settings)

    @cached_property
    def sealer(self) -> NationalIdSealer:
        """The national-id sealer on these keys, one per context (ingest, linking, reports)."""
        from openbureau.ingest.load import NationalIdSealer

        return NationalIdSealer(self.keys)

    @property
    def lake(self) -> Path:
        return self.settings.resolved_lake_path

    def init(self) -> InitResult:
        """Create the home folder, the keys, the lake root and the database schema (idempotent)."""
        home = self.settings.home
        home.mkdir(parents=True, exist_ok=True)
        db_file = sqlite_path(self.settings.resolved_database_url)
        if db_file is not None:
            db_file.parent.mkdir(parents=True, exist_ok=True)
        created = ensure_keys(self.settings)
        self.lake.mkdir(parents=True, exist_ok=True)
        revision = upgrade(self.engine)
        return InitResult(
            home=home.resolve(),
            database=self.engine.url.render_as_string(hide_password=True),
            lake=self.lake,
            revision=revision,
            keys_created=created,
        )

    def require_initialised(self) -> None:
        """Refuse to work on a database whose schema is missing or behind the code."""
        have = current_revision(self.engine)
        want = head_revision()
        if have != want:
            raise NotInitialisedError(
                f"database schema is at {have or 'nothing'}, code needs {want}: "
                "run 'openbureau init'"
            )

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


__all__ = ["Context", "InitResult"]
