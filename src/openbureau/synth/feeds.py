"""Turning simulated months into furnisher files, each furnisher with its own habits.

Strings are assembled for whole columns by Arrow compute kernels; the only per-value Python
work is for the few noisy identity values captured at account opening.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from openbureau.ingest.spec import FIELDS
from openbureau.synth.accounts import (
    BANKCARD,
    INSTALMENT,
    MICROLOAN,
    PAYPLAT,
    PRODUCTS,
    ST_CHARGED_OFF,
    ST_CLOSED,
    ST_COLLECTION,
    ST_PAID,
    STATUSES,
    Book,
    MonthRecords,
)
from openbureau.synth.config import SynthConfig
from openbureau.synth.money import cents_to_decimal
from openbureau.synth.noise import (
    DOB_MISSING,
    FURNISHERS,
    NID_MISSING,
    NID_MISTYPED,
    PHONE_MISSING,
)
from openbureau.synth.payments import Transactions
from openbureau.synth.population import Address, People
from openbureau.synth.reference import DISTRICTS, PROVINCES, STREET_KINDS, STREETS, SURNAMES
from openbureau.synth.text import digits, format_dates, join

FURNISHER_INFO = {
    "bankcard": {
        "name": "Synthetic Commercial Bank, card services",
        "format": "csv",
        "kinds": ["accounts"],
    },
    "microloan": {"name": "Synthetic Microfinance Co.", "format": "jsonl", "kinds": ["accounts"]},
    "payplat": {
        "name": "Synthetic Payment Platform",
        "format": "parquet",
        "kinds": ["accounts", "payments"],
    },
}
ACCOUNT_PREFIX = {BANKCARD: ("CC", 10), MICROLOAN: ("ML-", 9), PAYPLAT: ("PL", 10)}
DOB_STYLE = {BANKCARD: "iso", MICROLOAN: "dmy", PAYPLAT: "compact"}
# The furnishing format's own field order (one definition: the ingest spec).
ACCOUNT_COLUMNS = [f.name for f in FIELDS["accounts"]]


def _str(values: npt.NDArray[np.generic]) -> pa.Array:
    # an explicit type: pyarrow's type inference over int64 arrays is surprisingly slow
    return pc.cast(pa.array(values, pa.from_numpy_dtype(values.dtype)), pa.string())


def _prefixed(prefix: str, numbers: npt.NDArray[np.int64], width: int) -> pa.Array:
    return join(numbers.shape[0], prefix, digits(numbers, width))


def _days_to_date(days: npt.NDArray[np.integer]) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.date32())


class FeedWriter:
    """Writes one furnisher file per month and kind, plus the identity columns they carry."""

    def __init__(
        self, config: SynthConfig, people: People, out: Path, rng: np.random.Generator
    ) -> None:
        self.config = config
        self.people = people
        self.feeds = out / "feeds"
        for furnisher in FURNISHERS:
            (self.feeds / furnisher).mkdir(parents=True, exist_ok=True)
        n = people.n
        # Customer numbers: each furnisher numbers its customers its own way.
        self.customer_no = {
            BANKCARD: rng.permutation(n).astype(np.int64) + 10_000_001,
            PAYPLAT: rng.permutation(n).astype(np.int64) + 200_000_001,
        }
        self._nid = pa.array(people.national_id, pa.string())
        surnames = pa.array([s for s, _, _ in SURNAMES], pa.string())
        surname = pc.take(surnames, pa.array(people.surname))
        given = pa.array(people.given_name(), pa.string())
        self._names = {
            BANKCARD: pc.binary_join_element_wise(pc.utf8_upper(surname), given, " "),
            MICROLOAN: pc.binary_join_element_wise(given, surname, " "),
            PAYPLAT: pc.utf8_lower(pc.binary_join_element_wise(surname, given, " ")),
        }
        everyone = np.arange(n, dtype=np.int32)
        self._addresses = {
            f: (
                self._address(f, people.address, everyone),
                self._address(f, people.new_address, everyone),
            )
            for f in (BANKCARD, MICROLOAN, PAYPLAT)
        }
        self.files: list[Path] = []
        self.rows = {"accounts": 0, "payments": 0}
        # Files are written in the background while the next month is simulated; Arrow and
        # DuckDB release the GIL, so this uses the second core. Each file is independent, so
        # the bytes do not depend on timing.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="synth-writer")
        self._pending: list[Future[None]] = []

    # -- identity columns ----------------------------------------------------------------
    def _address(
        self, furnisher: int, address: Address, persons: npt.NDArray[np.int32]
    ) -> pa.Array:
        house = _str(address.house[persons])
        street = pc.take(pa.array(STREETS), pa.array(address.street[persons]))
        kinds = (
            [full for full, _ in STREET_KINDS]
            if furnisher != MICROLOAN
            else [short for _, short in STREET_KINDS]
        )
        kind = pc.take(pa.array(kinds), pa.array(address.kind[persons]))
        district = pc.take(pa.array(DISTRICTS), pa.array(address.district[persons]))
        city = pc.take(
            pa.array([c for _, c, _, _ in PROVINCES]), pa.array(address.province[persons])
        )
        if furnisher == MICROLOAN:
            return pc.binary_join_element_wise(
                house, " ", street, " ", kind, ", ", district, ", ", city, ""
            )
        full = pc.binary_join_element_wise(
            "No. ", house, " ", street, " ", kind, ", ", district, " District, ", city, ""
        )
        return pc.utf8_lower(full) if furnisher == PAYPLAT else full

    def _identity(
        self, furnisher: int, book: Book, acc: npt.NDArray[np.int64], u: int
    ) -> dict[str, pa.Array]:
        p = self.people
        persons = book.person[acc]
        noise = self.config.noise[FURNISHERS[furnisher]]
        nid_state = book.nid_state[acc]
        nid = pc.take(self._nid, pa.array(persons))
        nid = pc.if_else(
            pa.array(nid_state == NID_MISTYPED), pa.array(book.nid_override[acc], pa.string()), nid
        )
        nid = pc.if_else(pa.array(nid_state == NID_MISSING), pa.scalar(None, pa.string()), nid)

        name = pc.coalesce(
            pa.array(book.name_override[acc], pa.string()),
            pc.take(self._names[furnisher], pa.array(persons)),
        )

        dob = format_dates(
            book.dob_days[acc], DOB_STYLE[furnisher], valid=book.dob_noise[acc] != DOB_MISSING
        )

        phone = book.phone[acc]
        if noise.updates_phone:
            changed = u >= p.phone_change_month[persons]
            phone = np.where(changed, p.new_phone[persons], phone)
        k = acc.size
        number = digits(phone, 11)
        has_phone = book.phone_noise[acc] != PHONE_MISSING
        if furnisher == BANKCARD:
            phone_s = join(
                k, number[:, :3], "-", number[:, 3:7], "-", number[:, 7:], valid=has_phone
            )
        elif furnisher == MICROLOAN:
            phone_s = join(k, "+86 ", number, valid=has_phone)
        else:
            phone_s = join(k, number, valid=has_phone)

        moved = (
            (u >= p.move_month[persons])
            if noise.updates_address
            else book.address_version[acc].astype(bool)
        )
        old, new = self._addresses[furnisher]
        take = pa.array(persons)
        address = pc.if_else(pa.array(moved), pc.take(new, take), pc.take(old, take))
        postcode = join(
            k,
            digits(
                np.where(moved, p.new_address.postcode[persons], p.address.postcode[persons]), 6
            ),
        )
        return {
            "national_id": nid,
            "name": name,
            "birth_date": dob,
            "phone": phone_s,
            "address": address,
            "postcode": postcode,
        }

    # -- files ---------------------------------------------------------------------------
    def write_accounts(self, book: Book, records: MonthRecords, u: int, month: dt.date) -> None:
        """Queue this month's account files. The heavy text work runs on the writer threads;
        what may still change in the book (charge-off months) is copied here first."""
        for furnisher in (BANKCARD, MICROLOAN, PAYPLAT):
            sel = np.nonzero(book.furnisher[records.account] == furnisher)[0]
            acc = records.account[sel]
            charged_off = book.charged_off[acc]
            self._submit(
                FURNISHERS[furnisher],
                month,
                "accounts",
                acc.size,
                self._account_table,
                furnisher,
                book,
                records,
                sel,
                acc,
                charged_off,
                u,
                month,
            )

    def _account_table(
        self,
        furnisher: int,
        book: Book,
        records: MonthRecords,
        sel: npt.NDArray[np.int64],
        acc: npt.NDArray[np.int64],
        co: npt.NDArray[np.int16],
        u: int,
        month: dt.date,
    ) -> pa.Table:
        k = acc.size
        persons = book.person[acc]
        product = book.product[acc]
        status = records.status[sel]
        month_start = (np.datetime64(month) - np.datetime64("1970-01-01")).astype(np.int64)
        # Book months count from the start of the burn-in; feed month 0 is burn_in_months later.
        first = (
            np.datetime64(self.config.month(0), "M").astype(np.int64) - self.config.burn_in_months
        )
        open_month_start = first + book.open_month[acc].astype(np.int64)
        opened = (
            (
                open_month_start.astype("datetime64[M]").astype("datetime64[D]")
                - np.datetime64("1970-01-01")
            ).astype(np.int64)
            + book.open_day[acc]
            - 1
        )
        ends = np.isin(status, (ST_CLOSED, ST_PAID))
        co_start = first + co.astype(np.int64)
        co_day = (
            co_start.astype("datetime64[M]").astype("datetime64[D]") - np.datetime64("1970-01-01")
        ).astype(np.int64) + 27
        closed = np.where(ends, month_start + 27, co_day)
        has_closed = ends | np.isin(status, (ST_CHARGED_OFF, ST_COLLECTION))
        revolving = product != INSTALMENT
        prefix, width = ACCOUNT_PREFIX[furnisher]
        columns: dict[str, pa.Array] = {
            "reporting_month": pa.array([f"{month:%Y-%m}"] * k, pa.string()),
            "account_id": _prefixed(prefix, book.seq[acc], width),
        }
        if furnisher == BANKCARD:
            columns["customer_ref"] = _prefixed("B", self.customer_no[BANKCARD][persons], 8)
        elif furnisher == PAYPLAT:
            columns["customer_ref"] = _prefixed("U", self.customer_no[PAYPLAT][persons], 9)
        columns.update(self._identity(furnisher, book, acc, u))
        columns.update(
            {
                "product": pa.array(PRODUCTS[product], pa.string()),
                "opened": _days_to_date(opened)
                if furnisher == PAYPLAT
                else format_dates(opened, "iso"),
                "closed": (
                    pa.array(closed.astype(np.int32), pa.date32(), mask=~has_closed)
                    if furnisher == PAYPLAT
                    else format_dates(closed, "iso", valid=has_closed)
                ),
                "credit_limit": cents_to_decimal(records.limit[sel], valid=revolving),
                "original_amount": cents_to_decimal(book.original[acc], valid=~revolving),
                "term_months": pa.array(
                    book.term[acc].astype(np.int32), pa.int32(), mask=revolving
                ),
                "balance": cents_to_decimal(records.balance[sel]),
                "amount_due": cents_to_decimal(records.amount_due[sel]),
                "amount_paid": cents_to_decimal(records.amount_paid[sel]),
                "days_past_due": pa.array(records.days_past_due[sel].astype(np.int32), pa.int32()),
                "status": pa.array(STATUSES[status], pa.string()),
            }
        )
        names = [c for c in ACCOUNT_COLUMNS if c in columns]
        return pa.table({c: columns[c] for c in names})

    def write_payments(self, tx: Transactions, month: dt.date) -> None:
        self._submit("payplat", month, "payments", tx.size, self._payments_table, tx)

    def _payments_table(self, tx: Transactions) -> pa.Table:
        refs = _prefixed("U", self.customer_no[PAYPLAT][tx.person], 9)
        return tx.to_table(refs)

    def _submit(
        self,
        furnisher: str,
        month: dt.date,
        kind: str,
        rows: int,
        build: Callable[..., pa.Table],
        *args: object,
    ) -> None:
        fmt = str(FURNISHER_INFO[furnisher]["format"])
        path = self.feeds / furnisher / f"{month:%Y-%m}.{kind}.{fmt}"
        self.files.append(path)
        self.rows[kind] += rows
        while len(self._pending) >= 4:  # bound the months held in memory
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(_build_and_write, path, fmt, build, args))

    def close(self) -> None:
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pool.shutdown(wait=True)


def _build_and_write(
    path: Path, fmt: str, build: Callable[..., pa.Table], args: tuple[object, ...]
) -> None:
    _write_file(path, fmt, build(*args))


def _write_file(path: Path, fmt: str, table: pa.Table) -> None:
    if fmt == "csv":
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))
    elif fmt == "jsonl":
        con = duckdb.connect(config={"threads": 1})
        try:
            con.register("batch", table)
            target = str(path).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM batch) TO '{target}' (FORMAT JSON)")  # noqa: S608
        finally:
            con.close()
    else:
        pq.write_table(table, path, compression="zstd", compression_level=1)


__all__ = ["ACCOUNT_COLUMNS", "FURNISHER_INFO", "FeedWriter"]
