// Checkers: after a run (and while sampling convergence) every live phone is
// compared against the truth read out of the cores: one confirmed root per
// hierarchy, parent and child links that agree from both ends, no cycles, at
// most two children, depth within ceil(log2(n+1)) + 1, every phone attached.
//
// Rogue phones (attackers) are never excused wholesale. What a rogue may
// legitimately leave behind is named here, and nothing else:
// - the rogue itself: its role, its attachment and the children it lists
//   are not checked; it is an attacker, not a member (an honest phone's way
//   to its root may still run through it, over links both ends agree on);
// - an honest parent may still list a rogue child: it cannot tell, and the
//   rogue takes bytes like anyone;
// - an honest phone may stay under a rogue (the rogue is its parent or an
//   ancestor, up to a rogue root) only when the rogue cannot hurt it: it
//   holds the file verified (it finished before the rogue turned and takes no
//   more bytes), or the hierarchy relays no bytes (a rogue corrupts relayed
//   bytes only). Such a phone counts as attached; the honest phones that are
//   not under a rogue must form one tree with one confirmed root;
// - two roots may stay apart when one avoids the other: it caught bad bytes
//   from it (a rogue, or a bit flipped on a flash read, look alike), and its
//   core then ignores that phone's ROOT_ADs for AVOID_MS, 10 minutes
//   (assembly/avoid.ts; the exemption does not expire: it is looser than the
//   core only in runs that check later than that). Such roots are told
//   by the CORRUPT events of this incarnation (world.ts caughtFrom); a run
//   without rogues or flash faults has none.
// In a direct-mode hierarchy (no PFS) every member is a root of its own,
// with no parent and no child; that is checked instead of the tree.

import { MAX_CHILDREN, Role } from "../core/abi.js";
import { indexOf, SimPhone } from "./world.js";

export interface HierarchyReport {
  xid: string;
  model: string;
  file: string;
  size: number;
  /** Honest members (rogues are not members). */
  members: number;
  /** Confirmed roots among the honest members. */
  roots: number;
  attached: number;
  maxDepth: number;
  depthBound: number;
  maxChildren: number;
  /** Rogue phones taking part in the hierarchy. */
  rogues: number;
  /** Honest members whose way to their root passes a rogue (or ends at one). */
  underRogue: number;
  /** Confirmed roots beyond the first that stay apart because every two of
   *  them have one avoiding the other (0 otherwise). */
  rootsApart: number;
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
  /** Direct mode: every phone fetches alone and joins no tree. */
  direct?: boolean;
}

/** The depth bound the issue sets for a hierarchy of n phones (root at 0). */
export function depthBound(n: number): number {
  return Math.ceil(Math.log2(n + 1)) + 1;
}

export const xidName = (xid: number): string => `XID${(xid >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;

/** The confirmed roots a hierarchy must have: one for the honest phones not
 *  under a rogue, none when there are no such phones (all finished under a
 *  rogue, or every phone that needed the file died); one per member in
 *  direct mode. */
export function rootsWanted(h: HierarchyReport, direct = false): number {
  if (direct) return h.members;
  return (h.members - h.underRogue > 0 ? 1 : 0) + h.rootsApart;
}

/** Whether the trees are as they must be at the end: the convergence test
 *  sampled during a run, the same rules the final check reports. */
export function treesSettled(report: CheckReport, infos: HierarchyInfo[]): boolean {
  if (report.orphans !== 0) return false;
  return report.hierarchies.every((h, k) => h.roots === rootsWanted(h, infos[k]?.direct) && h.maxDepth <= h.depthBound);
}

const NOT_MEMBER = -2;
const UNKNOWN = -3;
const DETACHED = -1;

/** Flat tables for one hierarchy, reused across hierarchies (the sampler
 *  runs every 100 ms of virtual time over thousands of phones). */
class Tables {
  readonly role: Int32Array;
  readonly parent: Int32Array;
  readonly child: Int32Array;
  readonly depth: Int32Array;
  /** 1 when the way to the root passes a rogue (the phone itself excluded). */
  readonly under: Uint8Array;
  readonly rogue: Uint8Array;
  /** 1 when the phone holds the file verified, or the slot relays no bytes. */
  readonly safe: Uint8Array;
  readonly stack: Int32Array;
  constructor(readonly n: number, private readonly phones: SimPhone[]) {
    this.role = new Int32Array(n);
    this.parent = new Int32Array(n);
    this.child = new Int32Array(n * MAX_CHILDREN);
    this.depth = new Int32Array(n);
    this.under = new Uint8Array(n);
    this.rogue = new Uint8Array(n);
    this.safe = new Uint8Array(n);
    this.stack = new Int32Array(n + 1);
  }

  isChildOf(c: number, p: number): boolean {
    for (let k = 0; k < MAX_CHILDREN; k++) if (this.child[p * MAX_CHILDREN + k] === c) return true;
    return false;
  }

  honest(i: number): boolean {
    return this.role[i] !== NOT_MEMBER && this.rogue[i] === 0;
  }

  /** Whether phone a caught bad bytes from phone b (so a avoids b), or b
   *  from a. */
  apart(a: number, b: number): boolean {
    return this.phones[a].caughtFrom?.has(b) === true || this.phones[b].caughtFrom?.has(a) === true;
  }
}

/** Reads every live phone's view of hierarchy `xid` into the tables. */
function readMembers(t: Tables, phones: SimPhone[], xid: number): void {
  t.role.fill(NOT_MEMBER);
  t.rogue.fill(0);
  for (const p of phones) {
    if (!p.alive || p.core === null) continue;
    const slot = p.slots.get(xid);
    if (slot === undefined) continue;
    const x = p.core.x;
    const i = p.index;
    const r = x.hierRole(slot);
    if (r === Role.Idle) continue; // it lingered and left: it needs nothing more
    t.role[i] = r;
    t.rogue[i] = p.rogue ? 1 : 0;
    t.safe[i] = !p.slotFiles.has(slot) || x.hierVerified(slot) === 1 ? 1 : 0;
    const pa = x.hierParent(slot) >>> 0;
    t.parent[i] = pa === 0 ? -1 : indexOf(pa);
    for (let k = 0; k < MAX_CHILDREN; k++) {
      const c = x.hierChild(slot, k) >>> 0;
      t.child[i * MAX_CHILDREN + k] = c === 0 ? -1 : indexOf(c);
    }
  }
}

/** Depth of each member that reaches a confirmed root (honest or rogue) over
 *  links both ends agree on, DETACHED otherwise; and whether that way passes
 *  a rogue. Returns the phones a cycle runs through. */
function walkDepths(t: Tables): number[] {
  const { n, role, parent, depth, under, rogue, stack } = t;
  const cycles: number[] = [];
  depth.fill(UNKNOWN);
  under.fill(0);
  for (let s = 0; s < n; s++) {
    if (role[s] === NOT_MEMBER || depth[s] !== UNKNOWN) continue;
    let top = 0;
    let cur = s;
    let base = DETACHED;
    let taint = 0;
    for (;;) {
      if (depth[cur] !== UNKNOWN) {
        base = depth[cur];
        taint = under[cur] | rogue[cur];
        break;
      }
      if (role[cur] === Role.Root) {
        depth[cur] = 0;
        base = 0;
        taint = rogue[cur];
        break;
      }
      if (top > n) {
        cycles.push(cur);
        break;
      }
      stack[top++] = cur;
      depth[cur] = DETACHED; // provisional: a walk that comes back here is a cycle
      const p = parent[cur];
      if (role[cur] !== Role.Attached || p < 0 || p >= n || role[p] === NOT_MEMBER || !t.isChildOf(cur, p)) break;
      if (depth[p] === DETACHED && role[p] !== Role.Root) {
        // p is on this walk (a cycle) or already known detached
        for (let k = 0; k < top; k++) if (stack[k] === p) cycles.push(p);
        break;
      }
      cur = p;
    }
    for (let k = top - 1; k >= 0; k--) {
      base = base < 0 ? DETACHED : base + 1;
      depth[stack[k]] = base;
      under[stack[k]] = base < 0 ? 0 : taint;
      taint |= rogue[stack[k]];
    }
  }
  return cycles;
}

/** Links an honest phone claims that the other end does not confirm. A
 *  rogue's own lists are its claims, not checked. */
function linkErrors(t: Tables, name: string, errors: string[]): void {
  for (let i = 0; i < t.n; i++) {
    if (!t.honest(i)) continue;
    for (let k = 0; k < MAX_CHILDREN; k++) {
      const c = t.child[i * MAX_CHILDREN + k];
      if (c < 0) continue;
      if (c >= t.n || t.role[c] === NOT_MEMBER) errors.push(`${name}: phone ${i} lists dead or foreign child ${c}`);
      else if (t.parent[c] !== i) errors.push(`${name}: phone ${i} lists child ${c} whose parent is ${t.parent[c]}`);
    }
  }
}

/** Direct mode: each member a root of its own, with no tree links. */
function directErrors(t: Tables, name: string, errors: string[]): void {
  for (let i = 0; i < t.n; i++) {
    if (!t.honest(i)) continue;
    if (t.role[i] !== Role.Root && t.role[i] !== Role.Waiting) errors.push(`${name}: phone ${i} has role ${t.role[i]} in direct mode (not fetching alone)`);
    if (t.parent[i] >= 0 || t.child[i * MAX_CHILDREN] >= 0 || t.child[i * MAX_CHILDREN + 1] >= 0) errors.push(`${name}: phone ${i} has tree links in direct mode`);
  }
}

/** Reads every live member of every hierarchy out of the cores and checks the
 *  invariants. With `final` false it only counts (used for sampling, so it
 *  works on flat typed arrays: it runs every 100 ms of virtual time). */
export function checkFleet(phones: SimPhone[], hierarchies: HierarchyInfo[], final: boolean): CheckReport {
  const errors: string[] = [];
  const n = phones.length;
  const notAttached = new Uint8Array(n);
  const t = new Tables(n, phones);
  let live = 0;
  let maxChildrenAll = 0;
  for (const p of phones) if (p.alive) live++;
  const reports: HierarchyReport[] = [];
  for (const h of hierarchies) {
    const name = xidName(h.xid);
    readMembers(t, phones, h.xid);
    const r = measure(t, h, name, final, notAttached, errors);
    maxChildrenAll = Math.max(maxChildrenAll, r.maxChildren);
    reports.push(r);
  }
  let orphans = 0;
  for (let i = 0; i < n; i++) orphans += notAttached[i];
  return { live, orphans, maxChildren: maxChildrenAll, hierarchies: reports, errors };
}

/** One hierarchy's figures from its tables; with `final`, its errors. */
function measure(t: Tables, h: HierarchyInfo, name: string, final: boolean, notAttached: Uint8Array, errors: string[]): HierarchyReport {
  const n = t.n;
  let members = 0, rogues = 0, maxChildren = 0;
  const roots: number[] = [];
  // Children as the children see it: a phone named as parent by more than
  // two honest phones has too many, whatever it lists itself.
  const claimed = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (t.role[i] === NOT_MEMBER) continue;
    if (t.rogue[i] === 1) {
      rogues++;
      continue;
    }
    members++;
    if (t.role[i] === Role.Root) roots.push(i);
    let kids = 0;
    for (let k = 0; k < MAX_CHILDREN; k++) if (t.child[i * MAX_CHILDREN + k] >= 0) kids++;
    maxChildren = Math.max(maxChildren, kids);
    if (t.parent[i] >= 0 && t.parent[i] < n) claimed[t.parent[i]]++;
  }
  for (let i = 0; i < n; i++) if (claimed[i] > maxChildren) maxChildren = claimed[i];
  const cycles = h.direct ? [] : walkDepths(t);
  if (h.direct) {
    t.under.fill(0);
    for (let i = 0; i < n; i++) t.depth[i] = t.role[i] === Role.Root || t.role[i] === Role.Waiting ? 0 : DETACHED;
  }
  let attached = 0, maxDepth = 0, underRogue = 0;
  const unsafe: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!t.honest(i)) continue;
    if (t.depth[i] < 0) {
      notAttached[i] = 1;
      continue;
    }
    attached++;
    maxDepth = Math.max(maxDepth, t.depth[i]);
    if (t.under[i] === 1) {
      underRogue++;
      if (t.safe[i] === 0) unsafe.push(i);
    }
  }
  // The tree the depths run through includes the rogues on it.
  const bound = depthBound(members + rogues);
  let rootsApart = 0;
  if (!h.direct && roots.length > 1 && roots.every((a, k) => roots.slice(k + 1).every((b) => t.apart(a, b)))) rootsApart = roots.length - 1;
  const report: HierarchyReport = {
    xid: name, model: h.model, file: h.file, size: h.sizeBytes, members, roots: roots.length, attached, maxDepth, depthBound: bound, maxChildren,
    rogues, underRogue, rootsApart,
  };
  if (final) {
    for (const c of new Set(cycles)) errors.push(`${name}: cycle through phone ${c}`);
    if (h.direct) directErrors(t, name, errors);
    else linkErrors(t, name, errors);
    if (members > 0) {
      const want = rootsWanted(report, h.direct);
      if (roots.length !== want) errors.push(`${name}: ${roots.length} confirmed roots among ${members} phones (${want} wanted${underRogue > 0 ? `, ${underRogue} under a rogue` : ""})`);
      if (maxChildren > MAX_CHILDREN) errors.push(`${name}: a phone has ${maxChildren} children`);
      if (maxDepth > bound) errors.push(`${name}: depth ${maxDepth} exceeds the bound ${bound} for ${members + rogues} phones`);
      if (attached !== members) errors.push(`${name}: ${members - attached} of ${members} phones not attached`);
      for (const i of unsafe) errors.push(`${name}: phone ${i} stays under a rogue without holding the file verified`);
    }
  }
  return report;
}
