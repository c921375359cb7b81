import { Box, HStack, Span, Text } from "@chakra-ui/react";
import { useEffect, useRef, useState } from "react";

import type { Hour } from "./api";
import { hourLabel } from "./time";

const HEIGHT = 220;
const MARGIN = { bottom: 36, left: 64, right: 12, top: 12 };
const SERIES = [
  { color: "var(--chakra-colors-blue-500)", key: "pull", label: "Pulled (Intacct → AR)" },
  { color: "var(--chakra-colors-purple-500)", key: "push", label: "Pushed (AR → Intacct)" },
] as const;

/** 0 … top in 4–5 round steps (1, 2 or 5 × 10ⁿ). */
export const ticks = (top: number): number[] => {
  if (top <= 0) {
    return [0, 1];
  }
  const rough = top / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const out = [];
  for (let value = 0; value < top + step; value += step) {
    out.push(value);
  }
  return out;
};

/** Records per hour, pulled and pushed side by side, the last 72 hours in the UI's zone. */
export const HourlyChart = ({ hours, zone }: { hours: Hour[]; zone: string }) => {
  const [hover, setHover] = useState<number | null>(null);
  // Drawn at the container's real width (not scaled), so text stays the UI's size.
  const box = useRef<HTMLDivElement>(null);
  const [WIDTH, setWidth] = useState(960);
  useEffect(() => {
    const element = box.current;
    if (!element) {
      return undefined;
    }
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(320, Math.floor(entry.contentRect.width))));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  if (hours.length === 0) {
    return <Text color="fg.muted">no hours</Text>;
  }
  const scale = ticks(Math.max(1, ...hours.map((h) => Math.max(h.pull, h.push))));
  const top = scale[scale.length - 1];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const band = plotW / hours.length;
  const bar = Math.max(1, band * 0.38);
  const y = (value: number) => MARGIN.top + plotH - (value / top) * plotH;
  const totals = { pull: hours.reduce((s, h) => s + h.pull, 0), push: hours.reduce((s, h) => s + h.push, 0) };
  const shown = hover === null ? null : hours[hover];
  const label = (h: Hour) => {
    const { date, time } = hourLabel(h.hour, zone);
    return `${date} ${time}`;
  };

  return (
    <Box data-testid="hourly-chart" position="relative" ref={box}>
      <HStack gap={5} mb={1}>
        {SERIES.map((s) => (
          <HStack data-series={s.key} data-testid="legend" gap={1.5} key={s.key}>
            <Box bg={s.color} h="10px" rounded="sm" w="10px" />
            <Text fontSize="sm">{s.label}</Text>
            <Text color="fg.muted" fontSize="sm">{totals[s.key].toLocaleString()}</Text>
          </HStack>
        ))}
        <Text color="fg.muted" fontSize="xs">records per hour, last {hours.length} h</Text>
      </HStack>
      <svg aria-label={`records per hour: ${totals.pull} pulled, ${totals.push} pushed`}
        onMouseLeave={() => setHover(null)} role="img" height={HEIGHT}
        style={{ display: "block", fontFamily: "inherit" }} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width={WIDTH}>
        <g data-testid="y-axis" fontSize="11" textAnchor="end">
          {scale.map((value) => (
            <g key={value}>
              <line stroke="var(--chakra-colors-border)" x1={MARGIN.left} x2={WIDTH - MARGIN.right}
                y1={y(value)} y2={y(value)} />
              <text dominantBaseline="middle" fill="var(--chakra-colors-fg-muted)" x={MARGIN.left - 6}
                y={y(value)}>
                {value.toLocaleString()}
              </text>
            </g>
          ))}
          <text fill="var(--chakra-colors-fg-muted)" textAnchor="middle"
            transform={`translate(12 ${MARGIN.top + plotH / 2}) rotate(-90)`}>records</text>
        </g>
        <g data-testid="x-axis" fontSize="11" textAnchor="middle">
          <line stroke="var(--chakra-colors-fg-muted)" x1={MARGIN.left} x2={WIDTH - MARGIN.right}
            y1={MARGIN.top + plotH} y2={MARGIN.top + plotH} />
          {hours.map((h, i) => {
            const { date, time } = hourLabel(h.hour, zone);
            if (!["00", "06", "12", "18"].includes(time.slice(0, 2))) {
              return null;
            }
            const x = MARGIN.left + i * band;
            return (
              <g key={h.hour}>
                <line stroke="var(--chakra-colors-fg-muted)" x1={x} x2={x} y1={MARGIN.top + plotH}
                  y2={MARGIN.top + plotH + 4} />
                <text fill="var(--chakra-colors-fg-muted)" x={x} y={MARGIN.top + plotH + 16}>{time}</text>
                {(i < 6 || time.startsWith("00")) && (
                  <text fill="var(--chakra-colors-fg)" x={x} y={MARGIN.top + plotH + 30}>{date}</text>
                )}
              </g>
            );
          })}
        </g>
        {hours.map((h, i) => {
          const x = MARGIN.left + i * band;
          return (
            <g data-hour={h.hour} key={h.hour}>
              {hover === i && (
                <rect fill="var(--chakra-colors-bg-emphasized)" height={plotH} width={band} x={x}
                  y={MARGIN.top} />
              )}
              {SERIES.map((s, k) => (
                <rect data-series={s.key} data-value={h[s.key]} fill={s.color} height={y(0) - y(h[s.key])}
                  key={s.key} width={bar} x={x + band * 0.1 + k * bar} y={y(h[s.key])} />
              ))}
              <rect data-testid="hour-band" fill="transparent" height={plotH} onMouseEnter={() => setHover(i)}
                width={band} x={x} y={MARGIN.top} />
            </g>
          );
        })}
      </svg>
      {shown && hover !== null && (
        <Box bg="bg.panel" borderWidth="1px" data-testid="chart-tooltip" fontSize="sm" left={`${
          Math.min(85, ((MARGIN.left + hover * band) / WIDTH) * 100)}%`} pointerEvents="none" px={3}
          py={2} position="absolute" rounded="md" shadow="md" top="28px">
          <Text fontWeight="semibold">{label(shown)} ({zone})</Text>
          {SERIES.map((s) => (
            <HStack gap={1.5} key={s.key}>
              <Box bg={s.color} h="8px" rounded="sm" w="8px" />
              <Span>{s.key === "pull" ? "pulled" : "pushed"} {shown[s.key].toLocaleString()}</Span>
            </HStack>
          ))}
        </Box>
      )}
    </Box>
  );
};
