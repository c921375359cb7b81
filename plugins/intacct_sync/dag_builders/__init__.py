"""The builders of an object's DAG, one module per path, composed by intacct_sync/dag_factory.py:

- plan.py: the branch task every run starts with (which path, or refuse the parameters);
- hourly_pull.py: window → extract → map → load → deletes → finish (task group `hourly_pull`);
- initial_sync.py: month chunks, mapped `history` groups, queued ranges (group `initial_sync`);
- push_path.py: the `push` task (hourly and asset-triggered runs);
- trigger_form.py: the Trigger form's params and the hourly/asset schedule;
- docs.py: the Docs panel; runtime.py: helpers the tasks call when they run.
"""
