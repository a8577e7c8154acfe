/* The input records (docs/TRACE.md 2, T_NEED .. T_TIMER): one call into
 * the core each, its bytes read straight from the trace into the inbox,
 * the receive window or a flash-read view, its result compared. */
#include <assert.h>

#include "replay_int.h"

/* Offsets of the fixed fields after `f64 now`, by position. */
#define AT(i) (TR_F64 + (i) * TR_U32)

static status result(replay *r, const char *call, int32_t got, int32_t exp) {
  status s = replay_check_trap(r);
  if (s != PFS_REPLAY_OK) return s;
  if (got != exp) return replay_mismatch(r, "%s returned %d, expected %d", call, (int)got, (int)exp);
  replay_fold_u32(r, r->kind, (uint32_t)got);
  return PFS_REPLAY_OK;
}

/* The rest of the body into the inbox (at most inboxBytes, docs/ABI.md 4.1). */
static status into_inbox(replay *r) {
  uint32_t n = r->body_left, room = (uint32_t)pfs_inboxBytes(&r->core), at = pfs_inboxPtr(&r->core);
  status s = replay_check_trap(r);
  if (s != PFS_REPLAY_OK) return s;
  if (n > room) {
    return replay_malformed(r, "record %u %s: %u bytes do not fit the inbox of %u", (unsigned)r->record,
                            replay_kind_name(r->kind), (unsigned)n, (unsigned)room);
  }
  return body_into_core(r, at, n, "inbox");
}

/* T_NEED: f64 now; i32 exp; u32 size, held, flags, modelLen, fileLen,
 * hashLen; then the model, file and hash bytes. */
static status need(replay *r, const uint8_t *f) {
  uint32_t model = le_u32(f + AT(4)), file = le_u32(f + AT(5)), hash = le_u32(f + AT(6));
  if ((uint64_t)model + file + hash != r->body_left) {
    return replay_malformed(r, "record %u T_NEED: body does not fit its layout", (unsigned)r->record);
  }
  status s = into_inbox(r);
  if (s != PFS_REPLAY_OK) return s;
  int32_t got = pfs_need(&r->core, r->now, (int32_t)model, (int32_t)file, le_u32(f + AT(1)), le_u32(f + AT(2)),
                         le_u32(f + AT(3)));
  return result(r, "need()", got, le_i32(f + AT(0)));
}

/* T_XID: u32 exp; u32 modelLen; u32 fileLen; model, file bytes. */
static status xid(replay *r, const uint8_t *f) {
  uint32_t model = le_u32(f + TR_U32), file = le_u32(f + 2 * TR_U32);
  if ((uint64_t)model + file != r->body_left) {
    return replay_malformed(r, "record %u T_XID: body does not fit its layout", (unsigned)r->record);
  }
  status s = into_inbox(r);
  if (s != PFS_REPLAY_OK) return s;
  uint32_t got = pfs_xidOf(&r->core, (int32_t)model, (int32_t)file), exp = le_u32(f);
  if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
  if (got != exp) return replay_mismatch(r, "xidOf() returned 0x%08x, expected 0x%08x", (unsigned)got, (unsigned)exp);
  replay_fold_u32(r, PFS_T_XID, got);
  return PFS_REPLAY_OK;
}

/* T_RX: f64 now; u32 exp; i32 handle; bytes: rxWindow(), the bytes at
 * rxPtr(), onStreamRx(). */
static status rx(replay *r, const uint8_t *f) {
  int32_t handle = le_i32(f + AT(1));
  uint32_t window = (uint32_t)pfs_rxWindow(&r->core, handle), exp = le_u32(f + AT(0)), n = r->body_left;
  status s = replay_check_trap(r);
  if (s != PFS_REPLAY_OK) return s;
  if (window != exp) return replay_mismatch(r, "rxWindow(%d) is %d, expected %d", (int)handle, (int)window, (int)exp);
  replay_fold_u32(r, PFS_T_RX, window);
  if (n > window) {
    return replay_malformed(r, "record %u T_RX: %u bytes, more than the window of %u", (unsigned)r->record,
                            (unsigned)n, (unsigned)window);
  }
  uint32_t at = pfs_rxPtr(&r->core);
  if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
  if ((s = body_into_core(r, at, n, "receive window")) != PFS_REPLAY_OK) return s;
  pfs_onStreamRx(&r->core, r->now, handle, (int32_t)n);
  return replay_check_trap(r);
}

/* T_FLASH_READ: f64 now; i32 handle; u32 tag; i32 len; bytes, which go to
 * the view of the pending OUT_FLASH_READ with this handle and tag. */
static status flash_read(replay *r, const uint8_t *f) {
  int32_t handle = le_i32(f + AT(0)), len = le_i32(f + AT(2));
  uint32_t tag = le_u32(f + AT(1)), n = r->body_left;
  pending_read *p = pending_find(r, handle, tag);
  if (p == NULL && n > 0) {
    return replay_malformed(r, "record %u T_FLASH_READ: %u bytes for handle %d tag %u, but no such read is pending",
                            (unsigned)r->record, (unsigned)n, (int)handle, (unsigned)tag);
  }
  if (p != NULL) {
    if (n > p->len) {
      return replay_malformed(r, "record %u T_FLASH_READ: %u bytes do not fit the pending read of %u",
                              (unsigned)r->record, (unsigned)n, (unsigned)p->len);
    }
    status s = body_into_core(r, p->ptr, n, "flash read view");
    if (s != PFS_REPLAY_OK) return s;
    p->used = false;
  }
  pfs_onFlashRead(&r->core, r->now, handle, tag, len);
  return replay_check_trap(r);
}

static status call(replay *r, const uint8_t *f) {
  pfs_core *c = &r->core;
  double now = r->now;
  switch (r->kind) {
    case PFS_T_NEED: return need(r, f);
    case PFS_T_RX: return rx(r, f);
    case PFS_T_FLASH_READ: return flash_read(r, f);
    case PFS_T_SET_HELD:
      return result(r, "setHeld()", pfs_setHeld(c, now, le_i32(f + AT(1)), le_u32(f + AT(2)), le_u32(f + AT(3))),
                    le_i32(f + AT(0)));
    case PFS_T_RELEASE: return result(r, "release()", pfs_release(c, now, le_i32(f + AT(1))), le_i32(f + AT(0)));
    case PFS_T_ACCEPT: return result(r, "onStreamAccept()", pfs_onStreamAccept(c, now, le_u32(f + AT(1))), le_i32(f + AT(0)));
    case PFS_T_DATAGRAM: {
      status s = into_inbox(r);
      if (s != PFS_REPLAY_OK) return s;
      pfs_onDatagram(c, now, le_u32(f + AT(0)), le_i32(f + AT(1)));
      break;
    }
    case PFS_T_STREAM_DATA: {
      status s = into_inbox(r);
      if (s != PFS_REPLAY_OK) return s;
      return result(r, "onStreamData()", pfs_onStreamData(c, now, le_i32(f + AT(1)), le_i32(f + AT(2))), le_i32(f + AT(0)));
    }
    case PFS_T_CONNECTED: pfs_onStreamConnected(c, now, le_i32(f + AT(0))); break;
    case PFS_T_WRITE_DONE: pfs_onWriteDone(c, now, le_i32(f + AT(0)), le_i32(f + AT(1))); break;
    case PFS_T_FLASH_WRITTEN: pfs_onFlashWritten(c, now, le_i32(f + AT(0)), le_i32(f + AT(1))); break;
    case PFS_T_CLOSED: pfs_onStreamClosed(c, now, le_i32(f + AT(0))); break;
    case PFS_T_TIMER: pfs_onTimer(c, now); break;
    default: assert(0 && "not an input kind"); break;
  }
  return replay_check_trap(r);
}

status replay_input(replay *r) {
  assert(r->in_core);
  uint8_t f[FIXED_PART_MAX_BYTES];
  uint32_t fixed = replay_fixed_bytes(r->kind);
  assert(fixed <= sizeof f);
  status s = body_read(r, f, fixed);
  if (s != PFS_REPLAY_OK) return s;
  if (r->kind == PFS_T_XID) return xid(r, f);
  /* Every other input starts with f64 now (docs/TRACE.md 2). */
  r->now = le_f64(f);
  r->has_now = true;
  return call(r, f);
}
