// The colours of a chart's series, in order: distinct for the usual kinds
// of colour blindness (Okabe and Ito's set of eight, as published in their
// "Color Universal Design" note, 2002), black last.

export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"] as const;
