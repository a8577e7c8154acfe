// A hierarchy's members as a tree d3.stratify can take: one top node (the
// load server) above the root; a member whose parent is no member, or whose
// parents loop back to it (two phones' reports crossing while one
// re-parents), hangs from the top as an orphan, drawn dashed.

import type { HierarchyView, MemberView } from "../host/view/fleet-snapshot.js";

export const TOP_ID = "server";

export interface TreeDatum {
  id: string;
  parentId: string;
  member: MemberView | null;
  /** Hangs from the top without being root: lost its parent, or a loop. */
  orphan: boolean;
}

export function treeData(h: HierarchyView): TreeDatum[] {
  const byMac = new Map(h.members.map((m) => [m.mac, m]));
  const out: TreeDatum[] = [{ id: TOP_ID, parentId: "", member: null, orphan: false }];
  for (const m of h.members) {
    const ok = m.role !== "root" && m.parent !== "" && byMac.has(m.parent) && !loops(m, byMac);
    out.push({ id: m.mac, parentId: ok ? m.parent : TOP_ID, member: m, orphan: !ok && m.role !== "root" });
  }
  if (out.length !== h.members.length + 1) throw new Error("tree data lost a member");
  return out;
}

/** Following parents from `m` comes back to `m` (or to another loop). */
function loops(m: MemberView, byMac: Map<string, MemberView>): boolean {
  const seen = new Set<string>([m.mac]);
  let at = m;
  for (let i = 0; i <= byMac.size; i++) {
    if (at.role === "root" || at.parent === "") return false;
    const next = byMac.get(at.parent);
    if (next === undefined) return false;
    if (seen.has(next.mac)) return true;
    seen.add(next.mac);
    at = next;
  }
  return true;
}
