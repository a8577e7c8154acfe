// Checkers: after a run (and while sampling convergence) every live phone is
// compared against the truth read out of the cores: one confirmed root per
// hierarchy, parent and child links that agree from both ends, no cycles, at
// most two children, depth within ceil(log2(n+1)) + 1, every phone attached.

import { MAX_CHILDREN, Role } from "../core/abi.js";
import { indexOf, SimPhone } from "./world.js";

export interface HierarchyReport {
  xid: string;
  model: string;
  file: string;
  size: number;
  members: number;
  roots: number;
  attached: number;
  maxDepth: number;
  depthBound: number;
  maxChildren: number;
}

export interface CheckReport {
  live: number;
  orphans: number;
  maxChildren: number;
  hierarchies: HierarchyReport[];
  errors: string[];
}

export interface HierarchyInfo {
  xid: number;
  model: string;
  file: string;
  sizeBytes: number;
}

/** The depth bound the issue sets for a hierarchy of n phones (root at 0). */
export function depthBound(n: number): number {
  return Math.ceil(Math.log2(n + 1)) + 1;
}

export const xidName = (xid: number): string => `XID${(xid >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;

interface Node {
  phone: number;
  role: number;
  parent: number; // phone index or -1
  children: number[];
}

/** Reads every live member of every hierarchy out of the cores and checks the
 *  invariants. With `final` false it only counts (used for sampling). */
export function checkFleet(phones: SimPhone[], hierarchies: HierarchyInfo[], final: boolean): CheckReport {
  const errors: string[] = [];
  const notAttached = new Set<number>();
  let live = 0;
  let maxChildrenAll = 0;
  for (const p of phones) if (p.alive) live++;
  const reports: HierarchyReport[] = [];
  for (const h of hierarchies) {
    const nodes = new Map<number, Node>();
    for (const p of phones) {
      if (!p.alive || p.core === null) continue;
      const slot = p.slots.get(h.xid);
      if (slot === undefined) continue;
      const x = p.core.x;
      const role = x.hierRole(slot);
      const parentAddr = x.hierParent(slot) >>> 0;
      const children: number[] = [];
      for (let i = 0; i < MAX_CHILDREN; i++) {
        const c = x.hierChild(slot, i) >>> 0;
        if (c !== 0) children.push(indexOf(c));
      }
      nodes.set(p.index, { phone: p.index, role, parent: parentAddr === 0 ? -1 : indexOf(parentAddr), children });
    }
    const name = xidName(h.xid);
    let roots = 0;
    let maxChildren = 0;
    for (const n of nodes.values()) {
      if (n.role === Role.Root) roots++;
      maxChildren = Math.max(maxChildren, n.children.length);
    }
    // Depth of each node that reaches a confirmed root over agreeing links.
    const depth = new Map<number, number>();
    const resolve = (start: Node): number => {
      const path: Node[] = [];
      let cur: Node | undefined = start;
      let base = -1;
      const seen = new Set<number>();
      while (cur !== undefined) {
        const known = depth.get(cur.phone);
        if (known !== undefined) {
          base = known;
          break;
        }
        if (seen.has(cur.phone)) {
          if (final) errors.push(`${name}: cycle through phone ${cur.phone}`);
          break;
        }
        seen.add(cur.phone);
        if (cur.role === Role.Root) {
          depth.set(cur.phone, 0);
          base = 0;
          break;
        }
        path.push(cur);
        if (cur.role !== Role.Attached || cur.parent < 0) break;
        const parent = nodes.get(cur.parent);
        if (parent === undefined || !parent.children.includes(cur.phone)) break; // dead or disagreeing parent
        cur = parent;
      }
      if (base < 0) {
        for (const n of path) depth.set(n.phone, -1);
        return depth.get(start.phone)!;
      }
      for (let i = path.length - 1; i >= 0; i--) {
        base = base < 0 ? -1 : base + 1;
        depth.set(path[i].phone, base);
      }
      return depth.get(start.phone)!;
    };
    let attached = 0;
    let maxDepth = 0;
    for (const n of nodes.values()) {
      const d = resolve(n);
      if (d >= 0) {
        attached++;
        maxDepth = Math.max(maxDepth, d);
      } else notAttached.add(n.phone);
    }
    // Every child a phone lists must list it back as parent.
    if (final) {
      for (const n of nodes.values()) {
        for (const c of n.children) {
          const child = nodes.get(c);
          if (child === undefined) errors.push(`${name}: phone ${n.phone} lists dead or foreign child ${c}`);
          else if (child.parent !== n.phone) errors.push(`${name}: phone ${n.phone} lists child ${c} whose parent is ${child.parent}`);
        }
      }
    }
    const bound = depthBound(nodes.size);
    if (final && nodes.size > 0) {
      if (roots !== 1) errors.push(`${name}: ${roots} confirmed roots among ${nodes.size} phones`);
      if (maxChildren > MAX_CHILDREN) errors.push(`${name}: a phone has ${maxChildren} children`);
      if (maxDepth > bound) errors.push(`${name}: depth ${maxDepth} exceeds the bound ${bound} for ${nodes.size} phones`);
      if (attached !== nodes.size) errors.push(`${name}: ${nodes.size - attached} of ${nodes.size} phones not attached`);
    }
    maxChildrenAll = Math.max(maxChildrenAll, maxChildren);
    reports.push({ xid: name, model: h.model, file: h.file, size: h.sizeBytes, members: nodes.size, roots, attached, maxDepth, depthBound: bound, maxChildren });
  }
  return { live, orphans: notAttached.size, maxChildren: maxChildrenAll, hierarchies: reports, errors };
}
