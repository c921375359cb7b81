import { Portal, Span, Tooltip } from "@chakra-ui/react";

import { exactTime, relativeTime } from "./time";

type Props = { iso: string | null; now: number; zone: string; never?: string };

/** "12 min ago"; the exact time, in the UI's time zone, on hover. */
export const Time = ({ iso, never = "never", now, zone }: Props) => {
  if (!iso) {
    return <Span color="fg.muted">{never}</Span>;
  }
  const exact = exactTime(iso, zone);
  return (
    <Tooltip.Root openDelay={200} closeDelay={50}>
      <Tooltip.Trigger asChild>
        <Span
          data-exact={exact}
          data-testid="relative-time"
          textDecoration="underline dotted"
          textUnderlineOffset="3px"
          whiteSpace="nowrap"
        >
          {relativeTime(iso, now)}
        </Span>
      </Tooltip.Trigger>
      <Portal>
        <Tooltip.Positioner>
          <Tooltip.Content data-testid="exact-time">{exact}</Tooltip.Content>
        </Tooltip.Positioner>
      </Portal>
    </Tooltip.Root>
  );
};
