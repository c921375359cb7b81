"""The "Intacct Sync" page inside the Airflow UI (an AirflowPlugin with a FastAPI app)."""
