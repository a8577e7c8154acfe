/* The board's program: replays the trace named on the semihosting command
 * line and returns the exit status (native/board/main_board.c). */
#ifndef PFS_BOARD_MAIN_H
#define PFS_BOARD_MAIN_H

int board_main(void);

#endif
