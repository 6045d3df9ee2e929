// Maximum number of chats: the site-wide maximum and each operator's own override (site
// administrators only; the gateway refuses others with 403).
import { useEffect, useState } from "preact/hooks";
import type { AdminSettings } from "../common/types";
import type { Live } from "./useConsole";

export function MaxChatsSettings({ live }: { live: Live }) {
  const [settings, setSettings] = useState<AdminSettings | null>(null);
  const [site, setSite] = useState("");
  const [overrides, setOverrides] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const read = () =>
    void live.act(async () => {
      const s = await live.api.get<AdminSettings>("/v1/admin/settings");
      setSettings(s);
      setSite(String(s.max_chats));
      setOverrides(Object.fromEntries(s.operators.map((o) => [o.operator_id, o.max_chats === null ? "" : String(o.max_chats)])));
    });
  // re-read whenever the summary moves (the change arrives through the events)
  useEffect(read, [live.summary?.version]);
  const put = (path: string, value: number | null, what: string) =>
    void live.act(async () => {
      await live.api.put(path, { max_chats: value });
      setSaved(`${what}: saved; it applies as soon as the queue manager has it.`);
    });
  return (
    <section aria-labelledby="max-chats">
      <h2 id="max-chats">Maximum number of chats</h2>
      {!settings && <p>Reading the settings…</p>}
      {settings && (
        <>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              put("/v1/admin/settings/max-chats", Number(site), "Site-wide maximum");
            }}
          >
            <label>
              Site-wide maximum {settings.from_default && <span class="muted">(the default; never set for this site)</span>}
              <input type="number" min={1} max={50} value={site} onInput={(e) => setSite(e.currentTarget.value)} required />
            </label>
            <button type="submit">Save</button>
          </form>
          <h3>Each operator</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Operator</th>
                <th scope="col">Own maximum (empty: the site's)</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {settings.operators.map((o) => (
                <tr key={o.operator_id} data-operator={o.operator_id}>
                  <td>{o.operator_id}</td>
                  <td>
                    <input
                      type="number"
                      min={1}
                      max={50}
                      aria-label={`Maximum number of chats for ${o.operator_id}`}
                      value={overrides[o.operator_id] ?? ""}
                      onInput={(e) => setOverrides({ ...overrides, [o.operator_id]: e.currentTarget.value })}
                    />
                  </td>
                  <td>
                    <button
                      onClick={() => {
                        const raw = overrides[o.operator_id] ?? "";
                        put(`/v1/admin/operators/${encodeURIComponent(o.operator_id)}/max-chats`, raw === "" ? null : Number(raw), o.operator_id);
                      }}
                    >
                      Save
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {saved && <p role="status">{saved}</p>}
    </section>
  );
}
