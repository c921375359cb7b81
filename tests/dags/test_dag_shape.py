"""The shape of each object's DAG as the grid and the Trigger form show it: one task group per
path (so a run folds the paths it does not take into one square each), unprefixed task ids
(tests, the sync page and `make history` name them), and switches, not required text, for
the Initial data sync's booleans. Parses dags/ only: no run, no database."""

from __future__ import annotations

from pathlib import Path

import pytest
from intacct_sync.sync_objects import OBJECTS

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"

HOURLY_PULL = {"window", "extract", "map", "load", "heal", "deletes", "finish", "tieout"}
INITIAL_SYNC = {
    "chunks", "history.extract_chunk", "history.load_chunk", "history_done", "next_range",
    "queue_next", "history_tieout",
}  # fmt: skip


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    return bag.dags


def _path_of(task) -> str:
    """The top-level task group a task sits in ("" for none): what the grid folds."""
    group, path = task.task_group, ""
    while group is not None and group.group_id is not None:
        path, group = group.group_id, group.parent_group
    return path


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_each_path_is_one_group_with_unprefixed_task_ids(dags, name):
    obj = OBJECTS[name]
    dag = dags[obj.dag_id]
    paths: dict[str, set[str]] = {}
    for task in dag.tasks:
        paths.setdefault(_path_of(task), set()).add(task.task_id)
    top = {"plan", "push"} if obj.push else {"plan"}
    expected = {"": top}
    if obj.pulled:
        pull = HOURLY_PULL | ({"reactivated"} if obj.skips_inactive_customers else set())
        expected |= {"hourly_pull": pull, "initial_sync": INITIAL_SYNC}
    assert paths == expected
    # A run's grid row: plan, push, and one square per group.
    assert len(dag.task_group.children) == len(top) + 2 * obj.pulled


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_plan_branches_to_the_first_task_of_each_path(dags, name):
    obj = OBJECTS[name]
    plan = dags[obj.dag_id].get_task("plan")
    expected = ({"push"} if obj.push else set()) | ({"window", "chunks"} if obj.pulled else set())
    assert plan.downstream_task_ids == expected


def _ui_required(schema: dict) -> bool:
    """Airflow 3's Trigger form (FlexibleForm's isRequired): a field is required unless its
    JSON-schema type admits null."""
    kind = schema.get("type")
    return bool(kind) and (not isinstance(kind, list) or "null" not in kind)


def _ui_field_type(schema: dict) -> str:
    """The type the form picks its widget by: the first non-null type."""
    kind = schema.get("type", "string")
    return next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind


@pytest.mark.parametrize("name", sorted(n for n, o in OBJECTS.items() if o.history_options))
def test_history_booleans_are_optional_switches(dags, name):
    obj = OBJECTS[name]
    params = dags[obj.dag_id].params
    for option in obj.history_options:
        schema = params.get_param(option).schema
        assert (_ui_field_type(schema), _ui_required(schema)) == ("boolean", False), option
    for field in ("history_from", "history_to"):
        assert not _ui_required(params.get_param(field).schema), field


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_assets_are_grouped_under_readable_names(dags, name):
    obj = OBJECTS[name]
    dag = dags[obj.dag_id]
    outlets = {
        task_id: [(a.name, a.uri, a.group) for a in dag.get_task(task_id).outlets]
        for task_id in ("finish", "history_done", "push")
        if task_id in dag.task_dict
    }
    # (name, uri) is the asset's identity in Airflow's metadata DB; the x- scheme skips the
    # providers' URI normalisers (and their imports) at parse time.
    pulled = [(f"{name} pulled from Intacct", f"x-intacct://pull/{name}", "intacct_sync")]
    pushed = [(f"{name} pushed to Intacct", f"x-intacct://push/{name}", "intacct_sync")]
    expected = {"finish": pulled, "history_done": pulled} if obj.pulled else {}
    assert outlets == expected | ({"push": pushed} if obj.push else {})
