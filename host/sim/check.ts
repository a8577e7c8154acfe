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

const NOT_MEMBER = -2;
const UNKNOWN = -3;
const DETACHED = -1;

/** Reads every live member of every hierarchy out of the cores and checks the
 *  invariants. With `final` false it only counts (used for sampling, so it
 *  works on flat typed arrays: it runs every 100 ms of virtual time). */
export function checkFleet(phones: SimPhone[], hierarchies: HierarchyInfo[], final: boolean): CheckReport {
  const errors: string[] = [];
  const n = phones.length;
  const notAttached = new Uint8Array(n);
  const role = new Int32Array(n);
  const parent = new Int32Array(n);
  const child = new Int32Array(n * MAX_CHILDREN);
  const depth = new Int32Array(n);
  const stack = new Int32Array(n + 1);
  let live = 0;
  let maxChildrenAll = 0;
  for (const p of phones) if (p.alive) live++;
  const reports: HierarchyReport[] = [];
  for (const h of hierarchies) {
    const name = xidName(h.xid);
    role.fill(NOT_MEMBER);
    let members = 0;
    let roots = 0;
    let maxChildren = 0;
    for (const p of phones) {
      // A rogue is an attacker, not a member: the honest phones route
      // around it (it may even stay the root of a tree nobody follows).
      if (!p.alive || p.core === null || p.rogue) continue;
      const slot = p.slots.get(h.xid);
      if (slot === undefined) continue;
      const x = p.core.x;
      const i = p.index;
      const r = x.hierRole(slot);
      if (r === Role.Idle) continue; // it lingered and left: it needs nothing more
      members++;
      role[i] = r;
      if (role[i] === Role.Root) roots++;
      const pa = x.hierParent(slot) >>> 0;
      parent[i] = pa === 0 ? -1 : indexOf(pa);
      let kids = 0;
      for (let k = 0; k < MAX_CHILDREN; k++) {
        const c = x.hierChild(slot, k) >>> 0;
        child[i * MAX_CHILDREN + k] = c === 0 ? -1 : indexOf(c);
        if (c !== 0) kids++;
      }
      maxChildren = Math.max(maxChildren, kids);
    }
    // Children as the children see it: a phone named as parent by more than
    // two phones has too many, whatever it lists itself.
    const claimed = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (role[i] !== NOT_MEMBER && parent[i] >= 0 && parent[i] < n) claimed[parent[i]]++;
    }
    for (let i = 0; i < n; i++) if (claimed[i] > maxChildren) maxChildren = claimed[i];
    const isChildOf = (c: number, p: number): boolean => {
      for (let k = 0; k < MAX_CHILDREN; k++) if (child[p * MAX_CHILDREN + k] === c) return true;
      return false;
    };
    // Depth of each member that reaches a confirmed root over links that both
    // ends agree on; DETACHED otherwise.
    depth.fill(UNKNOWN);
    let attached = 0;
    let maxDepth = 0;
    for (let s = 0; s < n; s++) {
      if (role[s] === NOT_MEMBER || depth[s] !== UNKNOWN) continue;
      let top = 0;
      let cur = s;
      let base = DETACHED;
      for (;;) {
        if (depth[cur] !== UNKNOWN) {
          base = depth[cur];
          break;
        }
        if (role[cur] === Role.Root) {
          depth[cur] = 0;
          base = 0;
          break;
        }
        if (top > n) {
          if (final) errors.push(`${name}: cycle through phone ${cur}`);
          break;
        }
        stack[top++] = cur;
        depth[cur] = DETACHED; // provisional: a walk that comes back here is a cycle
        const p = parent[cur];
        if (role[cur] !== Role.Attached || p < 0 || role[p] === NOT_MEMBER || !isChildOf(cur, p)) break;
        if (depth[p] === DETACHED && role[p] !== Role.Root) {
          // p is on this walk (a cycle) or already known detached
          let onWalk = false;
          for (let k = 0; k < top; k++) if (stack[k] === p) onWalk = true;
          if (onWalk && final) errors.push(`${name}: cycle through phone ${p}`);
          break;
        }
        cur = p;
      }
      for (let k = top - 1; k >= 0; k--) {
        base = base < 0 ? DETACHED : base + 1;
        depth[stack[k]] = base;
      }
    }
    for (let i = 0; i < n; i++) {
      if (role[i] === NOT_MEMBER) continue;
      if (depth[i] >= 0) {
        attached++;
        if (depth[i] > maxDepth) maxDepth = depth[i];
      } else notAttached[i] = 1;
    }
    if (final) {
      for (let i = 0; i < n; i++) {
        if (role[i] === NOT_MEMBER) continue;
        for (let k = 0; k < MAX_CHILDREN; k++) {
          const c = child[i * MAX_CHILDREN + k];
          if (c < 0) continue;
          if (c >= n || role[c] === NOT_MEMBER) errors.push(`${name}: phone ${i} lists dead or foreign child ${c}`);
          else if (parent[c] !== i) errors.push(`${name}: phone ${i} lists child ${c} whose parent is ${parent[c]}`);
        }
      }
    }
    const bound = depthBound(members);
    if (final && members > 0) {
      if (roots !== 1) errors.push(`${name}: ${roots} confirmed roots among ${members} phones`);
      if (maxChildren > MAX_CHILDREN) errors.push(`${name}: a phone has ${maxChildren} children`);
      if (maxDepth > bound) errors.push(`${name}: depth ${maxDepth} exceeds the bound ${bound} for ${members} phones`);
      if (attached !== members) errors.push(`${name}: ${members - attached} of ${members} phones not attached`);
    }
    maxChildrenAll = Math.max(maxChildrenAll, maxChildren);
    reports.push({ xid: name, model: h.model, file: h.file, size: h.sizeBytes, members, roots, attached, maxDepth, depthBound: bound, maxChildren });
  }
  let orphans = 0;
  for (let i = 0; i < n; i++) orphans += notAttached[i];
  return { live, orphans, maxChildren: maxChildrenAll, hierarchies: reports, errors };
}
