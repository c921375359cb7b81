"""Airflow DAG: Intacct → Postgres, hourly pull of payments (include/dag_factory.py)."""

from include.dag_factory import pull_dag

dag = pull_dag("payments")
