import {
  Alert, Box, Button, Heading, HStack, Spinner, Stack, Switch, Text,
} from "@chakra-ui/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import {
  type ErrorPage, type ErrorQuery, type Status, errorsPath, getJson, post,
} from "./api";
import { ErrorsTable } from "./ErrorsTable";
import { HourlyChart } from "./HourlyChart";
import { StatusTable } from "./StatusTable";
import { TieOuts } from "./TieOut";
import { Time } from "./Time";
import { useNow, useTimezone } from "./time";

export const REFRESH_MS = 30_000;

type Message = { kind: "success" | "error"; text: string } | null;

const Section = ({ children, title, testId }: { children: React.ReactNode; testId: string; title: string }) => (
  <Box as="section" data-testid={testId}>
    <Heading as="h2" mb={2} size="md">{title}</Heading>
    {children}
  </Box>
);

/** The whole page; on a DAG's tab (`dagId`), only that DAG's objects and their errors. */
export const SyncPage = ({ dagId }: { dagId?: string }) => {
  const zone = useTimezone();
  const now = useNow();
  const [status, setStatus] = useState<Status>();
  const [errors, setErrors] = useState<ErrorPage>();
  const [loadError, setLoadError] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [auto, setAuto] = useState(true);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [query, setQueryState] = useState<ErrorQuery>({
    direction: "", errorno: "", limit: 50, object: "", offset: 0, order: "desc", q: "",
    sort: "last_seen", states: ["open", "retrying"],
  });
  const [fetchedQuery, setFetchedQuery] = useState(query);
  const setQuery = useCallback((change: Partial<ErrorQuery>) => {
    setQueryState((q) => ({ ...q, ...change }));
  }, []);
  // Typing in a filter box waits for a pause before asking the server.
  useEffect(() => {
    const timer = setTimeout(() => setFetchedQuery(query), 250);
    return () => clearTimeout(timer);
  }, [query]);

  const all = status?.objects ?? [];
  const objects = useMemo(() => (dagId ? all.filter((o) => o.dag_id === dagId) : all), [all, dagId]);
  const pinnedObject = dagId && objects.length ? objects[0].object : "";
  const effective = useMemo(
    () => ({ ...fetchedQuery, object: pinnedObject || fetchedQuery.object }),
    [fetchedQuery, pinnedObject],
  );
  const generation = useRef(0);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const [s, e] = await Promise.all([
        getJson<Status>("status"), getJson<ErrorPage>(errorsPath(effective)),
      ]);
      if (mine === generation.current) {
        setStatus(s);
        setErrors(e);
        setLoadError(null);
      }
    } catch (error) {
      if (mine === generation.current) {
        setLoadError(String(error instanceof Error ? error.message : error));
      }
    }
  }, [effective]);

  useEffect(() => {
    void load();
  }, [load]);
  // The moment the page first shows its figures, for bench/bench_ui.py (Performance API).
  const shownOnce = useRef(false);
  useEffect(() => {
    if (status && errors && !shownOnce.current) {
      shownOnce.current = true;
      performance.mark("intacct-sync:shown");
    }
  }, [status, errors]);
  useEffect(() => {
    if (!auto) {
      return undefined;
    }
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") {
        void load();
      }
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [auto, load]);

  const act = async (key: string, run: () => Promise<string>) => {
    setBusy(key);
    setMessage(null);
    try {
      setMessage({ kind: "success", text: await run() });
    } catch (error) {
      setMessage({ kind: "error", text: String(error instanceof Error ? error.message : error) });
    } finally {
      setBusy(null);
      await load();
    }
  };

  const onErrorsAction = (action: "retry" | "ignore", ids: number[]) =>
    act(action, async () => {
      const body = await post<{ retried?: number[]; ignored?: number[]; triggered?: Record<string, string> }>(
        `errors/${action}`, { ids });
      setSelected(new Set());
      const done = (body.retried ?? body.ignored ?? []).length;
      const runs = Object.keys(body.triggered ?? {});
      return action === "retry"
        ? `${done} error(s) re-queued${runs.length ? `; triggered ${runs.join(", ")}` : ""}`
        : `${done} error(s) ignored`;
    });

  const onSync = (object: string) =>
    act(`sync-${object}`, async () => {
      const body = await post<{ dag_id: string; run_id: string }>(`sync-now/${object}`);
      return `triggered ${body.dag_id}: ${body.run_id}`;
    });

  const onTieOut = (object: string) =>
    act(`tieout-${object}`, async () => {
      const body = await post<{ ok: boolean }>(`tieout/${object}`);
      return `${object}: tie-out ${body.ok ? "agrees" : "differs (see the figures)"}`;
    });

  const onShowErrors = (object: string, direction: string) => {
    setQueryState((q) => ({ ...q, direction, object, offset: 0, states: ["open", "retrying"] }));
    document.querySelector("[data-testid=errors-section]")?.scrollIntoView({ behavior: "smooth" });
  };

  if (!status) {
    return (
      <Box p={6}>
        {loadError ? (
          <Alert.Root status="error"><Alert.Indicator /><Alert.Title>{loadError}</Alert.Title></Alert.Root>
        ) : (
          <HStack><Spinner size="sm" /><Text>Loading the sync status…</Text></HStack>
        )}
      </Box>
    );
  }

  if (dagId && objects.length === 0) {
    return (
      <Box data-testid="intacct-sync-page" p={6}>
        <Text color="fg.muted">{dagId} is not one of intacct-sync's DAGs (intacct_*): nothing to show.</Text>
      </Box>
    );
  }

  const errorObjects = [...new Set(all.map((o) => o.object))].sort();
  const pulled = objects.filter((o) => o.direction === "pull");

  return (
    <Stack data-dag={dagId ?? ""} data-testid="intacct-sync-page" gap={6} p={dagId ? 2 : 4}>
      <HStack justify="space-between" wrap="wrap">
        <Box>
          {!dagId && <Heading as="h1" size="xl">Intacct Sync</Heading>}
          <Text color="fg.muted" fontSize="sm">
            Sage Intacct ⇄ AR database · as of <Time iso={status.generated_at} now={now} zone={zone} /> · times in {zone}
          </Text>
        </Box>
        <HStack gap={3}>
          <Switch.Root checked={auto} data-testid="auto-refresh" onCheckedChange={(e) => setAuto(e.checked)} size="sm">
            <Switch.HiddenInput />
            <Switch.Control />
            <Switch.Label>Auto-refresh every {REFRESH_MS / 1000} s</Switch.Label>
          </Switch.Root>
          <Button onClick={() => void load()} size="xs" variant="outline">Refresh</Button>
        </HStack>
      </HStack>
      {loadError && (
        <Alert.Root status="warning"><Alert.Indicator /><Alert.Title>Refresh failed: {loadError}</Alert.Title></Alert.Root>
      )}
      {message && (
        <Alert.Root data-testid="message" status={message.kind}>
          <Alert.Indicator /><Alert.Title>{message.text}</Alert.Title>
        </Alert.Root>
      )}
      <Section testId="status-section" title="Status">
        <StatusTable busy={busy} now={now} objects={objects} onErrors={onShowErrors} onSync={onSync}
          onTieOut={onTieOut} status={status} zone={zone} />
      </Section>
      {pulled.length > 0 && (
        <Section testId="tieout-section" title="Tie-out: Intacct vs held locally">
          <TieOuts busy={busy} now={now} objects={pulled} onTieOut={onTieOut} zone={zone} />
        </Section>
      )}
      {!dagId && (
        <Section testId="chart-section" title="Records synced per hour">
          <HourlyChart hours={status.per_hour} zone={zone} />
        </Section>
      )}
      <Section testId="errors-section" title="Reconciliation errors">
        <ErrorsTable busy={busy} data={errors} now={now} objects={pinnedObject ? [pinnedObject] : errorObjects}
          onAct={onErrorsAction} query={pinnedObject ? { ...query, object: pinnedObject } : query}
          selected={selected} setQuery={setQuery} setSelected={setSelected} zone={zone} />
      </Section>
    </Stack>
  );
};
