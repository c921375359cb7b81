import { Badge, Box, Button, Heading, HStack, Span, Table, Text } from "@chakra-ui/react";

import type { EntityTieOut, Figures, ObjectStatus } from "./api";
import { Time } from "./Time";

type Props = {
  busy: string | null;
  now: number;
  objects: ObjectStatus[];
  onTieOut: (object: string) => void;
  zone: string;
};

const FIGURES = [
  { key: "count", label: "Count" },
  { key: "sum", label: "Total" },
  { key: "paid", label: "Paid" },
  { key: "due", label: "Due" },
] as const;

type Key = (typeof FIGURES)[number]["key"];

const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, minimumFractionDigits: 2 });

const shown = (figures: Figures, key: Key): string => {
  const value = figures[key];
  if (value === null || value === undefined) {
    return "—";
  }
  return key === "count" ? Number(value).toLocaleString() : money.format(Number(value));
};

/** held − expected (from the API; computed here for results stored before it sent one). */
const difference = (entity: EntityTieOut, key: Key): number | null => {
  const stored = entity.difference?.[key];
  if (stored !== undefined && stored !== null) {
    return Number(stored);
  }
  const held = entity.postgres[key];
  const expected = entity.expected[key];
  return held === null || expected === null || held === undefined || expected === undefined
    ? null
    : Number(held) - Number(expected);
};

const Difference = ({ entity, figure }: { entity: EntityTieOut; figure: Key }) => {
  const value = difference(entity, figure);
  if (value === null) {
    return <Span color="fg.muted">—</Span>;
  }
  const rounded = figure === "count" ? value : Math.round(value * 100) / 100;
  if (rounded === 0) {
    return <Span color="fg.success">0</Span>;
  }
  const text = figure === "count" ? rounded.toLocaleString() : money.format(rounded);
  return (
    <Span color="fg.error" data-testid="difference" fontWeight="semibold">
      {rounded > 0 ? `+${text}` : text}
    </Span>
  );
};

const ObjectTieOut = ({ busy, now, object, onTieOut, zone }: Props & { object: ObjectStatus }) => {
  const tie = object.tieout;
  const figures = FIGURES.filter(
    (f) => !tie || tie.entities.some((e) => e.intacct[f.key] !== null && e.intacct[f.key] !== undefined),
  );
  return (
    <Box borderWidth="1px" data-object={object.object} data-testid="tieout" p={3} rounded="md">
      <HStack justify="space-between" mb={2}>
        <HStack gap={3}>
          <Heading size="sm">{object.object.replace("_", " ")}</Heading>
          {tie ? (
            <Badge colorPalette={tie.ok ? "green" : "red"} data-testid="tieout-verdict">
              {tie.ok ? "agrees" : "differs"}
            </Badge>
          ) : (
            <Badge colorPalette="gray">not computed yet</Badge>
          )}
          {tie && (
            <Text color="fg.muted" fontSize="xs">
              computed <Time iso={tie.computed_at} now={now} zone={zone} />
            </Text>
          )}
        </HStack>
        <Button loading={busy === `tieout-${object.object}`} onClick={() => onTieOut(object.object)}
          size="2xs" variant="outline">
          {tie ? "Tie out again" : "Tie out now"}
        </Button>
      </HStack>
      {tie && (
        <Table.Root size="sm" variant="line">
          <Table.Header>
            <Table.Row>
              <Table.ColumnHeader>Entity</Table.ColumnHeader>
              <Table.ColumnHeader>Figure</Table.ColumnHeader>
              <Table.ColumnHeader textAlign="end" title="every record in Intacct">Intacct</Table.ColumnHeader>
              <Table.ColumnHeader textAlign="end"
                title="what the AR database should hold (documents of active customers)">
                Expected
              </Table.ColumnHeader>
              <Table.ColumnHeader textAlign="end">Held locally</Table.ColumnHeader>
              <Table.ColumnHeader textAlign="end" title="held − expected">Difference</Table.ColumnHeader>
            </Table.Row>
          </Table.Header>
          <Table.Body>
            {tie.entities.map((entity) =>
              figures.map((figure, index) => (
                <Table.Row data-entity={entity.entity || "(none)"} data-figure={figure.key}
                  data-testid="tieout-row" key={`${entity.entity}-${figure.key}`}>
                  {index === 0 && (
                    <Table.Cell fontWeight="medium" rowSpan={figures.length} verticalAlign="top">
                      {entity.entity || <Span color="fg.muted">(no entity)</Span>}
                    </Table.Cell>
                  )}
                  <Table.Cell color="fg.muted">{figure.label}</Table.Cell>
                  <Table.Cell textAlign="end">{shown(entity.intacct, figure.key)}</Table.Cell>
                  <Table.Cell textAlign="end">{shown(entity.expected, figure.key)}</Table.Cell>
                  <Table.Cell textAlign="end">{shown(entity.postgres, figure.key)}</Table.Cell>
                  <Table.Cell textAlign="end"><Difference entity={entity} figure={figure.key} /></Table.Cell>
                </Table.Row>
              )),
            )}
          </Table.Body>
        </Table.Root>
      )}
    </Box>
  );
};

/** The stored tie-out of each pulled object: the figures per entity, not only a verdict. */
export const TieOuts = (props: Props) => (
  <Box alignItems="start" display="grid" gap={3} gridTemplateColumns={{ base: "1fr", xl: "1fr 1fr" }}>
    {props.objects
      .filter((o) => o.direction === "pull")
      .map((o) => <ObjectTieOut key={o.object} {...props} object={o} />)}
  </Box>
);
