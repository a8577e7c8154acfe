// A phone's boots within one process, and the trial of a new load
// (docs/FLASH.md, "Trial boot"): each boot starts with the boot loader's
// power-up (AbStore.powerUp: a newly committed load boots once, on trial);
// a boot that committed an upgrade ends by rebooting into it; and a trial
// is confirmed only once the phone has come up on it.
//
// "Come up" means, for this phone: running the trial load, it has fetched
// its configuration (SEP<MAC>.cnf.xml, or XMLDefault.cnf.xml when it has
// none) from its TFTP server and parsed it. That proves what a broken load
// would most likely break: the flash it booted from, its network, its TFTP
// client and its configuration parser. A boot that dies before that (a
// crash, kill -9, a power cut, a server it cannot reach) leaves the trial
// unconfirmed, and the next power-up boots the old load again.

import type { AbStore, BootResult } from "../flash/ab-store.js";
import { slotName } from "../flash/layout.js";
import { flashStep, PhoneError } from "./errors.js";

/** What a boot returns to ask for the next one: it committed a new load. */
export const REBOOT = Symbol("reboot");
export type BootOutcome = number | typeof REBOOT;

/** Boots per process: the factory load, the upgraded one, and room for a
 *  configuration that changed its mind once more while the phone upgraded.
 *  A server that names a new load at every boot is not followed forever. */
export const MAX_BOOTS_PER_RUN = 4;

export type Say = (level: string, text: string) => void;

/** Runs boots until one ends without asking for a reboot. */
export async function bootLoop(store: AbStore, flashPath: string, say: Say, boot: (booted: BootResult) => Promise<BootOutcome>): Promise<number> {
  for (let n = 1; n <= MAX_BOOTS_PER_RUN; n++) {
    const booted = flashStep(flashPath, "boot", () => store.powerUp());
    say("NOT", powerUpLine(booted));
    const outcome = await boot(booted);
    if (outcome !== REBOOT) return outcome;
    say("NOT", `rebooting into the new load (boot ${n + 1} of at most ${MAX_BOOTS_PER_RUN})`);
  }
  throw new PhoneError(`rebooted ${MAX_BOOTS_PER_RUN} times in one run, each into another new load: stopping (the last one is committed on trial)`);
}

export function powerUpLine(b: BootResult): string {
  const load = b.verified ? b.manifest?.loadName : undefined;
  const slot = b.slot === null ? "-" : slotName(b.slot);
  return `booted ${load ?? "(no verified load)"} from slot ${slot}${b.trial ? " on trial (it must come up to be kept)" : ""}: ${b.reason}`;
}

/** Called once the phone has read its configuration from its server: if
 *  this boot is a trial, the load has come up, and is confirmed. */
export function confirmIfTrial(store: AbStore, flashPath: string, say: Say): void {
  if (store.onTrial() === null) return;
  const b = flashStep(flashPath, "confirming the trial load", () => store.confirm());
  say("NOT", `load ${b.manifest?.loadName} came up on trial (its configuration read from the server): confirmed in slot ${b.slot === null ? "-" : slotName(b.slot)}`);
}
