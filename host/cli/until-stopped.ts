// The servers the CLI runs (tftpd, logd, the simulator's page) serve until
// Ctrl-C or a kill, or until a caller's signal aborts (tests run them in
// process).

/** Resolves on SIGINT or SIGTERM, or when `stop` aborts, if given. */
export function untilStopped(stop?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stop !== undefined) {
      if (stop.aborted) resolve();
      stop.addEventListener("abort", () => resolve(), { once: true });
    } else {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }
  });
}
