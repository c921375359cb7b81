"""The project-local environment: private PostgreSQL, Airflow home, settings, demo and tests.

`make` drives it through `python -m include.localenv <command>`; nothing here runs in
production, where Airflow, PostgreSQL and the connections are provided by the deployment.
"""
