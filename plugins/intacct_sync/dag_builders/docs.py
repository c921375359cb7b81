"""The Docs panel of each object's DAG: what a run does, how it fails, how to retry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intacct_sync.sync_config import VARIABLE as CONFIG_VARIABLE

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from intacct_sync.sync_objects import SyncObject

PUSH_DOC = """
### Postgres → Intacct: {name}

Local records (`origin = 'local'`) are posted to Intacct as `{intacct_object}` by the `push`
task (pool `intacct_api`): within seconds of becoming ready — the AR database sends
`NOTIFY intacct_push, '{name}'`, an asset watcher on `{ready}` starts an asset-triggered run
that only pushes — and in every hourly run, which sweeps up anything left behind. Every write
carries `uniqueid=true` and a control id derived from the record and the action, so a retry
after a timeout never creates a second record. Records Intacct rejects do not fail the run:
they are in `intacct_sync.reconciliation_errors` (object `{name}`, direction `push`) with the
Intacct error numbers and a fix hint; `make errors` lists, retries and ignores them.
"""

DOC = """
### Intacct → Postgres: {name}

{description}

**Schedule:** hourly, with real one-hour data intervals. Each run reads Intacct records whose
`WHENMODIFIED` falls in its window: the data interval, widened back to the end of the last
successful sync and by the overlap (`lookback_minutes` in the `{variable}` variable, default
60) for late-committing batches. A manual run without parameters is "sync now": last
success → now. A backfill run re-pulls exactly its interval (plus the overlap).

**Tasks:** `plan` (check the parameters, migrate the schema, choose the path) → `window`
(compute the window) → `extract` (Intacct → landing
table via COPY, pool `intacct_api`) → `map` (pandas, into staged batches) → `load` (upsert
only rows that changed) →
`heal` (beside `extract`: records of retried pull errors, and every
`keyset_comparison_hours` (24) a comparison of Intacct's keys and modification times with
the local rows, which lands what is missing or stale and soft-deletes what Intacct lost) →
`deletes` (AUDITHISTORY deletions in the window; without that permission the comparison's) →
`finish` (advance `intacct_sync.sync_state`, emit the `{asset}` asset event with counts) →
`tieout` (count, total, paid and due per entity against Intacct, stored for the Intacct Sync
page; a difference is shown there, it does not fail the run).

**Initial data sync:** trigger with the *Initial data sync* parameters (a range of
{history_field} dates, at most 366 days) to pull history instead: `chunks` cuts the range into
months, each month is a mapped `history` group (`extract_chunk` in pool `intacct_api`, then
`load_chunk`), checkpointed in `intacct_sync.history_chunks`, `history_done` sums them
up and `history_tieout` ties the object out. Clearing or retrying the run redoes only
unfinished months; the hourly cursor is never touched. Longer history: `make history`
queues one run per year.

**When it fails:** read the failing task's log — Intacct errors name their error number and
a fix hint. Retrying is always safe: loads are idempotent upserts and a failed hour is
picked up by the next successful run. Records that cannot be loaded do not fail the run:
they are in `intacct_sync.reconciliation_errors` (object `{name}`, direction `pull`).
"""


def doc_md(obj: SyncObject, asset: Asset) -> str:
    """The DAG's Docs panel: the pull section for pulled objects, the push section for pushed."""
    parts = []
    if obj.pulled:
        parts.append(
            DOC.format(
                name=obj.name,
                description=obj.description,
                variable=CONFIG_VARIABLE,
                asset=asset.uri,
                history_field=obj.history_field,
            )
        )
    if obj.push:
        parts.append(
            PUSH_DOC.format(
                name=obj.name,
                intacct_object=obj.push.intacct_object,
                ready=f"x-intacct://push-ready/{obj.name}",
            )
        )
    return "\n".join(parts)
