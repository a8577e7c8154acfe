// The live fleet page over HTTP (docs/WEB.md): the page and its bundle from
// build/web (made by `make build` from web/, nothing from the internet), the
// FleetView as JSON, and its changes as Server-Sent Events, coalesced so a
// fleet of thousands reporting every block costs a browser a few messages a
// second.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FleetView } from "../view/fleet-view.js";
import { SseClient } from "./sse-client.js";

/** build/js/host/web/server.js -> build/web. */
export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../web");

/** The page's files: path -> (file in WEB_DIR, content type). */
const STATIC: ReadonlyMap<string, { file: string; type: string }> = new Map([
  ["/", { file: "index.html", type: "text/html; charset=utf-8" }],
  ["/app.js", { file: "app.js", type: "text/javascript; charset=utf-8" }],
  ["/app.css", { file: "app.css", type: "text/css; charset=utf-8" }],
]);

/** Longest request path we look at before answering 404; anything longer is
 *  no path of ours, and a one-line body should not echo kilobytes. */
const MAX_ECHOED_PATH_CHARS = 100;

export interface FleetPage {
  url: string;
  close(): Promise<void>;
}

export async function serveFleetPage(listen: { host: string; port: number }, view: FleetView): Promise<FleetPage> {
  const files = new Map<string, Buffer>();
  for (const [path, s] of STATIC) {
    try {
      files.set(path, readFileSync(join(WEB_DIR, s.file)));
    } catch {
      throw new Error(`the fleet page is not built (${join(WEB_DIR, s.file)} missing): run make build`);
    }
  }
  const clients = new Set<SseClient>();
  const server = createServer((req, res) => handle(req, res, view, files, clients));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("the page server has no TCP address");
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    close: async () => {
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function handle(req: IncomingMessage, res: ServerResponse, view: FleetView, files: Map<string, Buffer>, clients: Set<SseClient>): void {
  const path = (req.url ?? "/").split("?")[0];
  const known = STATIC.has(path) || path === "/events" || path === "/snapshot.json";
  if (!known) return text(res, 404, `not found: ${path.slice(0, MAX_ECHOED_PATH_CHARS)}`);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return text(res, 405, `method ${req.method} not allowed on ${path}: GET only`);
  }
  const s = STATIC.get(path);
  if (s !== undefined) {
    const body = files.get(path)!;
    res.writeHead(200, { "Content-Type": s.type, "Content-Length": body.length, "Cache-Control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  if (path === "/snapshot.json") {
    const body = Buffer.from(JSON.stringify(view.snapshot()));
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length, "Cache-Control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  if (req.method === "HEAD") {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    res.end();
    return;
  }
  const c = new SseClient(res, view, () => clients.delete(c));
  clients.add(c);
}

function text(res: ServerResponse, status: number, line: string): void {
  if (line.includes("\n")) throw new Error("a one-line body with a newline in it");
  const body = Buffer.from(`${line}\n`);
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}
