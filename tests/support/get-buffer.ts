// A child process for the memory tests: reads one file whole with
// tftpGetBuffer and prints one JSON line, {ok, bytes} or {ok: false, code,
// message}. Run with tests/support/rss-report.js preloaded, its peak RSS is
// what reading that file cost, apart from the test's own process.
//   node --import rss-report.js get-buffer.js '{"host":...,"port":...,"file":...,"maxBytes":...,"tsize":true}'

import { TftpError, tftpGetBuffer } from "../../host/tftp/client.js";

const opts = JSON.parse(process.argv[2] ?? "{}");
try {
  const bytes = await tftpGetBuffer({ blksize: 1428, ...opts });
  process.stdout.write(JSON.stringify({ ok: true, bytes: bytes.length }) + "\n");
} catch (e) {
  const code = e instanceof TftpError ? e.code : "other";
  process.stdout.write(JSON.stringify({ ok: false, code, message: (e as Error).message }) + "\n");
}
