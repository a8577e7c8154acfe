// Flash reads the core asked for and the host has not answered yet
// (docs/TRACE.md section 2, T_DRAIN and T_FLASH_READ): keyed by (handle,
// tag), a newer request with the same key replacing the older. The table is
// bounded like the C replayer's; overflow means a malformed trace.

/** Pending reads kept, as the C replayer keeps (docs/TRACE.md section 2):
 *  more than maxStreams reads can never be pending at once. */
export const MAX_PENDING_READS: i32 = 64;

const handles = new StaticArray<i32>(MAX_PENDING_READS);
const tags = new StaticArray<u32>(MAX_PENDING_READS);
const ptrs = new StaticArray<u32>(MAX_PENDING_READS);
const lens = new StaticArray<u32>(MAX_PENDING_READS);
let used: i32 = 0;

export function pendingReset(): void {
  used = 0;
}

function find(handle: i32, tag: u32): i32 {
  for (let i = 0; i < used; i++) if (unchecked(handles[i]) == handle && unchecked(tags[i]) == tag) return i;
  return -1;
}

/** Notes a request; false when the table is full. */
export function pendingAdd(handle: i32, tag: u32, ptr: u32, len: u32): bool {
  let i = find(handle, tag);
  if (i < 0) {
    if (used >= MAX_PENDING_READS) return false;
    i = used++;
  }
  unchecked((handles[i] = handle));
  unchecked((tags[i] = tag));
  unchecked((ptrs[i] = ptr));
  unchecked((lens[i] = len));
  return true;
}

/** The view of the request, as found by pendingTake. */
export let takenPtr: u32 = 0;
export let takenLen: u32 = 0;

/** Forgets the request (handle, tag); false when there was none. */
export function pendingTake(handle: i32, tag: u32): bool {
  const i = find(handle, tag);
  if (i < 0) return false;
  takenPtr = unchecked(ptrs[i]);
  takenLen = unchecked(lens[i]);
  used--;
  // The last entry fills the hole; order does not matter, keys are unique.
  unchecked((handles[i] = handles[used]));
  unchecked((tags[i] = tags[used]));
  unchecked((ptrs[i] = ptrs[used]));
  unchecked((lens[i] = lens[used]));
  assert(find(handle, tag) < 0);
  return true;
}
