// The bench's fleet case: the WAN (2000 kbit/s, 80 ms RTT) and
// 100 Mbit/s LAN ports, the real-sized 7961 load, one seed. Shared by the
// tables (run.ts) and the plot (modes-plot.ts), so both show the same fleet.

import type { FleetOptions } from "../host/sim/fleet.js";

export const BENCH_CASE: Partial<FleetOptions> = { load: "cp7961-9.4.2", wanKbps: 2000, wanRttMs: 80, lanMbps: 100, seed: 7 };
