/* Stack high-water by painting: fill a stack with a known word before it
 * is used, and afterwards find the deepest word that changed. Stacks grow
 * down on both our targets (x86-64 SysV ABI, Arm AAPCS). */
#ifndef PFS_STACK_PROBE_H
#define PFS_STACK_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* An unlikely value for a stack word to hold. */
#define STACK_PAINT_WORD 0x5afe57acu

/* Paints [low, high) (word-aligned). */
static inline void stack_paint(uint32_t *low, uint32_t *high) {
  for (volatile uint32_t *p = low; p < high; p++) *p = STACK_PAINT_WORD;
}

/* The lowest address in [low, high) that no longer holds the paint:
 * everything from there up was used. high when nothing was. */
static inline uintptr_t stack_deepest(const uint32_t *low, const uint32_t *high) {
  const volatile uint32_t *p = low;
  while (p < high && *p == STACK_PAINT_WORD) p++;
  return (uintptr_t)p;
}

#endif
