import { Portal, Span, Tooltip } from "@chakra-ui/react";
import { useState } from "react";

import { exactTime, relativeTime } from "./time";

type Props = { iso: string | null; now: number; zone: string; never?: string };

/** "12 min ago"; the exact time, in the UI's time zone, on hover. A page of errors holds a
 * hundred of these: the tooltip (a state machine, a portal and a positioner each) is built on
 * the first hover, not up front, where it was most of the page's first render. */
export const Time = ({ iso, never = "never", now, zone }: Props) => {
  const [armed, setArmed] = useState(false);
  if (!iso) {
    return <Span color="fg.muted">{never}</Span>;
  }
  const exact = exactTime(iso, zone);
  const label = (
    <Span
      data-exact={exact}
      data-testid="relative-time"
      onFocus={() => setArmed(true)}
      onMouseEnter={() => setArmed(true)}
      tabIndex={0}
      textDecoration="underline dotted"
      textUnderlineOffset="3px"
      whiteSpace="nowrap"
    >
      {relativeTime(iso, now)}
    </Span>
  );
  if (!armed) {
    return label;
  }
  return (
    <Tooltip.Root closeDelay={50} defaultOpen lazyMount openDelay={200} unmountOnExit>
      <Tooltip.Trigger asChild>{label}</Tooltip.Trigger>
      <Portal>
        <Tooltip.Positioner>
          <Tooltip.Content data-testid="exact-time">{exact}</Tooltip.Content>
        </Tooltip.Positioner>
      </Portal>
    </Tooltip.Root>
  );
};
