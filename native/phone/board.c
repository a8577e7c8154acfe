/* Board lookup in the generated table (board.h). */
#include "board.h"

#include <string.h>

bool board_find(const char *name, const pfs_board_row **out, pfs_flash_layout *layout, pfs_err *err) {
  for (size_t i = 0; i < PFS_BOARD_COUNT; i++) {
    const pfs_board_row *b = &PFS_BOARDS[i];
    if (strcmp(b->name, name) != 0) continue;
    if (!b->has_flash) return pfs_fail(err, "--board %s: board %s: \"flash\" has no sectorBytes", name, name);
    pfs_err why = {{0}};
    if (!pfs_flash_layout_make(layout, b->sector_bytes, b->slot_bytes, b->record_sectors, &why)) {
      return pfs_fail(err, "--board %s: %s", name, why.text);
    }
    *out = b;
    return true;
  }
  char known[PFS_ERR_BYTES / 2] = "";
  for (size_t i = 0; i < PFS_BOARD_COUNT; i++) {
    size_t at = strlen(known);
    snprintf(known + at, sizeof known - at, "%s%s", i == 0 ? "" : ", ", PFS_BOARDS[i].name);
  }
  return pfs_fail(err, "--board %s: board %s not found in boards/ (try one of: %s)", name, name, known);
}
