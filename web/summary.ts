// The header's counts and the WAN bar: bytes fetched from the load server
// so far against one fetch of each model's load (PFS at its best: 100%).

import type { FleetTotals } from "../host/view/fleet-snapshot.js";
import { bytes, el, percent } from "./format.js";

/** WAN bytes include each file's block list (32 bytes of SHA-256 per 16 KiB
 *  block, 0.2%, docs/LOADS.md), which loadBytes does not: 1% over one fetch
 *  is still one fetch. */
const WAN_OVER_FACTOR = 1.01;

export function renderSummary(box: HTMLElement, t: FleetTotals, hierarchies: number): void {
  const parts = [`${t.phones} phones`, `${t.done} done`, `${hierarchies} hierarchies`];
  if (t.dropped + t.rejected > 0) parts.push(`${t.dropped + t.rejected} reports left out`);
  box.textContent = parts.join(" · ");
}

export function renderWan(box: HTMLElement, t: FleetTotals): void {
  box.replaceChildren();
  box.dataset.wanBytes = String(t.wanBytes);
  box.dataset.loadBytes = String(t.loadBytes);
  const bar = el("div", "bar wan-bar");
  const fill = el("div", "fill");
  // Past one fetch per model means some file was read twice: shown in
  // another colour, the bar capped at full.
  fill.style.width = `${percent(t.wanBytes, t.loadBytes)}%`;
  fill.classList.toggle("over", t.wanBytes > t.loadBytes * WAN_OVER_FACTOR);
  bar.append(fill);
  const ratio = t.loadBytes > 0 ? ` (${((t.wanBytes * 100) / t.loadBytes).toFixed(0)}% of one fetch per model)` : "";
  box.append(bar, el("div", "numbers", `${bytes(t.wanBytes)} of ${bytes(t.loadBytes)}${ratio}`));
}
