"""The mapping's fast frame helpers give exactly what the pandas calls they replace gave:
staged batches and row hashes must not change, or every stored row would look "changed"."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
from intacct_sync.mapping import hash_with_children, records, row_hash


def test_records_equals_to_dict_for_every_kind_of_column() -> None:
    frame = pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [1.5, np.nan, 2.0],
            "text": ["x", None, "z"],
            "when": pd.to_datetime(["2026-01-01 00:00", "NaT", "2026-03-01 10:00"]),
            "money": [Decimal("1.10"), None, Decimal("3")],
            "flag": [True, False, True],
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "nullable_text": pd.array(["a", None, "c"], dtype="string"),
        }
    )
    assert json.dumps(records(frame), default=str) == json.dumps(
        frame.to_dict("records"), default=str
    )
    assert records(pd.DataFrame(index=[0, 1])) == [{}, {}]


def test_a_parents_digest_is_its_sorted_child_hashes() -> None:
    rows = pd.DataFrame({"intacct_recordno": ["1", "2", "3"], "total": [10, 20, 30]})
    children = pd.DataFrame(
        {"parent_recordno": ["1", "1", "3", None], "amount": [7, 3, 30, 99]}
    )
    child_hashes = row_hash(children, ["parent_recordno", "amount"]).tolist()
    digests = ["" if not h else ",".join(sorted(h))
               for h in ([child_hashes[0], child_hashes[1]], [], [child_hashes[2]])]  # fmt: skip
    expected = row_hash(rows.assign(_children=digests), ["intacct_recordno", "total", "_children"])
    assert hash_with_children(rows, children)["row_hash"].tolist() == expected.tolist()
    # Order of the lines does not matter; a changed line does.
    assert hash_with_children(rows, children.iloc[::-1])["row_hash"].tolist() == expected.tolist()
    changed = children.assign(amount=[7, 4, 30, 99])
    assert hash_with_children(rows, changed)["row_hash"].tolist()[0] != expected.tolist()[0]
