"""The sync configuration: every mistake refused with the key and the fix; the shipped one valid."""

from __future__ import annotations

import pytest
import yaml
from intacct_sync.sync_config import SyncConfig, SyncConfigError, parse

from include.localenv.settings import SETTINGS_FILE


def test_the_shipped_configuration_is_valid_and_missing_means_defaults():
    [shipped] = [
        v["variable_value"]
        for v in yaml.safe_load(SETTINGS_FILE.read_text())["airflow"]["variables"]
        if v["variable_name"] == "intacct_sync_config"
    ]
    config = parse(shipped)
    assert config.pull == dict.fromkeys(("customers", "invoices", "credit_notes", "payments"), True)
    assert config.convenience_fee_mode == "write_on"
    assert config.convenience_fee_line == {"glaccountno": "4990"}  # empty texts mean unset
    assert parse(None) == SyncConfig()
    assert parse('{"pull": {"payments": false}}').pull["payments"] is False


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"lookback_minutes": 30}', "lookback_minutes=30 is below 60: late-committing"),
        ('{"keyset_comparison_hours": 0}', "keyset_comparison_hours=0 is below 1"),
        ('{"sync_start": "2026-01-01"}', "sync_start='2026-01-01' must be an ISO-8601 time with"),
        ('{"sync_start": {"invoice": "beginning"}}', "sync_start has no object invoice"),
        ('{"sync_start": {"payments": 5}}', "sync_start.payments=5 must be an ISO-8601 time"),
        ('{"lookback": 90}', "has no key lookback; known: alert_after_hours, convenience_fee_line"),
        ('{"pull": {"invoice": false}}', "pull has no object invoice; known: customers"),
        ('{"push": {"payments": "no"}}', "push.payments='no' must be true or false"),
        ('{"convenience_fee_mode": "on"}', "convenience_fee_mode='on': choose write_on or"),
        ('{"dimensions": {"location": "L1"}}', "dimensions has no key location; known:"),
        ('{"dimensions": {"locationid": 7}}', "dimensions.locationid=7 must be text"),
        ('{"lookback_minutes": "60"}', "lookback_minutes='60' must be a number"),
        ('{"invoice_glaccountno": ""}', "invoice_glaccountno='' must be a non-empty text"),
        ('{"undeposited_funds_account": 1050}', "undeposited_funds_account=1050 must be a non"),
        ('{"alert_after_hours": 0.5}', "alert_after_hours=0.5 is below 1: the hourly pull"),
        ("{not json", "intacct_sync_config is not valid JSON"),
        ("[1, 2]", "intacct_sync_config must be a JSON object"),
    ],
    ids=[
        "short-overlap", "keyset-zero", "sync-start-date", "sync-start-object", "sync-start-type",
        "unknown-key", "unknown-object", "flag-not-bool",
        "fee-mode", "unknown-dimension", "dimension-not-text", "number-as-text", "empty-gl",
        "account-not-text", "alert-too-soon", "not-json",
        "not-object",
    ],
)  # fmt: skip
def test_mistakes_are_refused_with_the_key_and_the_fix(value, message):
    with pytest.raises(SyncConfigError, match=message):
        parse(value)
