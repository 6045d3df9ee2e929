// Incoming chat request: the visitor's badge, channel, wait and a countdown, answered with
// Accept, Decline or Put back in queue — by mouse or keyboard (focus starts on Accept and stays
// inside the dialog).
import { useEffect, useRef } from "preact/hooks";
import type { Badge } from "../common/types";
import { badgeLabel, channelWord, duration } from "../common/words";
import { secondsSince, useNow } from "./hooks";
import type { Offer } from "./state";

interface Props {
  offer: Offer;
  badge: Badge | undefined;
  answer: (offer: Offer, how: "accept" | "decline" | "put-back") => void;
  openProfile: (visitorId: string) => void;
}

export function OfferDialog({ offer, badge, answer, openProfile }: Props) {
  const now = useNow();
  const dialog = useRef<HTMLDivElement>(null);
  const accept = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    accept.current?.focus();
  }, [offer.offer_id]);

  const trap = (e: KeyboardEvent) => {
    if (e.key !== "Tab" || !dialog.current) return;
    const buttons = [...dialog.current.querySelectorAll<HTMLButtonElement>("button")];
    const first = buttons[0];
    const last = buttons[buttons.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const left = Math.max(0, (Date.parse(offer.expires_at) - now) / 1000);
  return (
    <div class="backdrop">
      <div
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="offer-title"
        ref={dialog}
        onKeyDown={trap}
        data-offer={offer.offer_id}
      >
        <h2 id="offer-title">Incoming chat request</h2>
        <dl>
          <dt>Visitor</dt>
          <dd>
            <span class="badge" title="Double-click for the visitor profile" onDblClick={() => openProfile(offer.visitor_id)}>
              {badgeLabel(badge, offer.visitor_id)}
            </span>
            {badge?.email && <span class="muted"> {badge.email}</span>}
          </dd>
          <dt>Channel</dt>
          <dd data-testid="offer-channel">{channelWord(offer.channel)}</dd>
          <dt>Waited</dt>
          <dd>{duration(secondsSince(offer.waiting_since, now))}</dd>
          <dt>Answer within</dt>
          <dd data-testid="offer-countdown" class={left < 10 ? "urgent" : ""}>
            {Math.ceil(left)} s
          </dd>
        </dl>
        <div class="actions">
          <button ref={accept} class="primary" onClick={() => answer(offer, "accept")}>
            Accept
          </button>
          <button onClick={() => answer(offer, "decline")}>Decline</button>
          <button onClick={() => answer(offer, "put-back")}>Put back in queue</button>
        </div>
      </div>
    </div>
  );
}
