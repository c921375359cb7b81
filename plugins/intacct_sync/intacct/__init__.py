"""The Intacct client: the hook, its sessions, paging reads, write batches, XML and errors.

Only what DAG files need at parse time lives here (operators name the pool when they are
built); the client's modules import lxml and requests, so tasks import them when they run.
"""

POOL_NAME = "intacct_api"  # the Airflow pool every Intacct call runs in (airflow_settings.yaml)
