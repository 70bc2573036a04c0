"""Same configuration, same bytes; another seed, another population."""

from __future__ import annotations

import hashlib
from pathlib import Path

from openbureau.synth import SynthConfig, generate


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    config = SynthConfig(consumers=1500, months=6, seed=42)
    generate(config, tmp_path / "a")
    generate(config, tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(a) == 3 * 6 + 6 + 5  # account files, payment files, truth + furnishers.json
    assert a == b


def test_other_seed_gives_other_population(tmp_path: Path) -> None:
    generate(SynthConfig(consumers=1500, months=3, seed=1), tmp_path / "a")
    generate(SynthConfig(consumers=1500, months=3, seed=2), tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a if k.startswith("feeds/"))


def test_regenerating_into_the_same_folder_replaces_it(tmp_path: Path) -> None:
    generate(SynthConfig(consumers=500, months=4, seed=1), tmp_path)
    generate(SynthConfig(consumers=500, months=2, seed=1), tmp_path)
    assert len(list((tmp_path / "feeds" / "bankcard").iterdir())) == 2
