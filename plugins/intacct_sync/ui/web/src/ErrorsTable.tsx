import {
  Badge, Box, Button, Checkbox, chakra, HStack, Input, NativeSelect, Span, Table, Text, Wrap,
} from "@chakra-ui/react";

import type { ErrorPage, ErrorQuery } from "./api";
import { Time } from "./Time";

export const STATES = ["open", "retrying", "ignored", "resolved"] as const;
const STATE_PALETTE: Record<string, string> = {
  ignored: "gray", open: "red", resolved: "green", retrying: "orange",
};
const PAGE_SIZES = [25, 50, 100, 250];

type Props = {
  busy: string | null;
  data: ErrorPage | undefined;
  now: number;
  objects: string[];
  onAct: (action: "retry" | "ignore", ids: number[]) => void;
  query: ErrorQuery;
  selected: Set<number>;
  setQuery: (change: Partial<ErrorQuery>) => void;
  setSelected: (ids: Set<number>) => void;
  zone: string;
};

const SortHeader = ({ children, field, query, setQuery, end }: {
  children: string; end?: boolean; field: string; query: ErrorQuery;
  setQuery: Props["setQuery"];
}) => {
  const active = query.sort === field;
  const arrow = active ? (query.order === "desc" ? " ↓" : " ↑") : "";
  return (
    <Table.ColumnHeader aria-sort={active ? (query.order === "desc" ? "descending" : "ascending") : "none"}
      textAlign={end ? "end" : undefined}>
      <Button data-sort={field} onClick={() => setQuery({
        offset: 0, order: active && query.order === "desc" ? "asc" : "desc", sort: field,
      })} px={1} size="2xs" variant="ghost">
        {children}{arrow}
      </Button>
    </Table.ColumnHeader>
  );
};

const Filters = ({ data, objects, query, setQuery }: Props) => (
  <Wrap align="end" gap={4} mb={3}>
    <Box>
      <Text color="fg.muted" fontSize="xs" mb={1}>Object</Text>
      <NativeSelect.Root size="sm" width="170px">
        <NativeSelect.Field aria-label="Object" data-testid="filter-object"
          onChange={(e) => setQuery({ object: e.currentTarget.value, offset: 0 })} value={query.object}>
          <option value="">all objects</option>
          {objects.map((o) => <option key={o} value={o}>{o}</option>)}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
    </Box>
    <Box>
      <Text color="fg.muted" fontSize="xs" mb={1}>Direction</Text>
      <NativeSelect.Root size="sm" width="130px">
        <NativeSelect.Field aria-label="Direction" data-testid="filter-direction"
          onChange={(e) => setQuery({ direction: e.currentTarget.value, offset: 0 })} value={query.direction}>
          <option value="">both</option>
          <option value="pull">pull</option>
          <option value="push">push</option>
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
    </Box>
    <Box>
      <Text color="fg.muted" fontSize="xs" mb={1}>State</Text>
      <HStack gap={3} h="8">
        {STATES.map((state) => (
          <Checkbox.Root checked={query.states.includes(state)} data-state-filter={state} key={state}
            onCheckedChange={(e) => setQuery({
              offset: 0,
              states: e.checked ? [...query.states, state] : query.states.filter((s) => s !== state),
            })} size="sm">
            <Checkbox.HiddenInput />
            <Checkbox.Control />
            <Checkbox.Label>
              {state} <Span color="fg.muted">({(data?.by_state[state] ?? 0).toLocaleString()})</Span>
            </Checkbox.Label>
          </Checkbox.Root>
        ))}
      </HStack>
    </Box>
    <Box>
      <Text color="fg.muted" fontSize="xs" mb={1}>Error number</Text>
      <Input aria-label="Error number" data-testid="filter-errorno" defaultValue={query.errorno}
        onChange={(e) => setQuery({ errorno: e.currentTarget.value.trim(), offset: 0 })}
        placeholder="BL03000018" size="sm" width="150px" />
    </Box>
    <Box>
      <Text color="fg.muted" fontSize="xs" mb={1}>Search</Text>
      <Input aria-label="Search" data-testid="filter-search" defaultValue={query.q}
        onChange={(e) => setQuery({ offset: 0, q: e.currentTarget.value.trim() })}
        placeholder="record or message" size="sm" width="200px" />
    </Box>
  </Wrap>
);

const Pager = ({ data, query, setQuery }: Props) => {
  const total = data?.total ?? 0;
  const first = total ? query.offset + 1 : 0;
  const last = Math.min(total, query.offset + query.limit);
  return (
    <HStack gap={3} justify="end" mt={2}>
      <Text color="fg.muted" data-testid="pager-range" fontSize="sm">
        {first.toLocaleString()}–{last.toLocaleString()} of {total.toLocaleString()}
      </Text>
      <NativeSelect.Root size="xs" width="110px">
        <NativeSelect.Field aria-label="Rows per page" onChange={(e) =>
          setQuery({ limit: Number(e.currentTarget.value), offset: 0 })} value={String(query.limit)}>
          {PAGE_SIZES.map((n) => <option key={n} value={n}>{n} / page</option>)}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
      <Button disabled={query.offset === 0} onClick={() =>
        setQuery({ offset: Math.max(0, query.offset - query.limit) })} size="xs" variant="outline">
        Previous
      </Button>
      <Button disabled={last >= total} onClick={() => setQuery({ offset: query.offset + query.limit })}
        size="xs" variant="outline">
        Next
      </Button>
    </HStack>
  );
};

/** Reconciliation errors: filter, sort, page; retry or ignore one or the selected ones. */
export const ErrorsTable = (props: Props) => {
  const { busy, data, now, onAct, query, selected, setQuery, setSelected, zone } = props;
  const rows = data?.errors ?? [];
  const pageIds = rows.map((r) => r.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  const toggle = (id: number, on: boolean) => {
    const next = new Set(selected);
    if (on) {
      next.add(id);
    } else {
      next.delete(id);
    }
    setSelected(next);
  };
  const ids = [...selected];
  return (
    <Box>
      <Filters {...props} />
      <HStack gap={2} mb={2} minH="8">
        <Text color="fg.muted" data-testid="selected-count" fontSize="sm">
          {ids.length ? `${ids.length} selected` : "select rows to act on several"}
        </Text>
        <Button colorPalette="blue" data-testid="retry-selected" disabled={!ids.length}
          loading={busy === "retry"} onClick={() => onAct("retry", ids)} size="xs">
          Retry selected
        </Button>
        <Button data-testid="ignore-selected" disabled={!ids.length} loading={busy === "ignore"}
          onClick={() => onAct("ignore", ids)} size="xs" variant="outline">
          Ignore selected
        </Button>
        {ids.length > 0 && (
          <Button onClick={() => setSelected(new Set())} size="xs" variant="ghost">Clear</Button>
        )}
      </HStack>
      <Table.ScrollArea borderWidth="1px" rounded="md">
        <Table.Root data-testid="errors-table" interactive size="sm">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeader w="8">
                <Checkbox.Root aria-label="select all on this page" checked={allOnPage}
                  data-testid="select-page" onCheckedChange={(e) => {
                    const next = new Set(selected);
                    pageIds.forEach((id) => (e.checked ? next.add(id) : next.delete(id)));
                    setSelected(next);
                  }} size="sm">
                  <Checkbox.HiddenInput />
                  <Checkbox.Control />
                </Checkbox.Root>
              </Table.ColumnHeader>
              <SortHeader field="id" query={query} setQuery={setQuery}>#</SortHeader>
              <SortHeader field="object" query={query} setQuery={setQuery}>Object</SortHeader>
              <SortHeader field="record" query={query} setQuery={setQuery}>Record</SortHeader>
              <Table.ColumnHeader>Error</Table.ColumnHeader>
              <Table.ColumnHeader>Message and fix</Table.ColumnHeader>
              <SortHeader end field="attempts" query={query} setQuery={setQuery}>Attempts</SortHeader>
              <SortHeader field="state" query={query} setQuery={setQuery}>State</SortHeader>
              <SortHeader field="last_seen" query={query} setQuery={setQuery}>Last seen</SortHeader>
              <Table.ColumnHeader />
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {rows.length === 0 && (
              <Table.Row>
                <Table.Cell color="fg.muted" colSpan={10} data-testid="no-errors">
                  no errors match
                </Table.Cell>
              </Table.Row>
            )}
            {rows.map((r) => (
              <Table.Row data-error={r.id} data-record={r.record_id} key={r.id}>
                <Table.Cell>
                  {/* A native checkbox per row: a page holds 50 rows or more, and a Chakra
                      Checkbox (a state machine each) made most of the table's render. */}
                  <chakra.input aria-label={`select error ${r.id}`} checked={selected.has(r.id)}
                    css={{ accentColor: "var(--chakra-colors-color-palette-solid, currentColor)" }}
                    cursor="pointer" data-testid="select-error" height="4"
                    onChange={(e) => toggle(r.id, e.target.checked)} type="checkbox" width="4" />
                </Table.Cell>
                <Table.Cell>{r.id}</Table.Cell>
                <Table.Cell whiteSpace="nowrap">
                  {r.object} <Span color="fg.muted">/ {r.direction}</Span>
                </Table.Cell>
                <Table.Cell fontFamily="mono">{r.record_id}</Table.Cell>
                <Table.Cell fontFamily="mono" fontSize="xs">
                  <Box maxW="9rem" whiteSpace="normal">{[...new Set(r.error_numbers)].join(", ") || "—"}</Box>
                </Table.Cell>
                <Table.Cell>
                  <Box maxW="40rem" minW="18rem" whiteSpace="normal" wordBreak="break-word">
                    <Text>{r.message}</Text>
                    {r.hint && <Text color="fg.muted" fontSize="xs">fix: {r.hint}</Text>}
                  </Box>
                </Table.Cell>
                <Table.Cell textAlign="end">{r.attempts}</Table.Cell>
                <Table.Cell>
                  <Badge colorPalette={STATE_PALETTE[r.state] ?? "gray"} data-testid="error-state">
                    {r.state}
                  </Badge>
                </Table.Cell>
                <Table.Cell><Time iso={r.last_seen_at} now={now} zone={zone} /></Table.Cell>
                <Table.Cell>
                  <HStack gap={1}>
                    <Button disabled={busy !== null} onClick={() => onAct("retry", [r.id])} size="2xs"
                      variant="outline">
                      Retry
                    </Button>
                    <Button disabled={busy !== null || r.state === "ignored"}
                      onClick={() => onAct("ignore", [r.id])} size="2xs" variant="ghost">
                      Ignore
                    </Button>
                  </HStack>
                </Table.Cell>
              </Table.Row>
            ))}
          </Table.Body>
        </Table.Root>
      </Table.ScrollArea>
      <Pager {...props} />
    </Box>
  );
};
