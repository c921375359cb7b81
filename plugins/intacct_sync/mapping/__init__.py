"""Vectorised mapping of landed Intacct records into AR rows: one module per object.

Each module exposes `map_records(headers, children) -> Mapped` (pull) and, for pushed
objects, `to_intacct(...)` building the write's payload from local rows (push). The
conversions every object shares live here, so an Intacct format is parsed in exactly one
place. Money stays exact: amounts are validated as decimal text and cast to numeric by
PostgreSQL, never float.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

DECIMAL = r"-?\d+(\.\d+)?"


@dataclass
class Rejected:
    """A record that cannot be mapped: it goes to reconciliation_errors, the batch goes on."""

    record_id: str
    error: str
    hint: str


class NotPushable(ValueError):
    """A local record that cannot become an Intacct write as it is (a person must fix it)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class Mapped:
    """AR rows ready to load: headers keyed by intacct_recordno, optional child rows."""

    rows: pd.DataFrame
    children: pd.DataFrame | None = None
    rejected: list[Rejected] = field(default_factory=list)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A payload field as text (missing field or empty value = None)."""
    if name not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype="object")
    values = frame[name].astype("object")
    return values.where(values.notna() & (values != ""), None)


def money(frame: pd.DataFrame, name: str) -> tuple[pd.Series, pd.Series]:
    """(amount text with empty as '0', mask of values that are not decimals)."""
    values = column(frame, name).fillna("0").astype(str).str.strip()
    return values, ~values.str.fullmatch(DECIMAL)


DATE_FORMAT = "MM/DD/YYYY"
TIMESTAMP_FORMAT = "MM/DD/YYYY HH:MM:SS"


def intacct_date(frame: pd.DataFrame, name: str) -> pd.Series:
    """MM/DD/YYYY (readByQuery/query output) → ISO date text, None when empty or unreadable
    (see unreadable_dates)."""
    parsed = pd.to_datetime(column(frame, name), format="%m/%d/%Y", errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)


def intacct_timestamp(frame: pd.DataFrame, name: str) -> pd.Series:
    """MM/DD/YYYY HH:MM:SS, company-local as Intacct gives it → ISO text without a zone."""
    parsed = pd.to_datetime(column(frame, name), format="%m/%d/%Y %H:%M:%S", errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d %H:%M:%S").where(parsed.notna(), None)


def unreadable_dates(
    rows: pd.DataFrame, headers: pd.DataFrame, fields: dict[str, tuple[str, str]]
) -> tuple[pd.DataFrame, list[Rejected]]:
    """Split off the rows where Intacct sent a date or time the mapping cannot read
    (`fields`: row column → (Intacct field, expected format)): loaded as NULL it would be
    lost without a trace — a payment without its date, a row no newer run may overwrite."""
    problems: dict[str, list[str]] = {}
    for target, (source, expected) in fields.items():
        sent = column(headers, source).loc[rows.index]
        bad = sent.notna() & rows[target].isna()
        for recordno, value in zip(rows["intacct_recordno"][bad], sent[bad], strict=True):
            problems.setdefault(str(recordno), []).append(
                f"{source}={value!r} is not a {expected} date"
            )
    rejected = [
        Rejected(
            recordno,
            "; ".join(found),
            "Intacct sent a date in a format the sync does not read; the record is left out "
            "rather than loaded without it. Check the field in Intacct (a changed date format "
            "or custom field), then retry.",
        )
        for recordno, found in problems.items()
    ]
    return rows[~rows["intacct_recordno"].astype(str).isin(problems)], rejected


def entity(frame: pd.DataFrame) -> pd.Series:
    """MEGAENTITYID, '' for the top level."""
    return column(frame, "MEGAENTITYID").fillna("")


LINE_DIMENSIONS = ("PROJECTID", "CLASSID", "CONTRACTID")


def document_lines(
    children: pd.DataFrame,
    *,
    parent_field: str,
    description_field: str,
    amount: pd.Series,
    quantity: pd.Series | None = None,
    unit_price: pd.Series | None = None,
) -> pd.DataFrame:
    """The line rows of an invoice or credit note, whatever Intacct object they came from:
    one place for the line number rule and the dimensions' JSON."""
    parents = column(children, parent_field)
    given = pd.to_numeric(column(children, "LINE_NO"), errors="coerce")
    position = children.groupby(parents, dropna=False).cumcount()
    dims = pd.DataFrame({d.lower(): column(children, d) for d in LINE_DIMENSIONS})
    return pd.DataFrame(
        {
            "parent_recordno": parents,
            "line_no": given.fillna(position).astype(int),  # Intacct's, else the position
            "item_id": column(children, "ITEMID"),
            "description": column(children, description_field),
            "quantity": quantity,
            "unit_price": unit_price,
            "amount": amount,
            "location_id": column(children, "LOCATIONID"),
            "department_id": column(children, "DEPARTMENTID"),
            "dimensions": [
                json.dumps({k: v for k, v in r.items() if v}, sort_keys=True)
                for r in records(dims)
            ],
        }
    )


def _given(value: object) -> bool:
    """A value Intacct sent: a record without a field other records of its batch have holds
    NaN there (invalid JSON, so the database would refuse the whole record)."""
    return value not in (None, "") and not (isinstance(value, float) and math.isnan(value))


def extras(frame: pd.DataFrame, used: set[str]) -> pd.Series:
    """Fields the mapping does not consume (custom fields), kept as a JSON object."""
    rest = [c for c in frame.columns if c not in used and not c.startswith("_")]
    if not rest:
        return pd.Series(["{}"] * len(frame), index=frame.index)
    return frame[rest].apply(
        lambda r: json.dumps({k: v for k, v in r.items() if _given(v)}, sort_keys=True),
        axis=1,
    )


def records(frame: pd.DataFrame) -> list[dict]:
    """`frame.to_dict("records")`, without pandas boxing each cell on its own (the map
    step's largest cost in bench/bench_pull.py): `tolist()` converts a column at a time."""
    columns = list(frame.columns)
    if not columns:
        return [{} for _ in range(len(frame))]
    cells = zip(*(_cells(frame[c]) for c in columns), strict=True)
    return [dict(zip(columns, values, strict=True)) for values in cells]


def _cells(series: pd.Series) -> list:
    """A column's Python values as to_dict gives them: a nullable dtype's NA is None."""
    values = series.tolist()
    if pd.api.types.is_extension_array_dtype(series.dtype):
        return [None if v is pd.NA else v for v in values]
    return values


def row_hash(rows: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A stable digest of the mapped values, so unchanged rows are never rewritten."""
    return pd.util.hash_pandas_object(rows[columns].astype(str), index=False).astype(str)


def hash_with_children(rows: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """rows with row_hash over their own values and their children's (keyed by
    parent_recordno): a changed line or application makes its parent "changed"."""
    # A dict, not groupby().agg(): a Python call per parent cost a tenth of the map step
    # (bench/bench_pull.py); the digest is the same sorted, comma-joined child hashes.
    per_parent: dict = {}
    hashes = row_hash(children, list(children.columns)).tolist()
    for parent, h in zip(children["parent_recordno"].tolist(), hashes, strict=True):
        if not pd.isna(parent):
            per_parent.setdefault(parent, []).append(h)
    digest = {parent: ",".join(sorted(h)) for parent, h in per_parent.items()}
    with_children = rows.assign(_children=rows["intacct_recordno"].map(digest).fillna(""))
    return rows.assign(row_hash=row_hash(with_children, list(with_children.columns)))


def reject(
    rows: pd.DataFrame, bad: pd.Series, record_ids: pd.Series, error: str, hint: str
) -> tuple[pd.DataFrame, list[Rejected]]:
    """Split off the rows where `bad` holds, as Rejected entries naming each record."""
    rejected = [Rejected(str(r), error, hint) for r in record_ids[bad]]
    return rows[~bad], rejected
