import { fnv1a } from "../../assembly/hash";

describe("hash", () => {
  test("fnv1a of the empty input is the offset basis", () => {
    expect(fnv1a(0x811c9dc5, 0, 0)).toBe(0x811c9dc5);
  });
});
