import { Badge, Button, HStack, Link, Span, Table, Text } from "@chakra-ui/react";

import { type ObjectStatus, type Status, uiUrl } from "./api";
import { Time } from "./Time";
import { duration } from "./time";

type Props = {
  busy: string | null;
  now: number;
  objects: ObjectStatus[];
  onErrors: (object: string, direction: string) => void;
  onSync: (object: string) => void;
  onTieOut: (object: string) => void;
  status: Status;
  zone: string;
};

/** Behind = now − last success, against the hourly promise: green within it, orange up to
 * the alert threshold, red beyond (or never synced). */
export const lagLevel = (lag: number | null, status: Status): "ok" | "late" | "behind" => {
  if (lag === null || lag > status.alert_after_seconds) {
    return "behind";
  }
  return lag > status.promise_seconds ? "late" : "ok";
};

const LAG_PALETTE = { behind: "red", late: "orange", ok: "green" } as const;
const RUN_PALETTE: Record<string, string> = {
  failed: "red", queued: "gray", running: "cyan", success: "green",
};

const Lag = ({ object, status }: { object: ObjectStatus; status: Status }) => {
  const level = lagLevel(object.lag_seconds, status);
  const text = object.lag_seconds === null ? "never synced" : `${duration(object.lag_seconds)} behind`;
  const promise = `promise: within ${duration(status.promise_seconds)}; alert after ${duration(
    status.alert_after_seconds)}`;
  return (
    <Badge colorPalette={LAG_PALETTE[level]} data-level={level} data-testid="lag" title={promise}
      variant="subtle">
      {text}
    </Badge>
  );
};

export const StatusTable = ({ busy, now, objects, onErrors, onSync, onTieOut, status, zone }: Props) => (
  <Table.ScrollArea borderWidth="1px" rounded="md">
    <Table.Root data-testid="status-table" interactive size="sm">
      <Table.Header>
        <Table.Row>
          <Table.ColumnHeader>Object</Table.ColumnHeader>
          <Table.ColumnHeader>Last success</Table.ColumnHeader>
          <Table.ColumnHeader>Lag</Table.ColumnHeader>
          <Table.ColumnHeader textAlign="end">Last run</Table.ColumnHeader>
          <Table.ColumnHeader textAlign="end">24 h</Table.ColumnHeader>
          <Table.ColumnHeader>Latest DAG run</Table.ColumnHeader>
          <Table.ColumnHeader textAlign="end">Open errors</Table.ColumnHeader>
          <Table.ColumnHeader />
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {objects.map((o) => (
          <Table.Row data-direction={o.direction} data-object={o.object}
            key={`${o.object}-${o.direction}`}>
            <Table.Cell>
              <HStack gap={2}>
                <Text fontWeight="medium">{o.object.replace("_", " ")}</Text>
                <Badge colorPalette={o.direction === "pull" ? "blue" : "purple"} size="sm">
                  {o.direction === "pull" ? "Intacct → AR" : "AR → Intacct"}
                </Badge>
              </HStack>
            </Table.Cell>
            <Table.Cell data-testid="last-success">
              <Time iso={o.last_success_at} now={now} zone={zone} />
            </Table.Cell>
            <Table.Cell><Lag object={o} status={status} /></Table.Cell>
            <Table.Cell data-testid="records-last-run" textAlign="end">
              {o.records_last_run.toLocaleString()}
            </Table.Cell>
            <Table.Cell data-testid="records-24h" textAlign="end">
              {o.records_24h.toLocaleString()}
            </Table.Cell>
            <Table.Cell>
              {o.latest_run ? (
                <Link colorPalette="blue" href={uiUrl(
                  `dags/${encodeURIComponent(o.dag_id)}/runs/${encodeURIComponent(o.latest_run.run_id)}`)}>
                  <Badge colorPalette={RUN_PALETTE[o.latest_run.state] ?? "gray"} size="sm">
                    {o.latest_run.state}
                  </Badge>
                  <Span fontSize="xs">{o.latest_run.run_type}</Span>
                </Link>
              ) : (
                <Span color="fg.muted">no run</Span>
              )}
            </Table.Cell>
            <Table.Cell data-testid="open-errors" textAlign="end">
              {o.open_errors ? (
                <Button colorPalette="red" onClick={() => onErrors(o.object, o.direction)}
                  size="2xs" variant="subtle">
                  {o.open_errors.toLocaleString()}
                </Button>
              ) : (
                <Span color="fg.muted">0</Span>
              )}
            </Table.Cell>
            <Table.Cell>
              <HStack gap={1} justify="end">
                <Button loading={busy === `sync-${o.object}`} onClick={() => onSync(o.object)}
                  size="2xs" variant="outline">
                  Sync now
                </Button>
                {o.direction === "pull" && (
                  <>
                    <Button loading={busy === `tieout-${o.object}`}
                      onClick={() => onTieOut(o.object)} size="2xs" variant="outline">
                      Tie out
                    </Button>
                    <Button asChild size="2xs" variant="ghost">
                      <a href={uiUrl(`dags/${encodeURIComponent(o.dag_id)}`)}
                        title="Trigger → the Initial data sync section">
                        Initial sync…
                      </a>
                    </Button>
                  </>
                )}
              </HStack>
            </Table.Cell>
          </Table.Row>
        ))}
      </Table.Body>
    </Table.Root>
  </Table.ScrollArea>
);
