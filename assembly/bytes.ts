// Bounds-checked big-endian access to a span of core memory. A read past the
// end yields 0 and clears `ok` instead of trapping, so a decoder reads all its
// fields and checks `ok` once: no input can reach outside its span.

@final
export class Reader {
  ptr: usize = 0;
  end: usize = 0;
  ok: bool = true;

  reset(ptr: usize, len: i32): Reader {
    this.ptr = ptr;
    this.end = ptr + <usize>len;
    this.ok = len >= 0;
    return this;
  }

  remaining(): i32 {
    return this.ok ? <i32>(this.end - this.ptr) : 0;
  }

  private take(n: usize): usize {
    const at = this.ptr;
    if (!this.ok || <usize>(this.end - at) < n) {
      this.ok = false;
      return 0;
    }
    this.ptr = at + n;
    return at;
  }

  u8(): u32 {
    const at = this.take(1);
    return this.ok ? <u32>load<u8>(at) : 0;
  }

  u16(): u32 {
    const at = this.take(2);
    return this.ok ? <u32>bswap<u16>(load<u16>(at)) : 0;
  }

  u32(): u32 {
    const at = this.take(4);
    return this.ok ? bswap<u32>(load<u32>(at)) : 0;
  }
}

@final
export class Writer {
  start: usize = 0;
  ptr: usize = 0;
  end: usize = 0;
  ok: bool = true;

  reset(ptr: usize, capacity: i32): Writer {
    this.start = ptr;
    this.ptr = ptr;
    this.end = ptr + <usize>capacity;
    this.ok = capacity >= 0;
    return this;
  }

  length(): i32 {
    return <i32>(this.ptr - this.start);
  }

  private take(n: usize): usize {
    const at = this.ptr;
    if (!this.ok || <usize>(this.end - at) < n) {
      this.ok = false;
      return 0;
    }
    this.ptr = at + n;
    return at;
  }

  u8(v: u32): void {
    const at = this.take(1);
    if (this.ok) store<u8>(at, <u8>v);
  }

  u16(v: u32): void {
    const at = this.take(2);
    if (this.ok) store<u16>(at, bswap<u16>(<u16>v));
  }

  u32(v: u32): void {
    const at = this.take(4);
    if (this.ok) store<u32>(at, bswap<u32>(v));
  }
}
