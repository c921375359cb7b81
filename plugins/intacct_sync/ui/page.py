"""The HTML of the Intacct Sync page: server-rendered, every value escaped, a few lines of
script for the buttons (POST with the page's header, then reload)."""

from __future__ import annotations

from html import escape
from typing import Any

STATES = ("open", "retrying", "ignored", "resolved")

STYLE = """
body{font:14px system-ui,sans-serif;margin:16px;color:#1b1f24}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d8dee4;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f6f8fa}.num{text-align:right}
.ok{color:#1a7f37}.bad{color:#cf222e}.muted{color:#57606a}button{cursor:pointer}
.chart rect.pull{fill:#0969da}.chart rect.push{fill:#8250df}
"""

SCRIPT = """
async function post(path, body) {
  const r = await fetch(path, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Intacct-Sync': '1'},
    body: JSON.stringify(body || {})});
  const text = await r.text();
  document.getElementById('message').textContent = r.ok ? 'done' : ('failed: ' + text);
  if (r.ok) { setTimeout(() => location.reload(), 300); }
}
function selected() {
  return [...document.querySelectorAll('input.pick:checked')].map(e => Number(e.value));
}
document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-act]');
  if (!b) return;
  const act = b.dataset.act;
  if (act === 'sync') post('api/sync-now/' + b.dataset.object);
  if (act === 'tieout') post('api/tieout/' + b.dataset.object);
  if (act === 'retry' || act === 'ignore') {
    const ids = b.dataset.id ? [Number(b.dataset.id)] : selected();
    if (ids.length) post('api/errors/' + act, {ids});
  }
});
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _ago(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    minutes = seconds // 60
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _status_rows(objects: list[dict[str, Any]]) -> str:
    rows = []
    for o in objects:
        run = o.get("latest_run") or {}
        run_link = (
            f'<a target="_top" href="/dags/{_e(o["dag_id"])}/runs/{_e(run["run_id"])}">'
            f"{_e(run['state'])}</a>" if run else '<span class="muted">no run</span>'
        )
        tie = o.get("tieout")
        tie_cell = (
            f'<span class="{"ok" if tie["ok"] else "bad"}">{"agrees" if tie["ok"] else "differs"}'
            f'</span> <span class="muted">{_e(tie["computed_at"])}</span>' if tie else
            '<span class="muted">not computed</span>'
        )
        actions = f'<button data-act="sync" data-object="{_e(o["object"])}">Sync now</button>'
        if o["direction"] == "pull":
            actions += (
                f' <a target="_top" href="/dags/{_e(o["dag_id"])}" title="Trigger → Initial data'
                ' sync section">Initial data sync…</a>'
                f' <button data-act="tieout" data-object="{_e(o["object"])}">Tie out</button>'
            )
        window = (f'{_e(o["window_start"] or "start")} → {_e(o["window_end"])}'
                  if o["window_end"] else "")  # fmt: skip
        rows.append(
            f'<tr data-object="{_e(o["object"])}" data-direction="{_e(o["direction"])}">'
            f'<td>{_e(o["object"])}</td><td>{_e(o["direction"])}</td>'
            f'<td class="last-sync">{_e(o["last_success_at"] or "never")}'
            f'<div class="muted">{window}</div></td>'
            f'<td class="num">{_e(_ago(o["lag_seconds"]))}</td>'
            f'<td class="num">{_e(o["records_last_run"])}</td>'
            f'<td class="num">{_e(o["records_24h"])}</td><td>{run_link}</td>'
            f'<td class="num {"bad" if o["open_errors"] else ""}">{_e(o["open_errors"])}</td>'
            f"<td>{tie_cell}</td><td>{actions}</td></tr>"
        )
    return "".join(rows)


def _chart(hours: list[dict[str, Any]]) -> str:
    """Records per hour, pull and push stacked, as inline SVG."""
    if not hours:
        return ""
    top = max(max(h["pull"] + h["push"] for h in hours), 1)
    width, height, bar = len(hours) * 8, 80, 6
    bars = []
    for i, h in enumerate(hours):
        pull_h = round(h["pull"] / top * height)
        push_h = round(h["push"] / top * height)
        x = i * 8
        title = f"{h['hour']}: pulled {h['pull']}, pushed {h['push']}"
        bars.append(
            f'<g><title>{_e(title)}</title>'
            f'<rect class="pull" x="{x}" y="{height - pull_h}" width="{bar}" height="{pull_h}"/>'
            f'<rect class="push" x="{x}" y="{height - pull_h - push_h}" width="{bar}"'
            f' height="{push_h}"/></g>'
        )
    return (
        f'<svg class="chart" width="{width}" height="{height}" role="img"'
        f' aria-label="records synced per hour">{"".join(bars)}</svg>'
        f'<div class="muted">records per hour, last {len(hours)} h (blue pulled, purple pushed;'
        f" highest hour {top})</div>"
    )


def _error_rows(errors: list[dict[str, Any]]) -> str:
    rows = []
    for r in errors:
        rows.append(
            f'<tr data-error="{_e(r["id"])}"><td><input class="pick" type="checkbox"'
            f' value="{_e(r["id"])}"></td><td>{_e(r["id"])}</td><td>{_e(r["object"])}'
            f' / {_e(r["direction"])}</td><td>{_e(r["record_id"])}</td>'
            f'<td>{_e(", ".join(r["error_numbers"]))}</td><td>{_e(r["message"])}'
            f'<div class="muted">fix: {_e(r["hint"])}</div></td><td class="num">'
            f'{_e(r["attempts"])}</td><td class="state">{_e(r["state"])}</td>'
            f'<td><button data-act="retry" data-id="{_e(r["id"])}">Retry</button>'
            f' <button data-act="ignore" data-id="{_e(r["id"])}">Ignore</button></td></tr>'
        )
    return "".join(rows) or '<tr><td colspan="9" class="muted">no errors</td></tr>'


def _filters(objects: list[str], filters: dict[str, Any]) -> str:
    options = "".join(
        f'<option value="{_e(o)}"{" selected" if o == filters["object"] else ""}>{_e(o)}</option>'
        for o in ["", *objects]
    )
    states = "".join(
        f'<label><input type="checkbox" name="state" value="{s}"'
        f'{" checked" if s in filters["state"] else ""}> {s}</label> '
        for s in STATES
    )
    return (
        f'<form method="get">object <select name="object">{options}</select> {states}'
        f' error number <input name="errorno" size="12" value="{_e(filters["errorno"])}">'
        ' <button type="submit">Filter</button></form>'
    )


def render(status: dict[str, Any], errors: list[dict[str, Any]], filters: dict[str, Any]) -> str:
    objects = sorted({o["object"] for o in status["objects"]})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Intacct Sync</title>
<style>{STYLE}</style></head><body>
<h1>Intacct Sync</h1>
<div class="muted">as of {_e(status["generated_at"])} · <span id="message"></span></div>
<h2>Status</h2>
<table id="status"><thead><tr><th>object</th><th>direction</th><th>last successful sync</th>
<th>behind</th><th>last run</th><th>24 h</th><th>latest run</th><th>open errors</th>
<th>tie-out</th><th></th></tr></thead><tbody>{_status_rows(status["objects"])}</tbody></table>
<h2>Records synced</h2>{_chart(status["per_hour"])}
<h2>Reconciliation errors</h2>{_filters(objects, filters)}
<p><button data-act="retry">Retry selected</button>
<button data-act="ignore">Ignore selected</button></p>
<table id="errors"><thead><tr><th></th><th>#</th><th>object</th><th>record</th><th>error</th>
<th>message and fix</th><th>attempts</th><th>state</th><th></th></tr></thead>
<tbody>{_error_rows(errors)}</tbody></table>
<script>{SCRIPT}</script>
</body></html>"""
