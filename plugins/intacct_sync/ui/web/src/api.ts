// The page's JSON API (plugins/intacct_sync/ui/app.py), same origin, the UI's login cookie.
// State changes carry the page's header, which a cross-site form cannot send.

export type Figures = {
  count: number;
  sum: string;
  paid: string | null;
  due: string | null;
};

export type EntityTieOut = {
  entity: string;
  intacct: Figures;
  expected: Figures;
  postgres: Figures;
  difference?: { count: number; sum: string; paid?: string; due?: string };
  ok: boolean;
};

export type TieOut = { computed_at: string; entities: EntityTieOut[]; ok: boolean };

export type ObjectStatus = {
  object: string;
  direction: "pull" | "push";
  dag_id: string;
  last_success_at: string | null;
  window_start: string | null;
  window_end: string | null;
  lag_seconds: number | null;
  records_last_run: number;
  records_24h: number;
  open_errors: number;
  tieout: TieOut | null;
  latest_run: { run_id: string; state: string; run_type: string } | null;
};

export type Hour = { hour: string; pull: number; push: number };

export type Status = {
  generated_at: string;
  objects: ObjectStatus[];
  per_hour: Hour[];
  promise_seconds: number;
  alert_after_seconds: number;
};

export type ErrorRow = {
  id: number;
  object: string;
  direction: "pull" | "push";
  record_id: string;
  error_numbers: string[];
  message: string;
  hint: string | null;
  attempts: number;
  state: string;
  first_seen_at: string;
  last_seen_at: string;
};

export type ErrorPage = {
  errors: ErrorRow[];
  total: number;
  offset: number;
  limit: number;
  by_state: Record<string, number>;
};

export type ErrorQuery = {
  object: string;
  direction: string;
  states: string[];
  errorno: string;
  q: string;
  sort: string;
  order: "asc" | "desc";
  limit: number;
  offset: number;
};

/** The API under the UI's base URL (the UI may be served under a path prefix). */
export const apiUrl = (path: string): string =>
  new URL(`intacct-sync/api/${path}`, document.baseURI).toString();

/** A link into the Airflow UI itself, under its base URL. */
export const uiUrl = (path: string): string => new URL(path, document.baseURI).toString();

const detail = async (response: Response): Promise<string> => {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? body);
  } catch {
    return text || response.statusText;
  }
};

export const getJson = async <T>(path: string): Promise<T> => {
  const response = await fetch(apiUrl(path), { credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`${response.status}: ${await detail(response)}`);
  }
  return (await response.json()) as T;
};

export const post = async <T>(path: string, body: unknown = {}): Promise<T> => {
  const response = await fetch(apiUrl(path), {
    body: JSON.stringify(body),
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Intacct-Sync": "1" },
    method: "POST",
  });
  if (!response.ok) {
    throw new Error(`${response.status}: ${await detail(response)}`);
  }
  return (await response.json()) as T;
};

export const errorsPath = (query: ErrorQuery): string => {
  const params = new URLSearchParams();
  for (const state of query.states) {
    params.append("state", state);
  }
  const optional: Record<string, string> = {
    direction: query.direction, errorno: query.errorno, object: query.object, q: query.q,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value) {
      params.set(key, value);
    }
  }
  params.set("sort", query.sort);
  params.set("order", query.order);
  params.set("limit", String(query.limit));
  params.set("offset", String(query.offset));
  return `errors?${params.toString()}`;
};
