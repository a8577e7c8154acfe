/* One guarded wrapper per export of pfs.wasm (docs/ABI.md 3), in the
 * order of that section. Each returns 0 (does nothing) once the instance
 * has trapped; see pfs_core.h. wasm2c passes i32 as u32 and f64 as double:
 * the casts here only reinterpret bits, as docs/ABI.md's conventions say. */
#include "embed_guard.h"

/* CALL(c, result type, export, args...): the guarded call of that export. */
#define CALL(c, R, name, ...) PFS_GUARDED_CALL(c, #name, R, 0, Z_pfsZ_##name(&(c)->wasm, ##__VA_ARGS__))
#define CALL_VOID(c, name, ...) PFS_GUARDED_VOID(c, #name, Z_pfsZ_##name(&(c)->wasm, ##__VA_ARGS__))

#define U(x) ((u32)(x))

/* 3.1 set-up */
int32_t pfs_abiVersion(pfs_core *c) { CALL(c, int32_t, abiVersion); }
uint32_t pfs_configPtr(pfs_core *c) { CALL(c, uint32_t, configPtr); }
int32_t pfs_configWords(pfs_core *c) { CALL(c, int32_t, configWords); }
int32_t pfs_init(pfs_core *c) { CALL(c, int32_t, init); }
uint32_t pfs_inboxPtr(pfs_core *c) { CALL(c, uint32_t, inboxPtr); }
int32_t pfs_inboxBytes(pfs_core *c) { CALL(c, int32_t, inboxBytes); }

/* 3.2 inputs */
uint32_t pfs_xidOf(pfs_core *c, int32_t modelLen, int32_t fileLen) { CALL(c, uint32_t, xidOf, U(modelLen), U(fileLen)); }
int32_t pfs_need(pfs_core *c, double nowMs, int32_t modelLen, int32_t fileLen, uint32_t sizeBytes, uint32_t heldBytes,
                 uint32_t flags) {
  CALL(c, int32_t, need, nowMs, U(modelLen), U(fileLen), sizeBytes, heldBytes, flags);
}
int32_t pfs_setHeld(pfs_core *c, double nowMs, int32_t slot, uint32_t heldBytes, uint32_t flags) {
  CALL(c, int32_t, setHeld, nowMs, U(slot), heldBytes, flags);
}
int32_t pfs_release(pfs_core *c, double nowMs, int32_t slot) { CALL(c, int32_t, release, nowMs, U(slot)); }
void pfs_onDatagram(pfs_core *c, double nowMs, uint32_t src, int32_t len) { CALL_VOID(c, onDatagram, nowMs, src, U(len)); }
int32_t pfs_onStreamAccept(pfs_core *c, double nowMs, uint32_t peer) { CALL(c, int32_t, onStreamAccept, nowMs, peer); }
void pfs_onStreamConnected(pfs_core *c, double nowMs, int32_t handle) {
  CALL_VOID(c, onStreamConnected, nowMs, U(handle));
}
int32_t pfs_onStreamData(pfs_core *c, double nowMs, int32_t handle, int32_t len) {
  CALL(c, int32_t, onStreamData, nowMs, U(handle), U(len));
}
int32_t pfs_rxWindow(pfs_core *c, int32_t handle) { CALL(c, int32_t, rxWindow, U(handle)); }
uint32_t pfs_rxPtr(pfs_core *c) { CALL(c, uint32_t, rxPtr); }
void pfs_onStreamRx(pfs_core *c, double nowMs, int32_t handle, int32_t len) {
  CALL_VOID(c, onStreamRx, nowMs, U(handle), U(len));
}
void pfs_onWriteDone(pfs_core *c, double nowMs, int32_t handle, int32_t len) {
  CALL_VOID(c, onWriteDone, nowMs, U(handle), U(len));
}
void pfs_onFlashWritten(pfs_core *c, double nowMs, int32_t slot, int32_t len) {
  CALL_VOID(c, onFlashWritten, nowMs, U(slot), U(len));
}
void pfs_onFlashRead(pfs_core *c, double nowMs, int32_t handle, uint32_t tag, int32_t len) {
  CALL_VOID(c, onFlashRead, nowMs, U(handle), tag, U(len));
}
void pfs_onStreamClosed(pfs_core *c, double nowMs, int32_t handle) { CALL_VOID(c, onStreamClosed, nowMs, U(handle)); }
void pfs_onTimer(pfs_core *c, double nowMs) { CALL_VOID(c, onTimer, nowMs); }

/* 3.4 outputs */
double pfs_nextDeadlineMs(pfs_core *c) { CALL(c, double, nextDeadlineMs); }
uint32_t pfs_outboxPtr(pfs_core *c) { CALL(c, uint32_t, outboxPtr); }
int32_t pfs_outboxLen(pfs_core *c) { CALL(c, int32_t, outboxLen); }
void pfs_outboxClear(pfs_core *c) { CALL_VOID(c, outboxClear); }

/* 3.5 state queries, counters, heap mark */
int32_t pfs_hierCapacity(pfs_core *c) { CALL(c, int32_t, hierCapacity); }
int32_t pfs_hierRole(pfs_core *c, int32_t slot) { CALL(c, int32_t, hierRole, U(slot)); }
uint32_t pfs_hierXid(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierXid, U(slot)); }
uint32_t pfs_hierStrength(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierStrength, U(slot)); }
int32_t pfs_hierDepth(pfs_core *c, int32_t slot) { CALL(c, int32_t, hierDepth, U(slot)); }
uint32_t pfs_hierParent(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierParent, U(slot)); }
uint32_t pfs_hierChild(pfs_core *c, int32_t slot, int32_t i) { CALL(c, uint32_t, hierChild, U(slot), U(i)); }
uint32_t pfs_hierSubtreeSize(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierSubtreeSize, U(slot)); }
uint32_t pfs_hierSubtreeHeight(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierSubtreeHeight, U(slot)); }
uint32_t pfs_hierPathAt(pfs_core *c, int32_t slot, int32_t i) { CALL(c, uint32_t, hierPathAt, U(slot), U(i)); }
uint32_t pfs_hierHeld(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierHeld, U(slot)); }
uint32_t pfs_hierTotal(pfs_core *c, int32_t slot) { CALL(c, uint32_t, hierTotal, U(slot)); }
int32_t pfs_hierVerified(pfs_core *c, int32_t slot) { CALL(c, int32_t, hierVerified, U(slot)); }
uint32_t pfs_blockBytes(pfs_core *c) { CALL(c, uint32_t, blockBytes); }
int32_t pfs_streamsOpen(pfs_core *c) { CALL(c, int32_t, streamsOpen); }
uint32_t pfs_malformedDatagrams(pfs_core *c) { CALL(c, uint32_t, malformedDatagrams); }
uint32_t pfs_malformedFrames(pfs_core *c) { CALL(c, uint32_t, malformedFrames); }
uint32_t pfs_staleHandles(pfs_core *c) { CALL(c, uint32_t, staleHandles); }
uint32_t pfs_outboxDroppedRecords(pfs_core *c) { CALL(c, uint32_t, outboxDroppedRecords); }
uint32_t pfs_corruptBlocks(pfs_core *c) { CALL(c, uint32_t, corruptBlocks); }
uint32_t pfs_refetchedBytes(pfs_core *c) { CALL(c, uint32_t, refetchedBytes); }
int32_t pfs_heapMark(pfs_core *c) { CALL(c, int32_t, heapMark); }
