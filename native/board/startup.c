/* Reset and faults of a Cortex-M board: the vector table, the reset handler
 * (data copied, bss zeroed, the program's stack painted, then board_main
 * on that stack), and fault handlers that say what happened in one line and
 * end the run. Handlers run on their own stack (MSP), the program on its
 * own (PSP, B1.4.7), so even a stack overflow is reported, not a lockup. Addresses
 * and layouts are those of the ARMv7-M Architecture Reference Manual
 * (ARM DDI 0403E), cited by section. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "board_main.h"
#include "semihost.h"
#include "stack_probe.h"

/* B1.5.3: the vector table starts with the initial SP and 15 system
 * exceptions. No interrupt is ever enabled, so no external vector is
 * needed. */
#define SYSTEM_VECTORS 16u
/* B3.2.2, B3.2.15-16, B3.2.18: fault status and address registers. */
#define SCB_CFSR ((volatile uint32_t *)0xe000ed28u)
#define SCB_HFSR ((volatile uint32_t *)0xe000ed2cu)
#define SCB_BFAR ((volatile uint32_t *)0xe000ed38u)
/* A fault ends the run with the status of "could not run" (replay.h). */
#define FAULT_EXIT_STATUS 2

/* From native/board/board.ld. */
extern uint32_t __stack_bottom[], __stack_top[], __handler_stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

void pfs_reset(void);
static void fault(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[SYSTEM_VECTORS])(void) = {
    (void (*)(void))(uintptr_t)__handler_stack_top, /* 0: initial SP (MSP) */
    pfs_reset,                              /* 1: Reset */
    fault,                                  /* 2: NMI */
    fault,                                  /* 3: HardFault */
    fault,                                  /* 4: MemManage */
    fault,                                  /* 5: BusFault */
    fault,                                  /* 6: UsageFault */
    0, 0, 0, 0,                             /* 7-10: reserved */
    fault,                                  /* 11: SVCall */
    fault,                                  /* 12: DebugMonitor */
    0,                                      /* 13: reserved */
    fault,                                  /* 14: PendSV */
    fault,                                  /* 15: SysTick */
};

static void put_hex(char *out, uint32_t v) {
  static const char DIGITS[] = "0123456789abcdef";
  out[0] = '0';
  out[1] = 'x';
  for (int i = 0; i < 8; i++) out[2 + i] = DIGITS[(v >> (28 - 4 * i)) & 15u];
  out[10] = '\0';
}

/* One line through semihosting directly: newlib's stdio may be what
 * faulted. The stack may be gone too, so nothing here needs much of it. */
static void fault(void) {
  uint32_t psp;
  __asm__ volatile("mrs %0, psp" : "=r"(psp));
  char cfsr[11], hfsr[11], bfar[11];
  put_hex(cfsr, *SCB_CFSR);
  put_hex(hfsr, *SCB_HFSR);
  put_hex(bfar, *SCB_BFAR);
  semihost_write0("pfs-replay: the board faulted: CFSR ");
  semihost_write0(cfsr);
  semihost_write0(" HFSR ");
  semihost_write0(hfsr);
  semihost_write0(" BFAR ");
  semihost_write0(bfar);
  bool overflow = psp <= (uintptr_t)__stack_bottom || __stack_bottom[0] != STACK_PAINT_WORD;
  semihost_write0(overflow ? ": the stack overflowed image.stackBytes\n" : "\n");
  semihost_exit(FAULT_EXIT_STATUS);
}

/* B1.4.7 and B5.2.3 (MSR): thread mode switches to the process stack by
 * CONTROL.SPSEL; naked, because the compiler's frame would not survive the
 * switch. board_main's status goes straight to semihost_exit. */
__attribute__((naked, noreturn)) static void run_on_program_stack(void) {
  __asm__ volatile(
      "ldr r0, =__stack_top\n"
      "msr psp, r0\n"
      "movs r0, #2\n" /* CONTROL.SPSEL = 1: thread mode uses PSP */
      "msr control, r0\n"
      "isb\n"
      "bl board_main\n"
      "bl semihost_exit\n");
}

void pfs_reset(void) {
  memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
  memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
  /* We run on the handler stack: the program's is all free to paint. */
  stack_paint(__stack_bottom, __stack_top);
  run_on_program_stack();
}
