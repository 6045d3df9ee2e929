// The gateway's JSON shapes the pages read (see the gateway's OpenAPI at /docs).

export type Channel = "chat" | "call";
export type Presence = "online" | "away" | "offline";

export interface Badge {
  name?: string | null;
  email?: string | null;
  current_page?: string | null;
  referrer?: string | null;
  user_agent?: string | null;
  location?: string | null;
}

export interface SessionView {
  session_id: string;
  visitor_id: string;
  operator_id: string;
  channel: Channel;
  status: "active" | "on_hold" | "ended";
  started_at: string;
  last_seq: number;
}

export interface TranscriptMessage {
  session_id: string;
  seq: number;
  author: "operator" | "visitor";
  author_id: string;
  client_message_id: string;
  text: string;
  posted_at: string;
}

export interface QueueCount {
  waiting: number;
  longest_waiting_since: string | null;
  longest_wait_seconds: number | null;
}

export interface Queues {
  chats: QueueCount;
  calls: QueueCount;
  messages: QueueCount;
}

export interface SiteSummary {
  view: "full" | "minimized";
  site_id: string;
  version: number;
  as_of: string;
  queues: Queues;
  in_progress?: { active: number; on_hold: number };
  operators?: { online: number; away: number; with_free_capacity: number };
}

export interface PendingOffer {
  offer_id: string;
  visitor_id: string;
  channel: Channel;
  waiting_since: string;
  expires_at: string;
}

export interface MySummary {
  operator_id: string;
  presence: Presence;
  presence_reason?: "operator" | "offer_timed_out" | "disconnected";
  max_chats: number | null;
  in_progress: { active: number; on_hold: number };
  pending_offers: number;
  /** The pending incoming chat requests themselves, soonest to expire first (absent from a
   * summary projector older than the console). */
  offers?: PendingOffer[];
  free_chat_slots: number;
  has_free_capacity: boolean;
}

export interface QueueEntry {
  visitor_id: string;
  channel: Channel;
  waiting_since: string;
  seconds_in_queue: number;
  badge: Badge;
  status: "waiting" | "offered";
  offered_to: string | null;
}

export interface CommunicationQueue {
  version: number;
  as_of: string;
  visitors: QueueEntry[];
}

export interface OfflineMessage {
  offline_message_id: string;
  visitor_id: string;
  name: string;
  email: string;
  text: string;
  left_at: string;
  status: "waiting" | "taken" | "replied" | "closed";
  operator_id: string | null;
  reply: string | null;
}

export interface BrowsingVisitor {
  visitor_id: string;
  page: string;
  title: string | null;
  referrer: string | null;
  time_on_site_seconds: number;
  visits: number;
  pages_viewed: number;
  last_seen: string;
}

/** `GET /v1/operator/site-monitor` and the `SiteMonitor` frame: the first visitors browsing
 * (longest on the site first) and how many browse in all (absent from an older gateway). */
export interface SiteMonitorView {
  visitors: BrowsingVisitor[];
  browsing?: number;
}

export interface ChatLimit {
  site_max_chats: number;
  operator_max_chats: number | null;
  effective_max_chats: number;
}

export interface AdminSettings {
  site_id: string;
  max_chats: number;
  from_default: boolean;
  operators: { operator_id: string; max_chats: number | null }[];
}
