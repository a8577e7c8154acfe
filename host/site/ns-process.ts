// A long-running helper of the site (a server, the relay) started inside a
// namespace: resolves once it prints the line that says it is ready, keeps
// every line it prints (the server's own records are its log lines), and
// stops with SIGTERM, then SIGKILL if it lingers.

import { ChildProcess, spawn } from "node:child_process";

/** Node starts in well under a second; a loaded 2-CPU machine starting a
 *  site's phones at the same time may take several. */
export const READY_TIMEOUT_MS = 30_000;
/** After SIGTERM, before SIGKILL: our servers close their sockets at once. */
const STOP_GRACE_MS = 5_000;

export interface NsProcess {
  child: ChildProcess;
  /** Every line printed so far, stdout and stderr. */
  lines: string[];
  /** Writes `command` as a line to its stdin; resolves with the next line
   *  it prints that `answer` matches. */
  ask(command: string, answer: RegExp): Promise<string>;
  stop(): Promise<void>;
}

export function startInNs(prefix: string[], argv: string[], ready: RegExp, name: string): Promise<NsProcess> {
  const [cmd, ...args] = [...prefix, ...argv];
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin!.on("error", () => {}); // gone with the process; its close says so
  const lines: string[] = [];
  const waiting: Array<{ answer: RegExp; resolve: (line: string) => void }> = [];
  const ask = (command: string, answer: RegExp) => new Promise<string>((resolve, reject) => {
    if (exited) return reject(new Error(`${name} has ended`));
    waiting.push({ answer, resolve });
    child.stdin!.write(command + "\n");
  });
  let exited = false;
  const closed = new Promise<void>((resolve) => child.once("close", () => {
    exited = true;
    resolve();
  }));
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await closed;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    let isReady = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not say it was ready within ${READY_TIMEOUT_MS / 1000} s: ${lines.slice(-3).join(" | ")}`));
    }, READY_TIMEOUT_MS);
    const take = (stream: NodeJS.ReadableStream) => {
      let buf = "";
      stream.on("data", (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const w = waiting.findIndex((x) => x.answer.test(line));
          if (w >= 0) {
            waiting.splice(w, 1)[0].resolve(line);
            continue; // an answer, not a log line
          }
          lines.push(line);
          if (!isReady && ready.test(line)) {
            isReady = true;
            clearTimeout(timer);
            resolve({ child, lines, ask, stop });
          }
        }
      });
    };
    take(child.stdout!);
    take(child.stderr!);
    void closed.then(() => {
      if (isReady) return;
      clearTimeout(timer);
      reject(new Error(`${name} ended before it was ready (exit ${child.exitCode}): ${lines.slice(-3).join(" | ")}`));
    });
  });
}
