from __future__ import annotations

import pytest

from openbureau.context import Context
from openbureau.ingest import add_furnisher


@pytest.fixture
def ctx(context: Context) -> Context:
    """An initialised context with furnishers ``bank`` and ``pay`` registered."""
    add_furnisher(context, "bank", "A Bank")
    add_furnisher(context, "pay", "A Payment Platform")
    return context
