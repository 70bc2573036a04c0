"""The furnishing format as data, and the one DuckDB query that validates a stream of records.

Validation is set-based: each Arrow batch goes through one SQL statement that parses every
field, normalises identity fields and lists the reasons a record fails — no Python loop per
record. Reasons name the field and say what to fix; they never contain the value itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from openbureau.ingest.formats import Kind
from openbureau.rules.profiles import Profile

MONEY_MAX_DIGITS = 13  # up to 10^13 - 1 in major units: far above any consumer account
PRODUCTS = ("credit_card", "pay_later", "instalment_loan")
REVOLVING = ("credit_card", "pay_later")
STATUSES = (
    "current",
    "dpd30",
    "dpd60",
    "dpd90",
    "dpd120",
    "charged_off",
    "collection",
    "closed",
    "paid",
)
DIRECTIONS = ("out", "in")
CHANNELS = ("app", "qr", "online", "pos", "transfer")
INFLOW_KINDS = ("salary", "transfer", "refund")
# status -> consistent days_past_due range (inclusive; None = no bound)
DPD_RANGES: dict[str, tuple[int, int | None]] = {
    "current": (0, 29),
    "dpd30": (30, 59),
    "dpd60": (60, 89),
    "dpd90": (90, 119),
    "dpd120": (120, None),
    "charged_off": (120, None),
    "closed": (0, 0),
    "paid": (0, 0),
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # str | code | month | date | birth_date | money | int | nid | phone | ...
    required: bool = False
    max_len: int | None = None
    codes: tuple[str, ...] = ()


ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("reporting_month", "month", required=True),
    Field("account_id", "str", required=True, max_len=64),
    Field("customer_ref", "str", max_len=64),
    Field("national_id", "nid"),
    Field("name", "name", required=True, max_len=200),
    Field("birth_date", "birth_date", required=True),
    Field("phone", "phone"),
    Field("address", "address", max_len=300),
    Field("postcode", "postcode"),
    Field("product", "code", required=True, codes=PRODUCTS),
    Field("opened", "date", required=True),
    Field("closed", "date"),
    Field("credit_limit", "money"),
    Field("original_amount", "money"),
    Field("term_months", "int"),
    Field("balance", "money", required=True),
    Field("amount_due", "money", required=True),
    Field("amount_paid", "money", required=True),
    Field("days_past_due", "int", required=True),
    Field("status", "code", required=True, codes=STATUSES),
)

PAYMENT_FIELDS: tuple[Field, ...] = (
    Field("transaction_id", "str", required=True, max_len=64),
    Field("customer_ref", "str", required=True, max_len=64),
    Field("timestamp", "timestamp", required=True),
    Field("direction", "code", required=True, codes=DIRECTIONS),
    Field("amount", "money", required=True),
    Field("merchant_category", "mcc"),
    Field("channel", "code", required=True, codes=CHANNELS),
    Field("inflow_kind", "code", codes=INFLOW_KINDS),
)

FIELDS: dict[Kind, tuple[Field, ...]] = {"accounts": ACCOUNT_FIELDS, "payments": PAYMENT_FIELDS}
# The record key: two records with the same key in one file are a repeat.
KEYS: dict[Kind, tuple[str, ...]] = {
    "accounts": ("account_id", "reporting_month"),
    "payments": ("transaction_id",),
}


def q(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _codes(codes: tuple[str, ...]) -> str:
    return "(" + ", ".join(lit(c) for c in codes) + ")"


def _is_numeric(t: pa.DataType | None) -> bool:
    return t is not None and (
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    )


def _is_temporal(t: pa.DataType | None) -> bool:
    return t is not None and (pa.types.is_date(t) or pa.types.is_timestamp(t))


def _text(src: str, t: pa.DataType | None) -> str:
    """A source column as trimmed text, '' and NULL both meaning missing."""
    if t is None:
        return "CAST(NULL AS VARCHAR)"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return f"nullif(trim({src}), '')"
    return f"nullif(trim(CAST({src} AS VARCHAR)), '')"


def _nid_check_sql(n: str) -> str:
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    terms = " + ".join(
        f"{w} * CAST(substr({n}, {i + 1}, 1) AS INTEGER)" for i, w in enumerate(weights)
    )
    return f"substr('10X98765432', (({terms}) % 11) + 1, 1)"


def _parse(f: Field, src: str, t: pa.DataType | None, profile: Profile) -> tuple[str, str]:
    """SQL for (present, value) of one field; value is NULL when present but invalid."""
    s = _text(src, t)
    present = f"({s} IS NOT NULL)"
    if f.type in ("str", "address", "name"):
        norm = s if f.type == "str" else f"regexp_replace({s}, '\\s+', ' ', 'g')"
        if f.type == "name":
            norm = f"lower(nfc_normalize({norm}))"
        return present, f"CASE WHEN length({s}) <= {f.max_len} THEN {norm} END"
    if f.type == "code":
        return present, f"CASE WHEN lower({s}) IN {_codes(f.codes)} THEN lower({s}) END"
    if f.type == "month":
        if _is_temporal(t):
            return f"({src} IS NOT NULL)", f"CAST(date_trunc('month', {src}) AS DATE)"
        return present, (
            f"CASE WHEN regexp_full_match({s}, '\\d{{4}}-\\d{{2}}') THEN "
            f"CAST(try_strptime({s} || '-01', '%Y-%m-%d') AS DATE) END"
        )
    if f.type == "date":
        if _is_temporal(t):
            return f"({src} IS NOT NULL)", f"CAST({src} AS DATE)"
        return present, (
            f"CASE WHEN regexp_full_match({s}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN "
            f"CAST(try_strptime({s}, '%Y-%m-%d') AS DATE) END"
        )
    if f.type == "birth_date":
        if _is_temporal(t):
            return f"({src} IS NOT NULL)", f"CAST({src} AS DATE)"
        return present, (
            f"CAST(CASE WHEN regexp_full_match({s}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
            f"THEN try_strptime({s}, '%Y-%m-%d') "
            f"WHEN regexp_full_match({s}, '\\d{{8}}') THEN try_strptime({s}, '%Y%m%d') "
            f"WHEN regexp_full_match({s}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') "
            f"THEN try_strptime({s}, '%d/%m/%Y') END AS DATE)"
        )
    if f.type == "money":
        if _is_numeric(t):
            cents = f"(CAST({src} AS DOUBLE) * 100)"
            return f"({src} IS NOT NULL)", (
                f"CASE WHEN {src} >= 0 AND {cents} < 1e{MONEY_MAX_DIGITS + 2} "
                f"AND abs({cents} - round({cents})) < 1e-6 THEN CAST(round({cents}) AS BIGINT) END"
            )
        return present, (
            f"CASE WHEN regexp_full_match({s}, '\\d{{1,{MONEY_MAX_DIGITS}}}(\\.\\d{{1,2}}0*)?') "
            f"THEN CAST(round(CAST({s} AS DECIMAL(18,4)) * 100) AS BIGINT) END"
        )
    if f.type == "int":
        if t is not None and pa.types.is_integer(t):
            return (
                f"({src} IS NOT NULL)",
                f"CASE WHEN {src} BETWEEN 0 AND 999999 THEN CAST({src} AS INTEGER) END",
            )
        return present, (
            f"CASE WHEN regexp_full_match({s}, '\\d{{1,6}}(\\.0+)?') "
            f"THEN CAST(CAST({s} AS DECIMAL(18,4)) AS INTEGER) END"
        )
    if f.type == "timestamp":
        if t is not None and pa.types.is_timestamp(t):
            return f"({src} IS NOT NULL)", f"CAST({src} AS TIMESTAMPTZ)"
        return present, f"TRY_CAST({s} AS TIMESTAMPTZ)"
    if f.type == "mcc":
        if t is not None and pa.types.is_integer(t):
            return (
                f"({src} IS NOT NULL)",
                f"CASE WHEN {src} BETWEEN 0 AND 9999 THEN lpad(CAST({src} AS VARCHAR), 4, '0') END",
            )
        return present, f"CASE WHEN regexp_full_match({s}, '\\d{{4}}') THEN {s} END"
    if f.type == "nid":
        # Separators and case are not significant; validity is judged below (never a reject).
        return present, f"upper(regexp_replace({s}, '[\\s\\-_.]', '', 'g'))"
    if f.type == "phone":
        d = f"regexp_replace({s}, '\\D', '', 'g')"
        cc = profile.phone_country_code
        national = (
            f"CASE WHEN length({d}) = {profile.phone_digits + len(cc)} AND "
            f"starts_with({d}, {lit(cc)}) THEN substr({d}, {len(cc) + 1}) "
            f"WHEN length({d}) = {profile.phone_digits + len(cc) + 2} AND "
            f"starts_with({d}, {lit('00' + cc)}) THEN substr({d}, {len(cc) + 3}) "
            f"ELSE {d} END"
        )
        ok = f"length(p) = {profile.phone_digits} AND starts_with(p, {lit(profile.phone_prefix)})"
        return present, f"list_transform([{national}], lambda p: CASE WHEN {ok} THEN p END)[1]"
    if f.type == "postcode":
        pc = f"regexp_replace({s}, '\\s', '', 'g')"
        return present, (
            f"CASE WHEN regexp_full_match({pc}, {lit(profile.postcode_pattern[1:-1])}) "
            f"THEN {pc} END"
        )
    raise ValueError(f"unknown field type {f.type}")


_TYPE_HINTS = {
    "str": "text",
    "name": "text",
    "address": "text",
    "month": "a month written YYYY-MM",
    "date": "a date written YYYY-MM-DD",
    "birth_date": "a date written YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY",
    "money": "an amount >= 0 with at most 2 decimals",
    "int": "a whole number >= 0",
    "timestamp": "an ISO 8601 timestamp",
    "mcc": "a 4-digit merchant category code",
}


def _invalid_reason(f: Field) -> str:
    if f.type == "code":
        return f"{f.name} must be one of: {', '.join(f.codes)}"
    if f.max_len is not None:
        return f"{f.name} is longer than {f.max_len} characters"
    return f"{f.name} is not {_TYPE_HINTS[f.type]}"


@dataclass(frozen=True)
class _Rule:
    cond: str
    field: str
    reason: str

    def sql(self) -> str:
        return (
            f"CASE WHEN {self.cond} THEN {{'field': {lit(self.field)}, "
            f"'reason': {lit(self.reason)}}} END"
        )


def _reject(cond: str, field: str, reason: str) -> _Rule:
    return _Rule(f"({cond})", field, reason)


@dataclass(frozen=True)
class Source:
    """How the validation query reaches each field in the stream ``src``."""

    expressions: dict[str, str]  # field -> SQL expression over ``src`` (missing -> absent)
    types: dict[str, pa.DataType]
    json: bool = False


def validation_sql(
    kind: Kind,
    source: Source,
    profile: Profile,
    *,
    today: dt.date,
    now: dt.datetime,
    file_month: dt.date | None,
) -> str:
    """One SELECT over the relation ``src`` giving parsed fields, ``_line`` and ``_rejects``."""
    fields = FIELDS[kind]
    parsed: list[str] = ["_line"]
    pre = ""
    expressions = dict(source.expressions)
    if source.json:
        parsed.append("_json_ok")
        parsed.append("_json_obj")
        expressions = {f: f"_x[{i + 1}]" for i, f in enumerate(source.expressions)}
    for f in fields:
        expr = expressions.get(f.name)
        t = pa.string() if source.json else source.types.get(f.name)
        if expr is None:
            t = None
            expr = "NULL"
        present, value = _parse(f, expr, t, profile)
        parsed.append(f"{present} AS {q(f.name + '__p')}")
        parsed.append(f"{value} AS {q(f.name)}")
    if source.json:
        # One JSON parse per line; lines that are not JSON objects get NULL fields.
        paths = ", ".join(lit(f"$.{json_path_key(k)}") for k in source.expressions.values())
        # DuckDB evaluates every branch, so the JSON functions only ever see valid input.
        pre = (
            "WITH j0 AS (SELECT _line, json_valid(_json) AS _json_ok, "  # noqa: S608
            "CASE WHEN json_valid(_json) THEN _json END AS _j FROM raw "
            "WHERE trim(_json) <> ''), "
            "j1 AS (SELECT _line, _json_ok, coalesce(json_type(_j) = 'OBJECT', false) "
            "AS _json_obj, _j FROM j0), "
            "src AS (SELECT _line, _json_ok, _json_obj, "
            f"json_extract_string(CASE WHEN _json_obj THEN _j END, [{paths}]) AS _x FROM j1) "
        )
    rules: list[_Rule] = []
    if source.json:
        rules.append(_reject("NOT _json_ok", "", "line is not valid JSON"))
        rules.append(_reject("_json_ok AND NOT _json_obj", "", "line is not a JSON object"))
    for f in fields:
        p, v = q(f.name + "__p"), q(f.name)
        if f.required:
            rules.append(
                _reject(
                    f"NOT {p}" + (" AND _json_obj" if source.json else ""),
                    f.name,
                    f"{f.name} is required",
                )
            )
        if f.type not in ("nid", "phone", "postcode"):
            rules.append(_reject(f"{p} AND {v} IS NULL", f.name, _invalid_reason(f)))
    rules.extend(_ACCOUNT_RULES(today) if kind == "accounts" else _PAYMENT_RULES(now, file_month))
    extra = _account_extra(profile) if kind == "accounts" else ""
    # Reasons are built only for the rare failing record; the common case costs one OR chain.
    any_bad = " OR ".join(f"coalesce({r.cond}, false)" for r in rules)
    reasons = f"list_filter([{', '.join(r.sql() for r in rules)}], lambda r: r IS NOT NULL)"
    select = (
        f"{pre}SELECT * EXCLUDE ({', '.join(q(f.name + '__p') for f in fields)}), "  # noqa: S608
        f"CASE WHEN {any_bad} THEN {reasons} ELSE [] END AS _rejects{extra} "
        f"FROM (SELECT {', '.join(parsed)} FROM src)"
    )
    return select


def json_path_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _account_extra(profile: Profile) -> str:
    n = q("national_id")
    valid = (
        f"(regexp_full_match({n}, '\\d{{17}}[\\dX]') AND "
        f"try_strptime(substr({n}, 7, 8), '%Y%m%d') IS NOT NULL AND "
        f"{_nid_check_sql(n)} = substr({n}, 18, 1))"
    )
    return (
        f", CASE WHEN {n} IS NULL OR {n} = '' THEN 'missing' WHEN {valid} THEN 'valid' "
        "ELSE 'invalid' END AS nid_state, "
        "array_to_string(list_sort(string_split(name, ' ')), ' ') AS name_key"
    )


def _ACCOUNT_RULES(today: dt.date) -> list[_Rule]:  # noqa: N802 - a table of rules
    t = f"DATE {lit(today.isoformat())}"
    this_month = f"DATE {lit(today.replace(day=1).isoformat())}"
    rev = _codes(REVOLVING)
    rules = [
        _reject(
            f"reporting_month > {this_month}", "reporting_month", "reporting_month is in the future"
        ),
        _reject(f"opened > {t}", "opened", "opened is in the future"),
        _reject(
            "reporting_month < date_trunc('month', opened)",
            "reporting_month",
            "reporting_month is before the account was opened",
        ),
        _reject("closed < opened", "closed", "closed is before opened"),
        _reject(
            "closed >= reporting_month + INTERVAL 1 MONTH",
            "closed",
            "closed is after the end of reporting_month",
        ),
        _reject(
            f"birth_date > {t} OR birth_date < DATE '1900-01-01'",
            "birth_date",
            "birth_date is not a plausible date of birth",
        ),
        _reject("birth_date > opened", "birth_date", "birth_date is after the account was opened"),
        _reject(
            f"product IN {rev} AND NOT credit_limit__p",
            "credit_limit",
            "credit_limit is required for credit_card and pay_later",
        ),
        _reject(
            "product = 'instalment_loan' AND NOT original_amount__p",
            "original_amount",
            "original_amount is required for instalment_loan",
        ),
        _reject(
            "product = 'instalment_loan' AND original_amount = 0",
            "original_amount",
            "original_amount must be more than 0",
        ),
        _reject(
            "product = 'instalment_loan' AND NOT term_months__p",
            "term_months",
            "term_months is required for instalment_loan",
        ),
        _reject("term_months = 0", "term_months", "term_months must be more than 0"),
        _reject(
            "status = 'paid' AND product <> 'instalment_loan'",
            "status",
            "status paid is only for instalment_loan; use closed",
        ),
        _reject(
            "status IN ('closed', 'paid') AND balance > 0",
            "balance",
            "balance must be 0 when status is closed or paid",
        ),
        _reject(
            "amount_paid > 2 * greatest(coalesce(credit_limit, 0), coalesce(original_amount, 0),"
            " coalesce(balance, 0) + coalesce(amount_due, 0))",
            "amount_paid",
            "amount_paid is far above the credit limit, original amount and balance",
        ),
    ]
    for status, (lo, hi) in DPD_RANGES.items():
        bound = f"days_past_due < {lo}" + (f" OR days_past_due > {hi}" if hi is not None else "")
        span = f"{lo}-{hi}" if hi is not None else f"{lo} or more"
        if lo == hi:
            span = str(lo)
        rules.append(
            _reject(
                f"status = {lit(status)} AND ({bound})",
                "days_past_due",
                f"days_past_due must be {span} when status is {status}",
            )
        )
    return rules


def _PAYMENT_RULES(now: dt.datetime, file_month: dt.date | None) -> list[_Rule]:  # noqa: N802
    ts_now = f"TIMESTAMPTZ {lit(now.astimezone(dt.UTC).isoformat())}"
    rules = [
        _reject(f"timestamp > {ts_now}", "timestamp", "timestamp is in the future"),
        _reject("amount = 0", "amount", "amount must be more than 0"),
        _reject(
            "direction = 'out' AND NOT merchant_category__p",
            "merchant_category",
            "merchant_category is required when direction is out",
        ),
        _reject(
            "direction = 'in' AND NOT inflow_kind__p",
            "inflow_kind",
            "inflow_kind is required when direction is in",
        ),
    ]
    if file_month is not None:
        start = f"TIMESTAMPTZ {lit(file_month.isoformat() + ' 00:00:00+00')}"
        rules.append(
            _reject(
                f"timestamp < {start} OR timestamp >= {start} + INTERVAL 1 MONTH",
                "timestamp",
                f"timestamp falls outside the file's month {file_month:%Y-%m}",
            )
        )
    return rules


REJECT_REASONS_DOC = "see docs/furnishing.md#reject-reasons"

__all__ = [
    "ACCOUNT_FIELDS",
    "FIELDS",
    "KEYS",
    "PAYMENT_FIELDS",
    "Field",
    "Source",
    "json_path_key",
    "q",
    "validation_sql",
]
