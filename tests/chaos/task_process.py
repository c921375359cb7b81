"""One pull task's code (extract, map or load of one object) in a process of its own, so a
test can SIGKILL it or pull PostgreSQL from under it, then run it again as Airflow's retry
would: same run id, same connections (AIRFLOW_CONN_* from the environment).

    python -m tests.chaos.task_process extract|map|load OBJECT RUN_ID
"""

from __future__ import annotations

import sys
from contextlib import closing

MAP_BATCH = 10  # small staged batches, so a load is many transactions a kill can fall between


def main(step: str, name: str, run_id: str) -> None:
    from intacct_sync.db.ar_database import connect
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.pull.extract import IntacctExtractOperator
    from intacct_sync.pull.map_and_load import load_staged, map_landed
    from intacct_sync.sync_objects import OBJECTS

    obj = OBJECTS[name]
    if step == "extract":
        IntacctExtractOperator(
            task_id="extract", object_name=name, intacct_object=obj.intacct_object,
            docparid=obj.docparid, fields=list(obj.fields), landing_run_id=run_id,
            children=obj.children.spec() if obj.children else None,
        ).execute({})  # fmt: skip
        return
    with closing(connect("ar_postgres")) as connection:
        if step == "map":
            zone = IntacctHook("intacct_default").company_timezone
            map_landed(connection, obj, run_id, MAP_BATCH, company_tz=zone)
        else:
            load_staged(connection, obj, run_id)


if __name__ == "__main__":
    main(*sys.argv[1:])
