// The phone's configuration: SEP<MAC>.cnf.xml and XMLDefault.cnf.xml read and
// written, the PFS precedence over its three levels, the upgrade decision,
// and `pfs loads make` end to end into a temporary TFTP root.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLValidator } from "fast-xml-parser";
import {
  ConfigError, configuredLoad, defaultLoadFor, macOfSepFileName, parseDefaultConfig, parseDeviceConfig, parseLoadServer, parseMac,
  PfsLevel, resolvePfs, resolvePfsLevel, sepFileName, upgradeNeeded, writeDefaultConfig, writeDeviceConfig,
} from "../../host/load/config.js";
import { parseLoads, verifyLoads } from "../../host/load/loads.js";
import { blockList, sha256 } from "../../host/load/blocklist.js";
import { getPreset } from "../../host/load/presets.js";
import { deterministicMacs, parseMacs } from "../../host/load/tftp-root.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const pfs = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/pfs.js"), ...args], { encoding: "utf8", env: { ...process.env, CI: "true" } });

const configError = (message: RegExp) => (e: Error) => {
  assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e.constructor.name}: ${e.message}`);
  assert.match(e.message, message);
  return true;
};

/** Shaped like what a call manager serves (elements nested as on real
 *  systems), with values made up for the test. */
const SEP_XML = `<?xml version="1.0" encoding="UTF-8"?>
<device xsi:type="axl:XIPPhone" ctiid="94">
<fullConfig>true</fullConfig>
<deviceProtocol>SCCP</deviceProtocol>
<sshUserId></sshUserId>
<devicePool>
<name>Branch-7</name>
<callManagerGroup>
<members>
<member priority="0">
<callManager>
<ports><ethernetPhonePort>2000</ethernetPhonePort></ports>
<processNodeName>cm-1.example.net</processNodeName>
</callManager>
</member>
</members>
</callManagerGroup>
</devicePool>
<commonProfile>
<phonePassword></phonePassword>
<backgroundImageAccess>true</backgroundImageAccess>
</commonProfile>
<loadInformation>SCCP41.9-4-2SR2-2S</loadInformation>
<vendorConfig>
<disableSpeaker>false</disableSpeaker>
<!-- set on the device page -->
<peerFirmwareSharing>1</peerFirmwareSharing>
<loadServer>10.20.30.40:6969</loadServer>
<enableCdpSwPort>1</enableCdpSwPort>
</vendorConfig>
<versionStamp>1718000000-2f0c</versionStamp>
</device>
`;

const DEFAULT_XML = `<?xml version="1.0" encoding="UTF-8"?>
<Default>
<callManagerGroup>
<members>
<member priority="0">
<callManager><ports><ethernetPhonePort>2000</ethernetPhonePort></ports><processNodeName>cm-1.example.net</processNodeName></callManager>
</member>
</members>
</callManagerGroup>
<loadInformation307 model="Cisco 7911">SCCP11.9-4-2SR2-2S</loadInformation307>
<loadInformation115 model="Cisco 7941">SCCP41.9-4-2SR2-2S</loadInformation115>
<loadInformation30018 model="Cisco 7961">SCCP41.9-4-2SR2-2S.loads</loadInformation30018>
<loadInformation30006 model="Cisco 7970"></loadInformation30006>
<loadInformation499>P0030801SR02</loadInformation499>
<authenticationURL></authenticationURL>
</Default>
`;

// ---------------------------------------------------------------- SEP<MAC>.cnf.xml

test("a SEP file yields its load, PFS and load server, among everything else it holds", () => {
  assert.deepEqual(parseDeviceConfig(SEP_XML), {
    loadInformation: "SCCP41.9-4-2SR2-2S",
    peerFirmwareSharing: true,
    loadServer: { host: "10.20.30.40", port: 6969 },
  });
  // Bytes too, with a byte-order mark.
  assert.equal(parseDeviceConfig(Buffer.from("\uFEFF" + SEP_XML.replace(">1</peer", ">0</peer"))).peerFirmwareSharing, false);
});

test("missing or empty elements are absent, not errors", () => {
  const doc = (inner: string) => `<device>${inner}</device>`;
  assert.deepEqual(parseDeviceConfig("<device/>"), {});
  assert.deepEqual(parseDeviceConfig(doc("<fullConfig>true</fullConfig>")), {});
  assert.deepEqual(parseDeviceConfig(doc("<loadInformation></loadInformation><vendorConfig></vendorConfig>")), {});
  assert.deepEqual(parseDeviceConfig(doc("<loadInformation>SIP41.9-4-2SR2-2S</loadInformation>")), { loadInformation: "SIP41.9-4-2SR2-2S" });
  assert.deepEqual(parseDeviceConfig(doc("<vendorConfig><peerFirmwareSharing>0</peerFirmwareSharing><loadServer/></vendorConfig>")), { peerFirmwareSharing: false });
  assert.deepEqual(parseDeviceConfig(doc("<vendorConfig><loadServer> tftp.example.net </loadServer></vendorConfig>")), { loadServer: { host: "tftp.example.net" } });
});

test("load servers: host, host:port, [IPv6]:port; anything else says what is wrong", () => {
  assert.deepEqual(parseLoadServer("10.0.0.9"), { host: "10.0.0.9" });
  assert.deepEqual(parseLoadServer("tftp-2.branch.example.net:69"), { host: "tftp-2.branch.example.net", port: 69 });
  assert.deepEqual(parseLoadServer("[2001:db8::7]:6969"), { host: "2001:db8::7", port: 6969 });
  assert.deepEqual(parseLoadServer("[2001:db8::7]"), { host: "2001:db8::7" });
  assert.throws(() => parseLoadServer("2001:db8::7"), configError(/not host or host:port .*brackets/));
  assert.throws(() => parseLoadServer("tftp:0"), configError(/port '0' must be a number from 1 to 65535/));
  assert.throws(() => parseLoadServer("tftp:70000"), configError(/port '70000'/));
  assert.throws(() => parseLoadServer("tftp:http"), configError(/port 'http'/));
  assert.throws(() => parseLoadServer("bad host!"), configError(/'bad host!' is not a host name/));
});

test("bad values and malformed XML give errors that name the file, the element and where", () => {
  const f = "SEP001BD4000001.cnf.xml";
  const cases: Array<[string | Uint8Array, RegExp]> = [
    ["<device><vendorConfig><peerFirmwareSharing>2</peerFirmwareSharing></vendorConfig></device>", /SEP001BD4000001\.cnf\.xml: <vendorConfig>: <peerFirmwareSharing> must be 0 or 1, not '2'/],
    ["<device><vendorConfig><peerFirmwareSharing>true</peerFirmwareSharing></vendorConfig></device>", /must be 0 or 1, not 'true'/],
    ["<device><vendorConfig><loadServer>a b</loadServer></vendorConfig></device>", /<loadServer>: 'a b' is not a host name/],
    ["<device><loadInformation>A</loadInformation><loadInformation>B</loadInformation></device>", /<loadInformation> appears 2 times/],
    ["<device><loadInformation>../../x</loadInformation></device>", /'..\/..\/x' is not a load name/],
    ["<device><loadInformation><x>1</x></loadInformation></device>", /<loadInformation> holds elements/],
    ["<device><vendorConfig>text</vendorConfig></device>", /<vendorConfig> holds text/],
    ["<device>\n  <loadInformation>SCCP41</loadInformation>\n  <vendorConfig>\n</device>", /malformed XML at line 4, column \d+: .*vendorConfig/],
    ["<device><loadInformation>x</device>", /malformed XML at line 1/],
    ["not xml at all", /malformed XML at line 1, column 1/],
    ["", /empty; expected a <device> document/],
    ["<Default><loadInformation>x</loadInformation></Default>", /the root element is <Default>; expected <device>/],
    [Uint8Array.from([0x3c, 0x64, 0xff, 0x3e]), /not UTF-8 text/],
    [new Uint8Array(2 << 20), /bytes; a configuration file is at most/],
  ];
  for (const [xml, message] of cases) {
    assert.throws(() => parseDeviceConfig(xml, f), configError(message), String(message));
    assert.throws(() => parseDeviceConfig(xml, f), configError(/^SEP001BD4000001\.cnf\.xml: /));
  }
});

test("MACs and SEP file names", () => {
  assert.equal(parseMac("00:1b:d4:0a:0b:0c"), "001BD40A0B0C");
  assert.equal(parseMac("001b.d40a.0b0c"), "001BD40A0B0C");
  assert.equal(sepFileName("00-1b-d4-0a-0b-0c"), "SEP001BD40A0B0C.cnf.xml");
  assert.equal(macOfSepFileName("/tftpboot/SEP001BD40A0B0C.cnf.xml"), "001BD40A0B0C");
  assert.equal(macOfSepFileName("SEP001bd40a0b0c.cnf.xml"), undefined, "the name carries upper-case hex");
  assert.throws(() => parseMac("001BD40A0B0"), configError(/not a MAC address/));
  assert.throws(() => parseMac("001BD40A0B0G"), configError(/not a MAC address/));
  assert.deepEqual(deterministicMacs(3), ["001BD4000001", "001BD4000002", "001BD4000003"]);
  assert.equal(deterministicMacs(300)[299], "001BD400012C");
  assert.deepEqual(parseMacs("2"), ["001BD4000001", "001BD4000002"]);
  assert.deepEqual(parseMacs("001122334455, 00:1b:d4:00:00:09"), ["001122334455", "001BD4000009"]);
  assert.throws(() => parseMacs("001122334455,00-11-22-33-44-55"), configError(/listed twice/));
  assert.throws(() => parseMacs("0"), configError(/from 1 to 65536/));
});

test("SEP writer: a <device> root holding <loadInformation> and <vendorConfig>, read back the same", () => {
  const cases = [
    { loadInformation: "SCCP41.9-4-2SR2-2S", peerFirmwareSharing: true, loadServer: { host: "10.1.2.3", port: 69 } },
    { loadInformation: "SIP41.9-4-2SR2-2S", peerFirmwareSharing: false },
    { loadServer: { host: "2001:db8::1", port: 6969 } },
    {},
  ];
  for (const cfg of cases) {
    const xml = writeDeviceConfig({ ...cfg, pfsNote: "set by the device's own configuration page" });
    assert.equal(XMLValidator.validate(xml), true);
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<device>\n/);
    assert.match(xml, /\n  <loadInformation>[^<]*<\/loadInformation>\n  <vendorConfig>\n    <!-- set by the device's own configuration page -->\n    <peerFirmwareSharing>[01]?<\/peerFirmwareSharing>\n    <loadServer>[^<]*<\/loadServer>\n  <\/vendorConfig>\n<\/device>/);
    assert.deepEqual(parseDeviceConfig(xml), cfg);
  }
  assert.match(writeDeviceConfig({ loadInformation: "SIP41.X" }), /<deviceProtocol>SIP<\/deviceProtocol>/);
  assert.match(writeDeviceConfig({ loadInformation: "SCCP41.X" }), /<deviceProtocol>SCCP<\/deviceProtocol>/);
  assert.throws(() => writeDeviceConfig({ loadInformation: "a<b" }), configError(/not a load name/));
  assert.throws(() => writeDeviceConfig({ pfsNote: "a -- b" }), configError(/may not hold '--'/));
  assert.throws(() => writeDeviceConfig({ loadServer: { host: "x", port: 0 } }), configError(/port '0'/));
});

// ---------------------------------------------------------------- XMLDefault.cnf.xml

test("XMLDefault: a default load per device type, found by model", () => {
  const cfg = parseDefaultConfig(DEFAULT_XML);
  assert.deepEqual(cfg.loads, [
    { typeCode: 307, model: "Cisco 7911", loadName: "SCCP11.9-4-2SR2-2S" },
    { typeCode: 115, model: "Cisco 7941", loadName: "SCCP41.9-4-2SR2-2S" },
    { typeCode: 30018, model: "Cisco 7961", loadName: "SCCP41.9-4-2SR2-2S" },
    { typeCode: 499, loadName: "P0030801SR02" },
  ]);
  assert.equal(defaultLoadFor(cfg, "CP-7961G"), "SCCP41.9-4-2SR2-2S");
  assert.equal(defaultLoadFor(cfg, "Cisco 7911"), "SCCP11.9-4-2SR2-2S");
  assert.equal(defaultLoadFor(cfg, "cp-7941g"), "SCCP41.9-4-2SR2-2S");
  assert.equal(defaultLoadFor(cfg, "CP-7970G"), undefined, "an empty entry is no default");
  assert.equal(defaultLoadFor(cfg, "CP-7906G"), undefined);
  assert.deepEqual(parseDefaultConfig("<Default/>"), { loads: [] });
});

test("XMLDefault: errors, and the writer read back the same", () => {
  const f = "XMLDefault.cnf.xml";
  assert.throws(() => parseDefaultConfig("<Default><loadInformation115>A</loadInformation115><loadInformation115>B</loadInformation115></Default>", f), configError(/XMLDefault\.cnf\.xml: <loadInformation115> appears 2 times/));
  assert.throws(() => parseDefaultConfig("<Default><loadInformation115>a b</loadInformation115></Default>", f), configError(/'a b' is not a load name/));
  assert.throws(() => parseDefaultConfig("<Default><loadInformation115 model='x'>A</Default>", f), configError(/malformed XML at line 1/));
  assert.throws(() => parseDefaultConfig(SEP_XML, f), configError(/root element is <device>; expected <Default>/));
  const cfg = { loads: [
    { typeCode: 30018, model: "Cisco 7961", loadName: "SCCP41.9-4-2SR2-2S" },
    { typeCode: 115, model: "Cisco 7941", loadName: "SCCP41.9-4-2SR2-2S" },
    { typeCode: 7, loadName: "P0030801SR02" },
  ] };
  const xml = writeDefaultConfig(cfg);
  assert.equal(XMLValidator.validate(xml), true);
  assert.match(xml, /<Default>\n  <loadInformation7>P0030801SR02<\/loadInformation7>\n  <loadInformation115 model="Cisco 7941">SCCP41\.9-4-2SR2-2S<\/loadInformation115>\n/);
  assert.deepEqual(parseDefaultConfig(xml).loads, [...cfg.loads].sort((a, b) => a.typeCode - b.typeCode));
  assert.throws(() => writeDefaultConfig({ loads: [cfg.loads[0], cfg.loads[0]] }), configError(/two defaults for device type 30018/));
});

// ---------------------------------------------------------------- precedence

test("PFS precedence: the device page, else the common phone profile, else the enterprise default, else off (all 27)", () => {
  const U = undefined;
  // enterprise, common phone profile, device page -> PFS, the level that decided
  const table: Array<[boolean | undefined, boolean | undefined, boolean | undefined, boolean, PfsLevel]> = [
    [U, U, U, false, "default"],
    [false, U, U, false, "enterprise"],
    [true, U, U, true, "enterprise"],
    [U, false, U, false, "commonProfile"],
    [false, false, U, false, "commonProfile"],
    [true, false, U, false, "commonProfile"],
    [U, true, U, true, "commonProfile"],
    [false, true, U, true, "commonProfile"],
    [true, true, U, true, "commonProfile"],
    [U, U, false, false, "device"],
    [false, U, false, false, "device"],
    [true, U, false, false, "device"],
    [U, false, false, false, "device"],
    [false, false, false, false, "device"],
    [true, false, false, false, "device"],
    [U, true, false, false, "device"],
    [false, true, false, false, "device"],
    [true, true, false, false, "device"],
    [U, U, true, true, "device"],
    [false, U, true, true, "device"],
    [true, U, true, true, "device"],
    [U, false, true, true, "device"],
    [false, false, true, true, "device"],
    [true, false, true, true, "device"],
    [U, true, true, true, "device"],
    [false, true, true, true, "device"],
    [true, true, true, true, "device"],
  ];
  const key = (v: boolean | undefined) => (v === undefined ? "-" : v ? "1" : "0");
  assert.equal(new Set(table.map(([e, p, d]) => key(e) + key(p) + key(d))).size, 27, "every combination once");
  for (const [e, p, d, enabled, level] of table) {
    const row = `enterprise ${key(e)} profile ${key(p)} device ${key(d)}`;
    assert.equal(resolvePfs(e, p, d), enabled, row);
    assert.deepEqual(resolvePfsLevel(e, p, d), { enabled, level }, row);
  }
});

// ---------------------------------------------------------------- upgrade

test("upgrade needed exactly when the configured load differs from the running one", () => {
  assert.equal(upgradeNeeded("SCCP41.9-4-2SR2-2S", "SCCP41.9-3-1SR1-1S"), true);
  assert.equal(upgradeNeeded("SCCP41.9-4-2SR2-2S", "SCCP41.9-4-2SR2-2S"), false);
  assert.equal(upgradeNeeded("SCCP41.9-4-2SR2-2S.loads", " SCCP41.9-4-2SR2-2S"), false, "the same load however written");
  assert.equal(upgradeNeeded("SCCP41.9-4-2SR2-2S", "SIP41.9-4-2SR2-2S"), true, "another protocol is another load");
  assert.equal(upgradeNeeded(undefined, "SCCP41.9-3-1SR1-1S"), false, "nothing configured: stay");
  assert.equal(upgradeNeeded("", "SCCP41.9-3-1SR1-1S"), false);
  assert.equal(upgradeNeeded("SCCP41.9-4-2SR2-2S", undefined), true, "a blank phone takes the configured load");

  const defaults = parseDefaultConfig(DEFAULT_XML);
  const own = parseDeviceConfig(SEP_XML);
  assert.deepEqual(configuredLoad(own, defaults, "CP-7961G"), { loadName: "SCCP41.9-4-2SR2-2S", from: "device" });
  assert.deepEqual(configuredLoad({}, defaults, "CP-7911G"), { loadName: "SCCP11.9-4-2SR2-2S", from: "default" });
  assert.deepEqual(configuredLoad(undefined, defaults, "CP-7961G"), { loadName: "SCCP41.9-4-2SR2-2S", from: "default" });
  assert.equal(configuredLoad({}, defaults, "CP-7970G"), undefined);
  assert.equal(configuredLoad({}, undefined, "CP-7961G"), undefined);
});

// ---------------------------------------------------------------- pfs loads make

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "pfs-loads-"));
}

test("pfs loads make: a signed TFTP root whose index matches every file and block list, and SEP files with resolved PFS", () => {
  const dir = tempDir();
  try {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const keyFile = join(dir, "signer.pem");
    writeFileSync(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }));
    const out = join(dir, "tftp");
    const macs = ["001BD400000A", "001BD400000B", "001BD400000C", "001BD400000D"];
    const r = pfs("loads", "make", "--out", out, "--model", "CP-7961G", "--load", "SCCP41.9-4-2SR2-2S", "--preset", "cp7961-9.4.2",
      "--macs", "00:1b:d4:00:00:0a,001BD400000B,001bd400000c,001BD400000D",
      "--pfs-enterprise", "0", "--pfs-profile", "1", "--pfs-device", "001BD400000B=0,00:1B:D4:00:00:0C=1",
      "--sign-key", keyFile);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /SCCP41\.9-4-2SR2-2S\.loads: \d+ bytes, 5 components, signed with Ed25519 key id [0-9a-f]{16}/);
    assert.match(r.stdout, /SEP001BD400000B\.cnf\.xml: peerFirmwareSharing 0: set by the device's own configuration page/);

    const preset = getPreset("cp7961-9.4.2");
    const names = preset.components.map((c) => c.stem);
    const expected = ["SCCP41.9-4-2SR2-2S.loads", "XMLDefault.cnf.xml", ...names, ...names.map((n) => n + ".blk"), ...macs.map((m) => `SEP${m}.cnf.xml`)];
    assert.deepEqual(readdirSync(out).sort(), expected.sort(), "every file, and nothing else");

    const indexBytes = new Uint8Array(readFileSync(join(out, "SCCP41.9-4-2SR2-2S.loads")));
    const index = parseLoads(indexBytes);
    assert.equal(index.loadName, "SCCP41.9-4-2SR2-2S");
    assert.equal(index.signed, true);
    assert.equal(verifyLoads(indexBytes, publicKey), true);
    assert.equal(verifyLoads(indexBytes, generateKeyPairSync("ed25519").publicKey), false);
    assert.deepEqual(index.components.map((c) => c.name), names, "in the order a phone fetches them");
    for (const [i, c] of index.components.entries()) {
      const file = new Uint8Array(readFileSync(join(out, c.name)));
      const blk = new Uint8Array(readFileSync(join(out, c.name + ".blk")));
      assert.equal(file.length, preset.components[i].sizeBytes, `${c.name}: the real size`);
      assert.equal(c.sizeBytes, file.length, `${c.name}: size`);
      assert.deepEqual(c.sha256, sha256(file), `${c.name}: SHA-256`);
      assert.deepEqual(blk, blockList(file), `${c.name}.blk is the block list`);
      assert.equal(blk.length, Math.ceil(file.length / 16384) * 32);
      assert.deepEqual(c.listSha256, sha256(blk), `${c.name}: block-list SHA-256`);
    }

    const defaults = parseDefaultConfig(readFileSync(join(out, "XMLDefault.cnf.xml")));
    assert.deepEqual(defaults.loads, [{ typeCode: 30018, model: "Cisco 7961", loadName: "SCCP41.9-4-2SR2-2S" }]);
    // Enterprise 0, profile 1; B set 0 and C set 1 on their own pages.
    const want: Record<string, [boolean, RegExp]> = {
      "001BD400000A": [true, /peerFirmwareSharing 1: set by the common phone profile/],
      "001BD400000B": [false, /peerFirmwareSharing 0: set by the device's own configuration page/],
      "001BD400000C": [true, /peerFirmwareSharing 1: set by the device's own configuration page/],
      "001BD400000D": [true, /peerFirmwareSharing 1: set by the common phone profile/],
    };
    for (const mac of macs) {
      const xml = readFileSync(join(out, `SEP${mac}.cnf.xml`), "utf8");
      const cfg = parseDeviceConfig(xml, `SEP${mac}.cnf.xml`);
      assert.equal(cfg.loadInformation, "SCCP41.9-4-2SR2-2S");
      assert.equal(cfg.peerFirmwareSharing, want[mac][0], mac);
      assert.match(xml, want[mac][1], mac);
      assert.deepEqual(configuredLoad(cfg, defaults, "CP-7961G"), { loadName: "SCCP41.9-4-2SR2-2S", from: "device" });
      assert.equal(upgradeNeeded(cfg.loadInformation, "SCCP41.9-3-1SR1-1S"), true);
      assert.equal(upgradeNeeded(cfg.loadInformation, index.loadName), false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pfs loads make: N deterministic phones of another model, unsigned, PFS off when no level sets it", () => {
  const dir = tempDir();
  try {
    const r = pfs("loads", "make", "--out", dir, "--model", "CP-7911G", "--preset", "tiny", "--macs", "3");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /SCCP11\.TINY\.loads: \d+ bytes, 3 components, unsigned/);
    assert.match(r.stdout, /3 decided by no level \(off\)/);
    const index = parseLoads(new Uint8Array(readFileSync(join(dir, "SCCP11.TINY.loads"))));
    assert.equal(index.signed, false);
    assert.deepEqual(index.components.map((c) => c.name), ["jar11sccp.tiny.sbn", "cnu11.tiny.sbn", "apps11.tiny.sbn"]);
    for (const c of index.components) assert.equal(readFileSync(join(dir, c.name)).length, c.sizeBytes);
    assert.equal(defaultLoadFor(parseDefaultConfig(readFileSync(join(dir, "XMLDefault.cnf.xml"))), "CP-7911G"), "SCCP11.TINY");
    for (const mac of deterministicMacs(3)) {
      const xml = readFileSync(join(dir, `SEP${mac}.cnf.xml`), "utf8");
      assert.equal(parseDeviceConfig(xml).peerFirmwareSharing, false);
      assert.match(xml, /set at no level/);
    }
    // The enterprise default alone turns it on.
    const r2 = pfs("loads", "make", "--out", dir, "--model", "CP-7911G", "--preset", "tiny", "--macs", "2", "--pfs-enterprise", "1");
    assert.equal(r2.status, 0, r2.stderr);
    const xml = readFileSync(join(dir, "SEP001BD4000002.cnf.xml"), "utf8");
    assert.equal(parseDeviceConfig(xml).peerFirmwareSharing, true);
    assert.match(xml, /set by the enterprise phone configuration/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pfs loads: wrong arguments say what is wrong and how to fix it, and exit 2", () => {
  const dir = tempDir();
  try {
    const rsa = join(dir, "rsa.pem");
    writeFileSync(rsa, generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }));
    const notKey = join(dir, "junk.pem");
    writeFileSync(notKey, "hello\n");
    const out = join(dir, "out");
    const make = (...a: string[]) => ["loads", "make", ...a];
    const cases: Array<[string[], RegExp]> = [
      [["loads"], /^pfs loads: a subcommand is needed: make/],
      [["loads", "frob"], /^pfs loads: unknown command 'frob'/],
      [make("--macs", "2"), /--out is required/],
      [make("--out", out), /--macs is required/],
      [make("--out", out, "--macs", "00112233445"), /--macs: '00112233445' is not a MAC address/],
      [make("--out", out, "--macs", "0"), /--macs: a phone count must be a whole number from 1 to 65536/],
      [make("--out", out, "--macs", "2", "--model", "CP-9999"), /--model: unknown phone model 'CP-9999' \(boards define: .*CP-7961G/],
      [make("--out", out, "--macs", "2", "--preset", "nope"), /--preset: unknown load preset 'nope' \(try one of: cp7961-9\.4\.2, [^)]*tiny\)/],
      [make("--out", out, "--macs", "2", "--load", "../x"), /--load: '..\/x' is not a load name/],
      [make("--out", out, "--macs", "2", "--pfs-enterprise", "yes"), /--pfs-enterprise must be 0 \(off\) or 1 \(on\), not 'yes'/],
      [make("--out", out, "--macs", "2", "--pfs-profile", "2"), /--pfs-profile must be 0 \(off\) or 1 \(on\)/],
      [make("--out", out, "--macs", "2", "--pfs-device", "001BD4000001"), /--pfs-device: '001BD4000001' needs the form MAC=0 or MAC=1/],
      [make("--out", out, "--macs", "2", "--pfs-device", "001BD4000001=on"), /the setting must be 0 or 1, not 'on'/],
      [make("--out", out, "--macs", "2", "--pfs-device", "001BD4000009=1"), /--pfs-device: 001BD4000009 is not one of the phones given by --macs/],
      [make("--out", out, "--macs", "2", "--pfs-device", "001BD4000001=1,001bd4000001=0"), /001BD4000001 is given twice/],
      [make("--out", out, "--macs", "2", "--sign-key", join(dir, "missing.pem")), /--sign-key: cannot read '.*missing\.pem': ENOENT/],
      [make("--out", out, "--macs", "2", "--sign-key", notKey), /--sign-key: '.*junk\.pem' holds no private key in PEM/],
      [make("--out", out, "--macs", "2", "--sign-key", rsa), /holds a rsa key; \.loads indexes are signed with Ed25519 \(openssl genpkey -algorithm ed25519/],
      [make("--out", out, "--macs", "2", "--bogus"), /^pfs loads make: unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = pfs(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr + r.stdout, message, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: one line: ${r.stderr}`);
      assert.match(r.stderr, / \(see pfs loads( make)? --help\)\n$/, `${args.join(" ")} says where the help is`);
    }
    assert.deepEqual(readdirSync(dir).sort(), ["junk.pem", "rsa.pem"], "nothing written after a wrong argument");
    const help = pfs("loads", "make", "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--pfs-device <list> +PFS on devices' own pages/);
    assert.match(pfs("--help").stdout, /loads +write a TFTP root/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
