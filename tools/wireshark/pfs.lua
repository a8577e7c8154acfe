-- PFS (open Peer Firmware Sharing) for Wireshark and tshark: the datagrams
-- (UDP) and stream frames (TCP) of docs/PROTOCOL.md on port 4051.
--
--   tshark -X lua_script:tools/wireshark/pfs.lua -r cap.pcap
--   (or copy this file to ~/.local/lib/wireshark/plugins/)
--
-- Checks mirror the reference decoder (assembly/wire.ts decodeDatagram and
-- decodeFrame, assembly/stream.ts streamCommit) and stop at the same first
-- failure, so a message the core would count and drop is flagged here with
-- the core's reason (expert info, group Malformed, severity Error) instead of
-- being shown as if it were valid. Nothing a packet holds may raise a Lua
-- error: every read goes through a bounds-checked reader. docs/WIRESHARK.md
-- lists the fields.

-- ------------------------------------------------------------ numbers

-- The PFS port, UDP and TCP (docs/PROTOCOL.md §2); the preference below
-- moves it (a test fleet runs on a free port).
local PFS_PORT = 4051
local MAGIC = 0x5046 -- "PF" (§4.1, JOIN §5.2)
local VERSION = 1
local DGRAM_HEADER_BYTES = 8 -- magic, version, type, xid (§4.1)
local CANDIDATE_BYTES = 10 -- §4.5
local FRAME_LEN_BYTES = 2 -- the length prefix of every frame (§5.1)
local DATA_HEADER_BYTES = 7 -- length, type, offset (§5.7)
-- limits.ts MAX_WIRE_CANDIDATES: candidates in ROOT_AD and REFUSE.
local MAX_WIRE_CANDIDATES = 4
-- limits.ts MAX_SUBTREE_CANDIDATES: candidates in UP.
local MAX_SUBTREE_CANDIDATES = 2
-- limits.ts MAX_DEPTH: longest path; childDepth and subtreeHeight bound.
local MAX_DEPTH = 24
-- limits.ts MAX_CHILDREN: the largest `free` of a candidate.
local MAX_CHILDREN = 2
-- limits.ts MAX_FRAME_BYTES: the largest control frame body stream.ts accepts.
local MAX_FRAME_BYTES = 256
-- relay.ts BLOCK_BYTES: a protocol constant, also the largest DATA payload.
local BLOCK_BYTES = 16384
-- stream.ts rejects a length prefix above this as soon as it is in (§5.1).
local MAX_BODY_BYTES = MAX_FRAME_BYTES + BLOCK_BYTES
-- A DATA body needs its type, its 4-byte offset and one payload byte (§5.1).
local MIN_DATA_BODY_BYTES = DATA_HEADER_BYTES - FRAME_LEN_BYTES + 1
-- pinfo.port_type values (epan/address.h port_type: PT_TCP, PT_UDP).
local PT_TCP = 2
local PT_UDP = 3

local T = { SOLICIT = 0x01, CLAIM = 0x02, ROOT_AD = 0x03,
  JOIN = 0x10, ACCEPT = 0x11, REFUSE = 0x12, DOWN = 0x13, UP = 0x14, DATA = 0x15 }
local TYPE_NAMES = {}
for name, v in pairs(T) do TYPE_NAMES[v] = name end
local REFUSE_REASONS = { [1] = "FULL", [2] = "NOT_MEMBER", [3] = "CYCLE", [4] = "TOO_DEEP" }

-- The core's malformed-input reasons (assembly/wire.ts BAD_*), with two of
-- our own for what only a capture can lack.
local BAD = { SHORT = 1, MAGIC = 2, VERSION = 3, TYPE = 4, COUNT = 5, LENGTH = 6, FIELD = 7, FRAME_SIZE = 8,
  CAPTURE_CUT = 100, STREAM_CUT = 101 }

-- ------------------------------------------------------------ protocol, fields

local pfs = Proto("pfs", "PFS (open Peer Firmware Sharing)")
pfs.prefs.port = Pref.uint("Port", PFS_PORT, "UDP and TCP port of PFS")

local F = {
  magic = ProtoField.uint16("pfs.magic", "Magic", base.HEX),
  version = ProtoField.uint8("pfs.version", "Version", base.DEC),
  type = ProtoField.uint8("pfs.type", "Type", base.HEX, TYPE_NAMES),
  xid = ProtoField.uint32("pfs.xid", "XID", base.HEX),
  strength = ProtoField.uint32("pfs.strength", "Strength", base.HEX),
  confirmed = ProtoField.bool("pfs.strength.confirmed", "Confirmed root", 32, nil, 0x80000000),
  verified = ProtoField.bool("pfs.strength.verified", "Holds the file verified", 32, nil, 0x40000000),
  held = ProtoField.uint32("pfs.strength.held", "Held share (of 16383)", base.DEC, nil, 0x3fff0000),
  tiebreak = ProtoField.uint32("pfs.strength.tiebreak", "Tie-break", base.HEX, nil, 0x0000ffff),
  ad = ProtoField.uint8("pfs.ad", "Ad", base.DEC),
  flags = ProtoField.uint8("pfs.flags", "Flags", base.HEX),
  move = ProtoField.bool("pfs.flags.move", "MOVE (re-parenting)", 8, nil, 0x01),
  size = ProtoField.uint32("pfs.size", "File size", base.DEC),
  count = ProtoField.uint8("pfs.count", "Candidates", base.DEC),
  cand = ProtoField.bytes("pfs.cand", "Candidate"),
  cand_addr = ProtoField.ipv4("pfs.cand.addr", "Address"),
  cand_depth = ProtoField.uint8("pfs.cand.depth", "Child depth", base.DEC),
  cand_free = ProtoField.uint8("pfs.cand.free", "Free slots (0: a hint)", base.DEC),
  cand_strength = ProtoField.uint32("pfs.cand.strength", "Strength", base.HEX),
  best = ProtoField.bytes("pfs.best", "Best slot outside the subtree"),
  len = ProtoField.uint16("pfs.len", "Body length", base.DEC),
  subtree_size = ProtoField.uint16("pfs.subtree_size", "Subtree size", base.DEC),
  subtree_height = ProtoField.uint8("pfs.subtree_height", "Subtree height", base.DEC),
  offset = ProtoField.uint32("pfs.offset", "Offset", base.DEC),
  path_len = ProtoField.uint8("pfs.path_len", "Path length", base.DEC),
  path = ProtoField.ipv4("pfs.path", "Ancestor"),
  reason = ProtoField.uint8("pfs.reason", "Refusal reason", base.DEC, REFUSE_REASONS),
  payload = ProtoField.bytes("pfs.payload", "Payload"),
  payload_len = ProtoField.uint32("pfs.payload_len", "Payload length", base.DEC),
}
local fields = {}
for _, f in pairs(F) do fields[#fields + 1] = f end
pfs.fields = fields

-- The text of each failure, also shown in the Info column.
local BAD_TEXT = {
  [BAD.SHORT] = "truncated: a field runs past the end of the message",
  [BAD.MAGIC] = "bad magic",
  [BAD.VERSION] = "bad version",
  [BAD.TYPE] = "unknown message type",
  [BAD.COUNT] = "a count exceeds its limit",
  [BAD.LENGTH] = "bytes after the last field",
  [BAD.FIELD] = "a field out of its range",
  [BAD.FRAME_SIZE] = "frame length out of bounds",
  [BAD.CAPTURE_CUT] = "cut short by the capture (snapshot length)",
  [BAD.STREAM_CUT] = "the stream ends inside a frame",
}
local BAD_ABBR = { [BAD.SHORT] = "pfs.short", [BAD.MAGIC] = "pfs.bad_magic", [BAD.VERSION] = "pfs.bad_version",
  [BAD.TYPE] = "pfs.bad_type", [BAD.COUNT] = "pfs.bad_count", [BAD.LENGTH] = "pfs.bad_length",
  [BAD.FIELD] = "pfs.bad_field", [BAD.FRAME_SIZE] = "pfs.bad_frame_size", [BAD.CAPTURE_CUT] = "pfs.capture_cut",
  [BAD.STREAM_CUT] = "pfs.stream_cut" }
local E = {
  after_error = ProtoExpert.new("pfs.after_error", "After a protocol error on this stream: not decoded (the receiver closes the stream)",
    expert.group.SEQUENCE, expert.severity.WARN),
  incomplete = ProtoExpert.new("pfs.incomplete", "Frame continues in a later segment (turn on tcp.desegment_tcp_streams)",
    expert.group.REASSEMBLE, expert.severity.WARN),
}
for code, abbr in pairs(BAD_ABBR) do
  E[code] = ProtoExpert.new(abbr, BAD_TEXT[code], expert.group.MALFORMED, expert.severity.ERROR)
end
local experts = {}
for _, e in pairs(E) do experts[#experts + 1] = e end
pfs.experts = experts

local f_tcp_stream = Field.new("tcp.stream")
local f_tcp_fin = Field.new("tcp.flags.fin")
local f_tcp_reset = Field.new("tcp.flags.reset")

-- ------------------------------------------------------------ reader

-- Reads a message of `stop - start` bytes (its length on the wire) from a
-- tvb of which only `captured` bytes may be present. take() returns nil and
-- a reason instead of ever asking the tvb for bytes it lacks.
local Reader = {}
Reader.__index = Reader

local function reader(tvb, start, stop)
  assert(start >= 0 and stop >= start, "reader bounds")
  local cap = math.min(stop, tvb:captured_len())
  return setmetatable({ tvb = tvb, pos = start, stop = stop, cap = cap, start = start }, Reader)
end

function Reader:take(n)
  assert(n > 0, "take of nothing")
  if self.pos + n > self.stop then return nil, BAD.SHORT end
  if self.pos + n > self.cap then return nil, BAD.CAPTURE_CUT end
  local r = self.tvb(self.pos, n)
  self.pos = self.pos + n
  return r
end

function Reader:remaining() return self.stop - self.pos end

-- The bytes from `from` to the end of what was captured (for highlighting);
-- nil when there are none.
function Reader:rest(from)
  from = from or self.pos
  if from >= self.cap then return nil end
  return self.tvb(from, self.cap - from)
end

-- A failure: the reason, the bytes it is about, and a detail for the text.
local function fail(code, range, detail) return { code = code, range = range, detail = detail } end

-- ------------------------------------------------------------ fields

local function add_strength(tree, r, field)
  local rng, why = r:take(4)
  if rng == nil then return nil, fail(why) end
  local item = tree:add(field or F.strength, rng)
  if field == nil then
    item:add(F.confirmed, rng)
    item:add(F.verified, rng)
    item:add(F.held, rng)
    item:add(F.tiebreak, rng)
  end
  return rng:uint()
end

-- Adds a simple field of `n` bytes; returns its value or nil and a failure.
local function add_uint(tree, r, field, n)
  local rng, why = r:take(n)
  if rng == nil then return nil, fail(why) end
  tree:add(field, rng)
  return rng:uint()
end

local function valid_addr(a) return a ~= 0 and a ~= 0xffffffff end

-- One candidate record (§4.5); `allow_none`: DOWN's best may be all zero.
local function add_candidate(tree, r, field, allow_none)
  local rng, why = r:take(CANDIDATE_BYTES)
  if rng == nil then return fail(why) end
  local addr, depth, free = rng(0, 4):uint(), rng(4, 1):uint(), rng(5, 1):uint()
  local sub = tree:add(field, rng)
  sub:add(F.cand_addr, rng(0, 4))
  sub:add(F.cand_depth, rng(4, 1))
  sub:add(F.cand_free, rng(5, 1))
  sub:add(F.cand_strength, rng(6, 4))
  if allow_none and addr == 0 then
    sub:set_text("Best slot: none")
    if depth ~= 0 or free ~= 0 then return fail(BAD.FIELD, rng, "the no-slot record must be all zero") end
    return nil
  end
  sub:set_text(string.format("%s: %s depth %d free %d", field == F.best and "Best slot" or "Candidate",
    tostring(rng(0, 4):ipv4()), depth, free))
  if not valid_addr(addr) then return fail(BAD.FIELD, rng(0, 4), "address 0 or 255.255.255.255") end
  if depth < 1 or depth > MAX_DEPTH then return fail(BAD.FIELD, rng(4, 1), "childDepth not 1.." .. MAX_DEPTH) end
  if free > MAX_CHILDREN then return fail(BAD.FIELD, rng(5, 1), "free above " .. MAX_CHILDREN) end
  return nil
end

local function add_candidates(tree, r, max)
  local rng, why = r:take(1)
  if rng == nil then return fail(why) end
  tree:add(F.count, rng)
  local n = rng:uint()
  if n > max then return fail(BAD.COUNT, rng, string.format("%d candidates, at most %d", n, max)) end
  for _ = 1, n do
    local bad = add_candidate(tree, r, F.cand, false)
    if bad ~= nil then return bad end
  end
  return nil
end

-- A path (§5.3, §5.5): its length 1..24, then addresses, root first.
local function add_path(tree, r)
  local rng, why = r:take(1)
  if rng == nil then return fail(why) end
  tree:add(F.path_len, rng)
  local n = rng:uint()
  if n > MAX_DEPTH then return fail(BAD.COUNT, rng, string.format("path of %d, at most %d", n, MAX_DEPTH)) end
  for _ = 1, n do
    local a, why2 = r:take(4)
    if a == nil then return fail(why2) end
    tree:add(F.path, a)
    if not valid_addr(a:uint()) then return fail(BAD.FIELD, a, "path entry 0 or 255.255.255.255") end
  end
  if n < 1 then return fail(BAD.FIELD, rng, "path length 0: the sender itself ends a path") end
  return nil
end

-- ------------------------------------------------------------ messages

-- Each body decoder reads the fields after the type byte (and, for a
-- datagram, the XID) and returns nil or a failure, plus text for Info.

local function body_solicit(t, r)
  local s, bad = add_strength(t, r)
  if s == nil then return bad end
  return nil, string.format("strength=%08x", s)
end

local function body_claim(t, r)
  local s, bad = add_strength(t, r)
  if s == nil then return bad end
  local ad, bad2 = add_uint(t, r, F.ad, 1)
  if ad == nil then return bad2 end
  local fl, bad3 = add_uint(t, r, F.flags, 1)
  if fl == nil then return bad3 end
  return nil, string.format("strength=%08x ad=%d", s, ad)
end

local function body_root_ad(t, r)
  local s, bad = add_strength(t, r)
  if s == nil then return bad end
  local size, bad2 = add_uint(t, r, F.size, 4)
  if size == nil then return bad2 end
  local info = string.format("strength=%08x size=%d", s, size)
  return add_candidates(t, r, MAX_WIRE_CANDIDATES), info
end

local function body_join(t, r)
  local m, bad = add_uint(t, r, F.magic, 2)
  if m == nil then return bad end
  if m ~= MAGIC then return fail(BAD.MAGIC, nil, string.format("0x%04x", m)) end
  local v, bad2 = add_uint(t, r, F.version, 1)
  if v == nil then return bad2 end
  if v ~= VERSION then return fail(BAD.VERSION, nil, tostring(v)) end
  local xid, bad3 = add_uint(t, r, F.xid, 4)
  if xid == nil then return bad3 end
  local s, bad4 = add_strength(t, r)
  if s == nil then return bad4 end
  local rng, why = r:take(1)
  if rng == nil then return fail(why) end
  t:add(F.flags, rng):add(F.move, rng)
  local size, bad5 = add_uint(t, r, F.subtree_size, 2)
  if size == nil then return bad5 end
  local h, bad6 = add_uint(t, r, F.subtree_height, 1)
  if h == nil then return bad6 end
  local off, bad7 = add_uint(t, r, F.offset, 4)
  if off == nil then return bad7 end
  local info = string.format("XID%08X strength=%08x%s offset=%d", xid, s, rng:uint() % 2 == 1 and " MOVE" or "", off)
  if h > MAX_DEPTH then return fail(BAD.FIELD, nil, "subtreeHeight above " .. MAX_DEPTH), info end
  return nil, info
end

local function body_accept(t, r)
  local xid, bad = add_uint(t, r, F.xid, 4)
  if xid == nil then return bad end
  local s, bad2 = add_strength(t, r)
  if s == nil then return bad2 end
  return add_path(t, r), string.format("XID%08X strength=%08x", xid, s)
end

local function body_refuse(t, r)
  local xid, bad = add_uint(t, r, F.xid, 4)
  if xid == nil then return bad end
  local why, bad2 = add_uint(t, r, F.reason, 1)
  if why == nil then return bad2 end
  return add_candidates(t, r, MAX_WIRE_CANDIDATES),
    string.format("XID%08X %s", xid, REFUSE_REASONS[why] or ("reason " .. why))
end

local function body_down(t, r)
  local xid, bad = add_uint(t, r, F.xid, 4)
  if xid == nil then return bad end
  local info = string.format("XID%08X", xid)
  local bad2 = add_path(t, r)
  if bad2 ~= nil then return bad2, info end
  return add_candidate(t, r, F.best, true), info
end

local function body_up(t, r)
  local xid, bad = add_uint(t, r, F.xid, 4)
  if xid == nil then return bad end
  local s, bad2 = add_strength(t, r)
  if s == nil then return bad2 end
  local size, bad3 = add_uint(t, r, F.subtree_size, 2)
  if size == nil then return bad3 end
  local h, bad4 = add_uint(t, r, F.subtree_height, 1)
  if h == nil then return bad4 end
  local info = string.format("XID%08X strength=%08x subtree=%d", xid, s, size)
  if h > MAX_DEPTH then return fail(BAD.FIELD, nil, "subtreeHeight above " .. MAX_DEPTH), info end
  return add_candidates(t, r, MAX_SUBTREE_CANDIDATES), info
end

local DATAGRAM_BODIES = { [T.SOLICIT] = body_solicit, [T.CLAIM] = body_claim, [T.ROOT_AD] = body_root_ad }
local FRAME_BODIES = { [T.JOIN] = body_join, [T.ACCEPT] = body_accept, [T.REFUSE] = body_refuse,
  [T.DOWN] = body_down, [T.UP] = body_up }

-- Flags `bad` on `t` (the message's subtree) and returns Info text for it.
local function flag(t, r, bad)
  assert(E[bad.code] ~= nil, "a failure without an expert")
  local text = BAD_TEXT[bad.code] .. (bad.detail and (" (" .. bad.detail .. ")") or "")
  local range = bad.range or r:rest(r.start)
  if range ~= nil then
    t:add_tvb_expert_info(E[bad.code], range, text)
  else
    t:add_proto_expert_info(E[bad.code], text)
  end
  return " [malformed: " .. text .. "]"
end

-- After the fields: the message must end exactly where its length says (6).
local function check_end(r, bad)
  if bad == nil and r:remaining() ~= 0 then
    return fail(BAD.LENGTH, r:rest(), string.format("%d extra", r:remaining()))
  end
  return bad
end

-- ------------------------------------------------------------ UDP

local function dissect_datagram(tvb, pinfo, tree)
  local len = tvb:reported_len()
  local t = tree:add(pfs, tvb(0, math.min(len, tvb:captured_len())))
  local r = reader(tvb, 0, len)
  local name, info, bad = "datagram", "", nil
  if len < DGRAM_HEADER_BYTES then
    bad = fail(BAD.SHORT, nil, string.format("%d bytes, a header is %d", len, DGRAM_HEADER_BYTES))
  else
    local m, v, ty, xid
    m, bad = add_uint(t, r, F.magic, 2)
    if m ~= nil and m ~= MAGIC then bad = fail(BAD.MAGIC, nil, string.format("magic 0x%04x", m)) end
    if bad == nil then v, bad = add_uint(t, r, F.version, 1) end
    if bad == nil and v ~= VERSION then bad = fail(BAD.VERSION, nil, "version " .. v) end
    if bad == nil then ty, bad = add_uint(t, r, F.type, 1) end
    if bad == nil then xid, bad = add_uint(t, r, F.xid, 4) end
    if bad == nil and DATAGRAM_BODIES[ty] == nil then
      bad = fail(BAD.TYPE, nil, string.format("datagram type 0x%02x", ty))
    elseif bad == nil then
      name = TYPE_NAMES[ty]
      local body_info
      bad, body_info = DATAGRAM_BODIES[ty](t, r)
      info = string.format(" XID%08X", xid) .. (body_info and (" " .. body_info) or "")
      bad = check_end(r, bad)
    end
  end
  t:append_text(", " .. name)
  if bad ~= nil then info = info .. flag(t, r, bad) end
  pinfo.cols.protocol = "PFS"
  pinfo.cols.info = name .. info
  return len
end

-- ------------------------------------------------------------ TCP

-- Stream directions that broke the protocol: the first packet number of
-- the failure. The receiver closes such a stream (§5.9), so what follows
-- in that direction is not framed any more and is not decoded.
local broken = {}

local function direction_key(pinfo)
  local stream = f_tcp_stream()
  return string.format("%s:%s:%d", stream and tostring(stream.value) or "?", tostring(pinfo.src), pinfo.src_port)
end

function pfs.init()
  broken = {}
end

-- A DATA frame (§5.7): its head is in; the payload is shown, not decoded.
local function body_data(t, r, body_len)
  local off, bad = add_uint(t, r, F.offset, 4)
  if off == nil then return bad end
  local n = body_len - (DATA_HEADER_BYTES - FRAME_LEN_BYTES)
  t:add(F.payload_len, n):set_generated()
  local info = string.format("offset=%d len=%d", off, n)
  if n > BLOCK_BYTES then return fail(BAD.FIELD, nil, string.format("payload %d, at most %d", n, BLOCK_BYTES)), info end
  local rng, why = r:take(n)
  if rng == nil then return fail(why), info end
  t:add(F.payload, rng)
  return nil, info
end

-- One whole frame of `body_len` at `at` (the length prefix); returns Info text.
local function dissect_frame(tvb, at, body_len, tree)
  local t = tree:add(pfs, tvb(at, math.min(FRAME_LEN_BYTES + body_len, tvb:captured_len() - at)))
  local r = reader(tvb, at, at + FRAME_LEN_BYTES + body_len)
  t:add(F.len, r:take(FRAME_LEN_BYTES))
  local ty, bad = add_uint(t, r, F.type, 1)
  local name, info = "frame", ""
  if bad == nil then
    name = TYPE_NAMES[ty] or string.format("type 0x%02x", ty)
    local body_info
    if ty == T.DATA then
      bad, body_info = body_data(t, r, body_len)
    elseif body_len > MAX_FRAME_BYTES then
      -- stream.ts checks the size of any frame but DATA before its type.
      bad = fail(BAD.FRAME_SIZE, nil, string.format("a %d-byte body, at most %d", body_len, MAX_FRAME_BYTES))
    elseif FRAME_BODIES[ty] ~= nil then
      bad, body_info = FRAME_BODIES[ty](t, r)
    else
      bad = fail(BAD.TYPE, nil, string.format("frame type 0x%02x", ty))
    end
    if body_info ~= nil then info = " " .. body_info end
    bad = check_end(r, bad)
  end
  t:append_text(", " .. name)
  if bad ~= nil then return name .. info .. flag(t, r, bad), true end
  return name .. info, false
end

-- The framing of one segment: the length prefix of the frame at `at`, or
-- why it cannot be a frame (stream.ts streamCommit's checks, in its order).
-- Returns the body length, or nil and a failure.
local function frame_length(tvb, at, present)
  local body = tvb(at, FRAME_LEN_BYTES):uint()
  local len_range = tvb(at, FRAME_LEN_BYTES)
  if body == 0 or body > MAX_BODY_BYTES then
    return nil, fail(BAD.FRAME_SIZE, len_range, string.format("length %d, not 1..%d", body, MAX_BODY_BYTES))
  end
  if present > FRAME_LEN_BYTES and tvb(at + FRAME_LEN_BYTES, 1):uint() == T.DATA and body < MIN_DATA_BODY_BYTES then
    return nil, fail(BAD.FRAME_SIZE, tvb(at, FRAME_LEN_BYTES + 1),
      string.format("DATA of length %d, at least %d", body, MIN_DATA_BODY_BYTES))
  end
  return body
end

-- The rest of the segment from `at` cannot be framed: flag it, and remember
-- that this direction of the stream is broken from this packet on.
local function give_up(tvb, pinfo, tree, at, bad, key)
  local t = tree:add(pfs, tvb(at, tvb:captured_len() - at))
  t:append_text(", unframed bytes")
  local r = reader(tvb, at, tvb:reported_len())
  if key ~= nil and broken[key] == nil then broken[key] = pinfo.number end
  return "frame" .. flag(t, r, bad)
end

-- Ends of this segment's stream: a FIN or a reset on it means no more bytes.
local function stream_ends()
  local fin, rst = f_tcp_fin(), f_tcp_reset()
  return (fin ~= nil and fin.value) or (rst ~= nil and rst.value)
end

-- The frame at `at` goes past the end of this segment (`short` bytes are
-- missing, or nil: even its length and type are not all here). Asks TCP
-- for more when it can give it; otherwise flags why it cannot. Returns
-- Info text, or nil when the frame waits for the next segment.
local function frame_beyond(tvb, pinfo, tree, at, short, key)
  local captured, reported = tvb:captured_len(), tvb:reported_len()
  if captured < reported then return give_up(tvb, pinfo, tree, at, fail(BAD.CAPTURE_CUT), key) end
  local ends = stream_ends()
  if pinfo.can_desegment > 0 and not ends then
    pinfo.desegment_offset = at
    pinfo.desegment_len = short or DESEGMENT_ONE_MORE_SEGMENT
    return nil
  end
  if ends then
    return give_up(tvb, pinfo, tree, at, fail(BAD.STREAM_CUT, nil,
      string.format("%d bytes of a frame, then the stream ends", reported - at)), key)
  end
  tree:add(pfs, tvb(at, reported - at)):add_proto_expert_info(E.incomplete)
  return "frame continues"
end

-- Every frame of one segment (or of bytes TCP reassembled for us).
local function dissect_stream(tvb, pinfo, tree)
  local key = direction_key(pinfo)
  local captured, reported = tvb:captured_len(), tvb:reported_len()
  pinfo.cols.protocol = "PFS"
  if broken[key] ~= nil and pinfo.number > broken[key] then
    tree:add(pfs, tvb()):add_proto_expert_info(E.after_error)
    pinfo.cols.info = "after a protocol error"
    return reported
  end
  local infos, at = {}, 0
  while at < reported do
    local avail = reported - at
    local present = math.min(avail, captured - at)
    local info
    if present < FRAME_LEN_BYTES + 1 then
      -- The core judges the length as soon as its two bytes are in.
      local bad = present >= FRAME_LEN_BYTES and select(2, frame_length(tvb, at, present)) or nil
      if bad ~= nil then info = give_up(tvb, pinfo, tree, at, bad, key)
      else info = frame_beyond(tvb, pinfo, tree, at, nil, key) end
      infos[#infos + 1] = info
      break
    end
    local body, bad = frame_length(tvb, at, present)
    if body == nil then
      infos[#infos + 1] = give_up(tvb, pinfo, tree, at, bad, key)
      break
    end
    local whole = FRAME_LEN_BYTES + body
    if whole > avail then
      infos[#infos + 1] = frame_beyond(tvb, pinfo, tree, at, whole - avail, key)
      break
    end
    local malformed
    info, malformed = dissect_frame(tvb, at, body, tree)
    infos[#infos + 1] = info
    at = at + whole
    if malformed then
      if broken[key] == nil then broken[key] = pinfo.number end
      break
    end
  end
  if #infos > 0 then pinfo.cols.info = table.concat(infos, ", ") end
  return reported
end

-- ------------------------------------------------------------ registration

function pfs.dissector(tvb, pinfo, tree)
  if pinfo.port_type == PT_UDP then return dissect_datagram(tvb, pinfo, tree) end
  if pinfo.port_type == PT_TCP then return dissect_stream(tvb, pinfo, tree) end
  return 0
end

local registered_port = nil
local function register(port)
  local udp, tcp = DissectorTable.get("udp.port"), DissectorTable.get("tcp.port")
  if registered_port ~= nil then
    udp:remove(registered_port, pfs)
    tcp:remove(registered_port, pfs)
  end
  udp:add(port, pfs)
  tcp:add(port, pfs)
  registered_port = port
end

function pfs.prefs_changed()
  if pfs.prefs.port ~= registered_port then register(pfs.prefs.port) end
end

register(PFS_PORT)
