"""``openbureau demo``: placeholder until the generator lands in the next commit."""

from __future__ import annotations


def demo() -> None:
    """Run the whole bureau on a synthetic population."""
