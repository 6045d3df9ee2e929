// What the console reads from its own token to greet the operator (the gateway checks it; the
// role comes from GET /v1/operator/me).

export interface Claims {
  sub: string;
  site: string;
  role: string | string[];
  exp?: number;
}

export function readClaims(token: string): Claims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(json) as Partial<Claims>;
    if (typeof claims.sub !== "string" || typeof claims.site !== "string") return null;
    return { sub: claims.sub, site: claims.site, role: claims.role ?? "operator", exp: claims.exp };
  } catch {
    return null;
  }
}
