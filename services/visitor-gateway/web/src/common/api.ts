// The gateway's HTTP API as the browser calls it: bearer token, JSON in and out, and every
// refusal turned into a sentence a person can read.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

/** The sentence to show for a refused request: the gateway's `detail`, in plain words. */
export function describeRefusal(status: number, body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) {
    const parts = (detail as ValidationItem[]).map((item) => {
      const where = (item.loc ?? []).filter((part) => part !== "body").join(".");
      return where ? `${where}: ${item.msg ?? "invalid"}` : (item.msg ?? "invalid");
    });
    return `Please check the form — ${parts.join("; ")}`;
  }
  const said = typeof detail === "string" ? detail : "";
  switch (status) {
    case 401:
      return `You are not signed in (${said || "no valid token"}).`;
    case 403:
      return `You may not do that${said ? ` (${said})` : ""}.`;
    case 404:
      return `Not found${said ? `: ${said}` : ""}.`;
    case 409:
      return `Too late: ${said || "this has already changed"}.`;
    case 429:
      return "Too many requests: wait a moment and try again.";
    case 503:
      return "The service is briefly unavailable; try again in a moment.";
    default:
      return said || `The request failed (HTTP ${status}).`;
  }
}

export class Api {
  constructor(
    readonly base: string,
    private readonly token: () => string | null,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { detail: text };
    }
    if (!response.ok) throw new ApiError(response.status, describeRefusal(response.status, parsed));
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }
  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }
}

/** A fresh id for a message, so a retried send is stored once. */
export function newClientMessageId(): string {
  return crypto.randomUUID();
}
