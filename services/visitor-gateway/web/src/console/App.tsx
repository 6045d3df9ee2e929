// The operator console: Presence, the sections, the Visitor profile, the Incoming chat request
// dialog and the Communication Summary fixed at the bottom.
import { useState } from "preact/hooks";
import type { Claims } from "../common/jwt";
import type { Presence } from "../common/types";
import { ChatOverview, MyCommunication, VisitorProfile } from "./Chats";
import { OfferDialog } from "./OfferDialog";
import { CommunicationQueue, MessageQueue, SiteMonitor } from "./Queues";
import { MaxChatsSettings } from "./Settings";
import { answered, dismiss, leading, openChat, type Offer } from "./state";
import { Summary } from "./Summary";
import { useConsole } from "./useConsole";

type Section = "my" | "overview" | "queue" | "messages" | "monitor" | "settings";

const SECTIONS: [Section, string][] = [
  ["my", "My Communication"],
  ["overview", "Chat overview"],
  ["queue", "Communication Queue"],
  ["messages", "Message Queue"],
  ["monitor", "Site Monitor"],
];

interface Props {
  token: string;
  claims: Claims;
  signOut: () => void;
}

export function App({ token, claims, signOut }: Props) {
  const live = useConsole(token, claims.sub);
  const { state } = live;
  const [section, setSection] = useState<Section>("my");
  const [profile, setProfile] = useState<string | null>(null);
  const sections: [Section, string][] =
    live.role === "admin" ? [...SECTIONS, ["settings", "Maximum number of chats"]] : SECTIONS;

  const openProfile = (visitorId: string) => {
    setProfile(visitorId);
    const chat = Object.values(state.chats).find((c) => c.visitor_id === visitorId && c.status !== "ended");
    live.update((s) => openChat(s, chat?.session_id ?? null));
  };
  const answer = (offer: Offer, how: "accept" | "decline" | "put-back") => {
    live.update((s) => answered(s, offer.offer_id));
    void live.act(() => live.api.post(`/v1/operator/offers/${offer.offer_id}/${how}`));
  };
  const next = (what: "chat" | "call" | "message") =>
    void live.act(() =>
      what === "message"
        ? live.api.post("/v1/operator/offline-messages/next").then(() => setSection("messages"))
        : live.api.post("/v1/operator/next", { channel: what }),
    );
  const presence = state.presence;
  const setPresence = (p: Presence) => void live.setPresence(p);
  const profileChat = profile
    ? Object.values(state.chats)
        .filter((c) => c.visitor_id === profile)
        .sort((a, b) => (a.status === "ended" ? 1 : 0) - (b.status === "ended" ? 1 : 0))[0]
    : undefined;
  const offer = state.offers[0];

  return (
    <div class="console">
      <header>
        <h1>Web control and communication center</h1>
        <span class="who">
          {claims.sub} @ {claims.site}
        </span>
        <fieldset class="presence" aria-label="Presence">
          <legend>Presence</legend>
          {(["online", "away", "offline"] as Presence[]).map((p) => (
            <label key={p} class={presence === p ? "on" : ""}>
              <input type="radio" name="presence" value={p} checked={presence === p} onChange={() => setPresence(p)} />
              {p[0].toUpperCase() + p.slice(1)}
            </label>
          ))}
        </fieldset>
        <button class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      {state.presenceNote && (
        <p class="banner warn" role="status" data-testid="presence-note">
          {state.presenceNote}
        </p>
      )}
      {live.link.state !== "open" && (
        <p class="banner error" role="status" data-testid="connection">
          {live.link.state === "connecting" && "Connecting…"}
          {live.link.state === "down" && `Connection lost: ${live.link.reason}. Reconnecting in ${live.link.retryInSeconds} s…`}
          {live.link.state === "refused" && `Signed out: ${live.link.reason}.`}
        </p>
      )}
      <div class="notices" aria-live="polite">
        {state.notices.map((n) => (
          <p key={n.id} class={`notice ${n.kind}`} role={n.kind === "rejected" ? "alert" : "status"}>
            {n.text}{" "}
            <button class="link" aria-label="Dismiss" onClick={() => live.update((s) => dismiss(s, n.id))}>
              ×
            </button>
          </p>
        ))}
      </div>
      <nav aria-label="Sections">
        {sections.map(([id, title]) => (
          <button key={id} aria-current={section === id ? "page" : undefined} onClick={() => setSection(id)}>
            {title}
            {id === "my" && ` (${leading(state).length})`}
          </button>
        ))}
      </nav>
      <main class={profile ? "with-profile" : ""}>
        <div class="section">
          {section === "my" && (
            <MyCommunication
              live={live}
              chats={leading(state)}
              limit={live.limit}
              open={(chat) => openProfile(chat.visitor_id)}
              openProfile={openProfile}
            />
          )}
          {section === "overview" && <ChatOverview live={live} openProfile={openProfile} />}
          {section === "queue" && <CommunicationQueue live={live} openProfile={openProfile} />}
          {section === "messages" && <MessageQueue live={live} />}
          {section === "monitor" && (
            <SiteMonitor live={live} openProfile={openProfile} />
          )}
          {section === "settings" && <MaxChatsSettings live={live} />}
        </div>
        {profile && (
          <VisitorProfile
            live={live}
            visitorId={profile}
            chat={profileChat}
            badge={live.badges[profile]}
            browsing={state.monitor.visitors.find((v) => v.visitor_id === profile)}
            close={() => {
              setProfile(null);
              live.update((s) => openChat(s, null));
            }}
          />
        )}
      </main>
      <Summary summary={live.summary} live={live.streamUp} next={next} />
      {offer && <OfferDialog offer={offer} badge={live.badges[offer.visitor_id]} answer={answer} openProfile={openProfile} />}
    </div>
  );
}
