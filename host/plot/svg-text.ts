// Text and numbers as SVG markup carries them. Escaping is the only defence
// a title or a series name (a file name, a mode) has against breaking the
// document; fixed decimals keep the output the same bytes for the same input
// on every machine.

/** Escapes the five characters XML gives meaning to, for text and for
 *  attribute values alike (XML 1.0 §2.4). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Decimals of every coordinate: a hundredth of a pixel is finer than any
 *  screen draws, and rounding here makes the output deterministic. */
export const COORD_DECIMALS = 2;

/** A coordinate as the markup writes it: rounded, no "-0". */
export function coord(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`plot: coordinate ${v} is not finite`);
  const s = v.toFixed(COORD_DECIMALS).replace(/\.?0+$/, "");
  return s === "-0" ? "0" : s;
}
