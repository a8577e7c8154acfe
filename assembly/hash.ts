// Hierarchy ids. A hierarchy is one (phone model, file name); its id is the
// 32-bit FNV-1a hash (Fowler/Noll/Vo, IETF draft-eastlake-fnv) of the model,
// a zero byte, and the file name, so every phone derives the same XID from
// its own configuration without asking anybody.

const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;

export function fnv1a(h: u32, ptr: usize, len: i32): u32 {
  for (let i = 0; i < len; i++) {
    h ^= <u32>load<u8>(ptr + <usize>i);
    h *= FNV_PRIME;
  }
  return h;
}

export function hierarchyId(modelPtr: usize, modelLen: i32, filePtr: usize, fileLen: i32): u32 {
  let h = fnv1a(FNV_OFFSET, modelPtr, modelLen);
  h *= FNV_PRIME; // the zero separator: h ^= 0 is a no-op
  return fnv1a(h, filePtr, fileLen);
}
