/* Arm semihosting calls the board uses directly. References are to Arm's
 * "Semihosting for AArch32 and AArch64", release 2.0, by operation name;
 * QEMU implements it with -semihosting-config enable=on. newlib's rdimon
 * does the rest (files, console) through the same trap. */
#ifndef PFS_SEMIHOST_H
#define PFS_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* Operation numbers, as each operation's heading gives them. */
#define SEMIHOST_SYS_WRITE0 0x04u
#define SEMIHOST_SYS_GET_CMDLINE 0x15u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
/* ADP_Stopped_ApplicationExit, the reason code of a normal end (SYS_EXIT);
 * with SYS_EXIT_EXTENDED the second word is then the exit status. */
#define SEMIHOST_APPLICATION_EXIT 0x20026u

/* The call itself: on M-profile, BKPT 0xAB with the operation in r0 and
 * the parameter in r1; the result comes back in r0 ("The semihosting
 * interface", Thumb on M-profile). */
uintptr_t semihost_call(uint32_t op, const void *param);
/* Writes a NUL-terminated string to the debug console. */
void semihost_write0(const char *s);
/* The command line QEMU got as arg=...,arg=... joined by spaces, into buf;
 * its length, or -1. */
int semihost_cmdline(char *buf, size_t room);
/* Ends the program with this exit status (QEMU exits with it). */
__attribute__((noreturn)) void semihost_exit(int status);

#endif
