"""Reading furnisher files: checks on the raw bytes, then a stream of Arrow record batches.

Every reader yields batches whose ``_line`` column is the record's line as a text editor
shows it (header = line 1) for CSV and JSON Lines, or its row number (from 1) for Parquet.
Nothing here keeps more than one batch in memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openbureau.errors import BadFileError, HeaderMismatchError

Kind = Literal["accounts", "payments"]
Format = Literal["csv", "jsonl", "parquet"]
KINDS: tuple[Kind, ...] = ("accounts", "payments")
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "parquet")
_EXTENSIONS: dict[str, Format] = {
    "csv": "csv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
    "parquet": "parquet",
    "pq": "parquet",
}
_NAME = re.compile(r"^(?P<month>\d{4}-\d{2})\.(?P<kind>[a-z]+)\.(?P<ext>[a-z]+)(?P<gz>\.gz)?$")
_CHUNK = 1024 * 1024
# A JSON Lines file is read as a one-column CSV split on this byte: a raw control character
# can never appear in valid JSON, so every physical line is exactly one row.
_JSONL_DELIMITER = "\x1f"


@dataclass(frozen=True)
class FileName:
    """What a file's name says: ``<YYYY-MM>.<kind>.<ext>[.gz]``."""

    month: str | None
    kind: Kind | None
    fmt: Format | None
    compressed: bool


def parse_name(path: Path) -> FileName:
    """Read the reporting month, kind and format from a file name, where it follows the format."""
    name = path.name.lower()
    compressed = name.endswith(".gz")
    m = _NAME.match(name)
    if m:
        kind = next((k for k in KINDS if k == m["kind"]), None)
        return FileName(m["month"], kind, _EXTENSIONS.get(m["ext"]), compressed)
    stem = name[:-3] if compressed else name
    ext = stem.rsplit(".", 1)[-1] if "." in stem else ""
    kind = next((k for k in KINDS if f".{k}." in f".{stem}"), None)
    return FileName(None, kind, _EXTENSIONS.get(ext), compressed)


@dataclass
class Scan:
    """What one pass over the raw bytes found."""

    sha256: str
    size: int
    lines: int = 0  # physical lines (a last line without a line end counts)
    ends_with_newline: bool = True


def decompress_bounded(src: Path, dest: Path, limit: int) -> None:
    """Decompress a gzip file, refusing it as soon as the output passes ``limit`` bytes."""
    written = 0
    try:
        with gzip.open(src, "rb") as fin, dest.open("wb") as fout:
            while True:
                chunk = fin.read(_CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > limit:
                    raise BadFileError(
                        f"{src.name}: compressed file expands beyond the upload limit of "
                        f"{limit} bytes; split it into smaller batches"
                    )
                fout.write(chunk)
    except (OSError, EOFError, zlib.error) as e:
        raise BadFileError(f"{src.name}: not a readable gzip file ({type(e).__name__})") from e


def scan(path: Path, *, display: str, text: bool, max_line: int) -> Scan:
    """Hash the file and, for text formats, check encoding and line lengths in one pass."""
    digest = hashlib.sha256()
    size = 0
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = 0
    run = 0  # bytes since the last line end
    last = b""
    with path.open("rb") as f:
        first = True
        while True:
            chunk = f.read(max(_CHUNK, max_line))
            if not chunk:
                break
            digest.update(chunk)
            if first:
                first = False
                if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise (
                        BadFileError(f"{display}: file is UTF-16; save it as UTF-8 and resubmit")
                        if text
                        else BadFileError(f"{display}: not a Parquet file")
                    )
            if text:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as e:
                    bad_line = lines + chunk.count(b"\n", 0, e.start) + 1
                    raise BadFileError(
                        f"{display}: line {bad_line} is not valid UTF-8; the file must be "
                        "encoded as UTF-8"
                    ) from None
                first_nl = chunk.find(b"\n")
                if first_nl < 0:
                    run += len(chunk)
                else:
                    if run + first_nl > max_line:
                        raise BadFileError(
                            f"{display}: line {lines + 1} is longer than {max_line} bytes"
                        )
                    n = chunk.count(b"\n")
                    if n > 1 and len(chunk) > max_line:
                        _check_inner_lines(chunk, first_nl, max_line, lines, display)
                    lines += n
                    run = len(chunk) - chunk.rfind(b"\n") - 1
                if run > max_line:
                    raise BadFileError(
                        f"{display}: line {lines + 1} is longer than {max_line} bytes"
                    )
            size += len(chunk)
            last = chunk[-1:]
    if text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise BadFileError(
                f"{display}: the file ends in the middle of a UTF-8 character (truncated?)"
            ) from None
    ends = last == b"\n"
    return Scan(
        sha256=digest.hexdigest(),
        size=size,
        lines=lines + (0 if ends or size == 0 else 1),
        ends_with_newline=ends,
    )


def _check_inner_lines(
    chunk: bytes, first_nl: int, max_line: int, before: int, display: str
) -> None:
    # A line wholly inside one chunk can only be too long when the chunk is longer than the
    # limit; find it without a Python loop per line.
    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
    gaps = np.diff(ends) - 1
    too_long = np.flatnonzero(gaps > max_line)
    if too_long.size:
        line = before + int(too_long[0]) + 2
        raise BadFileError(f"{display}: line {line} is longer than {max_line} bytes")


def read_csv_header(path: Path, display: str) -> list[str]:
    """The header row of a CSV file (BOM removed)."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        first = f.readline()
    if not first.strip():
        raise HeaderMismatchError(f"{display}: line 1 must be the header row with field names")
    try:
        row = next(csv.reader(io.StringIO(first)))
    except (csv.Error, StopIteration) as e:
        raise HeaderMismatchError(f"{display}: line 1 is not a valid CSV header") from e
    return [c.strip() for c in row]


def json_keys(path: Path, display: str) -> list[str]:
    """Every key used by any object of a JSON Lines file (one DuckDB pass, in C)."""
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects(?, "
            "format='newline_delimited', ignore_errors=true)",
            [str(path)],
        ).fetchall()
    except duckdb.Error as e:
        raise BadFileError(f"{display}: not a readable JSON Lines file") from e
    finally:
        con.close()
    return sorted(str(r[0]) for r in rows)


@dataclass
class LineMap:
    """Turns reader row numbers into editor line numbers, batch after batch."""

    next_row: int
    next_line: int
    invalid: list[tuple[int, int, int]] = field(default_factory=list)  # row, n fields, newlines
    bad_lines: list[tuple[int, int]] = field(default_factory=list)  # line, n fields

    def handler(self, row: pacsv.InvalidRow) -> str:
        text = row.text or ""
        self.invalid.append((int(row.number or -1), int(row.actual_columns), text.count("\n")))
        return "skip"

    def lines_for(self, n_good: int, newlines: np.ndarray, *, final: bool = False) -> np.ndarray:
        """Lines of the next ``n_good`` good rows; records the lines of skipped rows."""
        self.invalid.sort()
        taken: list[tuple[int, int, int]] = []
        while self.invalid and (final or self.invalid[0][0] < self.next_row + n_good + len(taken)):
            taken.append(self.invalid.pop(0))
        total = n_good + len(taken)
        rows = np.arange(self.next_row, self.next_row + total)
        nl = np.zeros(total, dtype=np.int64)
        is_bad = np.zeros(total, dtype=bool)
        for r, _cols, k in taken:
            idx = r - self.next_row
            is_bad[idx] = True
            nl[idx] = k
        nl[~is_bad] = newlines
        before = np.concatenate(([0], np.cumsum(nl)[:-1])) if total else nl
        lines = self.next_line + (rows - self.next_row) + before
        for (_r, cols, _k), line in zip(taken, lines[is_bad], strict=True):
            self.bad_lines.append((int(line), cols))
        if total:
            self.next_line = int(lines[-1] + nl[-1] + 1)
        self.next_row += total
        return lines[~is_bad]


def csv_batches(
    path: Path, header: list[str], keep: list[str], *, block_size: int, lines: LineMap
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV file as string columns ``keep`` plus ``_line``."""
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=block_size, skip_rows=1, column_names=header
        ),
        parse_options=pacsv.ParseOptions(
            newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=lines.handler
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False
        ),
    )
    for batch in reader:
        newlines = np.zeros(batch.num_rows, dtype=np.int64)
        for col in batch.columns:
            counts = pc.count_substring(col, "\n")
            if pc.max(counts).as_py():
                newlines += counts.fill_null(0).to_numpy(zero_copy_only=False)
        line = lines.lines_for(batch.num_rows, newlines)
        cols = [batch.column(c) for c in keep]
        yield pa.RecordBatch.from_arrays([*cols, pa.array(line, pa.int64())], [*keep, "_line"])
    # Rows that came after the last batch (a truncated last line, say).
    lines.lines_for(0, np.zeros(0, dtype=np.int64), final=True)


def jsonl_batches(path: Path, *, block_size: int, lines: LineMap) -> Iterator[pa.RecordBatch]:
    """Stream a JSON Lines file as one string column ``_json`` (one per line) plus ``_line``."""
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=block_size, column_names=["_json"]
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=_JSONL_DELIMITER,
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            invalid_row_handler=lines.handler,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={"_json": pa.string()}, strings_can_be_null=False
        ),
    )
    for batch in reader:
        line = lines.lines_for(batch.num_rows, np.zeros(batch.num_rows, dtype=np.int64))
        yield pa.RecordBatch.from_arrays(
            [batch.column(0), pa.array(line, pa.int64())], ["_json", "_line"]
        )
    lines.lines_for(0, np.zeros(0, dtype=np.int64), final=True)


def parquet_schema(path: Path, display: str) -> pa.Schema:
    try:
        return pq.ParquetFile(path).schema_arrow
    except (pa.ArrowException, OSError) as e:
        raise BadFileError(f"{display}: not a readable Parquet file (truncated or corrupt?)") from e


def parquet_batches(path: Path, columns: list[str], *, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Stream a Parquet file's ``columns`` plus ``_line`` (the row number, from 1)."""
    # pre_buffer=False: with pyarrow's default read-ahead cache every row group read stays
    # allocated until the file is closed (measured: +160 MB from 1M to 10M rows), so memory
    # grew with the file. Without it, one row group at a time; no slower on a local disk.
    pf = pq.ParquetFile(path, pre_buffer=False)
    start = 1
    for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
        line = pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64))
        start += batch.num_rows
        yield pa.RecordBatch.from_arrays([*batch.columns, line], [*batch.schema.names, "_line"])


def copy_to(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)


__all__ = [
    "FORMATS",
    "KINDS",
    "FileName",
    "Format",
    "Kind",
    "LineMap",
    "Scan",
    "csv_batches",
    "decompress_bounded",
    "json_keys",
    "jsonl_batches",
    "parquet_batches",
    "parquet_schema",
    "parse_name",
    "read_csv_header",
    "scan",
]
