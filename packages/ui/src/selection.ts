// Face selection on a grid: click toggles one face, shift-click adds the run from the last clicked face.

export interface Selection {
  selected: ReadonlySet<string>;
  /** The face last clicked without shift: where a shift-click range starts. */
  anchor: string | null;
}

export const emptySelection: Selection = { selected: new Set(), anchor: null };

export function clickFace(sel: Selection, order: readonly string[], id: string, shift: boolean): Selection {
  const from = sel.anchor === null ? -1 : order.indexOf(sel.anchor);
  const to = order.indexOf(id);
  if (to < 0) return sel;
  if (shift && from >= 0) {
    const next = new Set(sel.selected);
    const [lo, hi] = from <= to ? [from, to] : [to, from];
    for (let i = lo; i <= hi; i++) next.add(order[i]!);
    return { selected: next, anchor: sel.anchor };
  }
  const next = new Set(sel.selected);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return { selected: next, anchor: id };
}

/** Drops faces that are no longer shown (after a reload), keeping the rest selected. */
export function keepShown(sel: Selection, order: readonly string[]): Selection {
  const shown = new Set(order);
  const selected = new Set([...sel.selected].filter((id) => shown.has(id)));
  return { selected, anchor: sel.anchor !== null && shown.has(sel.anchor) ? sel.anchor : null };
}
