// Small view helpers shared by the console's sections.
import { useEffect, useState } from "preact/hooks";

/** The current time, re-rendered every second (local ticking of waits and countdowns; no
 * request is made). */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function secondsSince(iso: string, now: number): number {
  return (now - Date.parse(iso)) / 1000;
}
