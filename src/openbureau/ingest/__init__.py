"""Ingest: furnisher files in, validated and idempotent batches into the credit file and lake.

The public surface is what the CLI and the service's upload route call.
"""

from openbureau.ingest.core import (
    add_furnisher,
    ingest_feeds,
    ingest_file,
    ingest_path,
    list_furnishers,
    recover,
)
from openbureau.ingest.receipts import Receipt

__all__ = [
    "Receipt",
    "add_furnisher",
    "ingest_feeds",
    "ingest_file",
    "ingest_path",
    "list_furnishers",
    "recover",
]
