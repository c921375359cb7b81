// Times as the Airflow UI shows them: in the time zone the user picked in the UI (stored by
// the UI in localStorage under "timezone", JSON), else the browser's; relative for scanning.
import { useEffect, useState } from "react";

const TIMEZONE_KEY = "timezone";

export const browserTimezone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

export const selectedTimezone = (): string => {
  try {
    const stored = globalThis.localStorage?.getItem(TIMEZONE_KEY);
    if (stored) {
      const zone = JSON.parse(stored) as unknown;
      if (typeof zone === "string" && zone) {
        new Intl.DateTimeFormat(undefined, { timeZone: zone }); // throws on an unknown zone
        return zone;
      }
    }
  } catch {
    // a value the UI did not write: fall back to the browser's zone
  }
  return browserTimezone();
};

/** The UI's time zone, following changes made in the UI's user menu. */
export const useTimezone = (): string => {
  const [zone, setZone] = useState(selectedTimezone);
  useEffect(() => {
    const update = () => setZone(selectedTimezone());
    globalThis.addEventListener("storage", update);
    globalThis.addEventListener("local-storage", update);
    return () => {
      globalThis.removeEventListener("storage", update);
      globalThis.removeEventListener("local-storage", update);
    };
  }, []);
  return zone;
};

/** A ticking "now", so relative times move without a refetch. */
export const useNow = (everyMs = 15_000): number => {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
};

// Building an Intl.DateTimeFormat costs far more than using one: one per zone and format.
const formats = new Map<string, Intl.DateTimeFormat>();

const parts = (date: Date, zone: string, options: Intl.DateTimeFormatOptions) => {
  const key = `${zone}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { ...options, hourCycle: "h23", timeZone: zone });
    formats.set(key, format);
  }
  return Object.fromEntries(format.formatToParts(date).map((part) => [part.type, part.value]));
};

/** "2026-12-04 06:30:12 UTC": Airflow's own format (YYYY-MM-DD HH:mm:ss z). */
export const exactTime = (iso: string, zone: string): string => {
  const p = parts(new Date(iso), zone, {
    day: "2-digit", hour: "2-digit", minute: "2-digit", month: "2-digit", second: "2-digit",
    timeZoneName: "short", year: "numeric",
  });
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
};

/** "06:00" and, at midnight, the date: the chart's axis labels. */
export const hourLabel = (iso: string, zone: string): { date: string; time: string } => {
  const p = parts(new Date(iso), zone, {
    day: "numeric", hour: "2-digit", minute: "2-digit", month: "short",
  });
  return { date: `${p.month} ${p.day}`, time: `${p.hour}:${p.minute}` };
};

export const duration = (seconds: number): string => {
  const minutes = Math.floor(seconds / 60);
  if (seconds < 60) {
    return `${Math.max(0, Math.round(seconds))} s`;
  }
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  }
  return `${Math.floor(hours / 24)} days`;
};

/** "12 min ago", "just now", "in 5 min" (a clock slightly ahead). */
export const relativeTime = (iso: string, now: number): string => {
  const seconds = (now - new Date(iso).getTime()) / 1000;
  if (Math.abs(seconds) < 45) {
    return "just now";
  }
  return seconds > 0 ? `${duration(seconds)} ago` : `in ${duration(-seconds)}`;
};
