/* Bounds-checked access to an instance's linear memory (pfs_core.h). Every
 * range is checked in 64 bits, so ptr + len cannot wrap. */
#include <assert.h>
#include <string.h>

#include "pfs_core.h"

/* docs/ABI.md conventions: multi-byte values in core memory are
 * little-endian, WebAssembly's own byte order. */
#define U32_BYTES 4u

uint32_t pfs_mem_size(const pfs_core *c) {
  assert(c != NULL);
  return c->open ? c->wasm.w2c_memory.size : 0;
}

bool pfs_mem_in(const pfs_core *c, uint32_t ptr, uint32_t len) {
  return (uint64_t)ptr + len <= pfs_mem_size(c);
}

uint8_t *pfs_mem_span(pfs_core *c, uint32_t ptr, uint32_t len) {
  if (!pfs_mem_in(c, ptr, len) || c->wasm.w2c_memory.data == NULL) return NULL;
  return c->wasm.w2c_memory.data + ptr;
}

bool pfs_mem_read(const pfs_core *c, uint32_t ptr, void *dst, uint32_t len) {
  assert(dst != NULL || len == 0);
  if (!pfs_mem_in(c, ptr, len)) return false;
  if (len > 0) memcpy(dst, c->wasm.w2c_memory.data + ptr, len);
  return true;
}

bool pfs_mem_write(pfs_core *c, uint32_t ptr, const void *src, uint32_t len) {
  assert(src != NULL || len == 0);
  uint8_t *to = pfs_mem_span(c, ptr, len);
  if (to == NULL) return false;
  if (len > 0) memcpy(to, src, len);
  return true;
}

bool pfs_mem_load_u32(const pfs_core *c, uint32_t ptr, uint32_t *out) {
  assert(out != NULL);
  uint8_t b[U32_BYTES];
  if (!pfs_mem_read(c, ptr, b, U32_BYTES)) return false;
  *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return true;
}

bool pfs_mem_store_u32(pfs_core *c, uint32_t ptr, uint32_t value) {
  uint8_t b[U32_BYTES] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
  return pfs_mem_write(c, ptr, b, U32_BYTES);
}
