// Many changes in a burst, one re-read: while a run is in flight, further calls only ask for
// one more run after it (so the last change is always read, and never more than two at once).

export function coalesced(run: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const loop = async () => {
    do {
      again = false;
      try {
        await run();
      } catch {
        // a failed re-read is retried by the next change, or the next reconnect
      }
    } while (again);
    running = null;
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = loop();
    return running;
  };
}
