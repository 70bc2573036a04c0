"""One realistic population shared by the realism tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openbureau.synth import SynthConfig, SynthSummary, generate

REALISM_CONFIG = SynthConfig(consumers=12_000, months=36, seed=7)


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("population")
    summary = generate(REALISM_CONFIG, out)
    return out, summary
