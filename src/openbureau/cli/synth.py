"""``openbureau synth``: placeholder until the generator lands in the next commit."""

from __future__ import annotations


def synth() -> None:
    """Write a synthetic population (furnisher feeds and ground truth)."""
