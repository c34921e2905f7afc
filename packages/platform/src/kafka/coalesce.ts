/**
 * Joins the calls made within one turn of the event loop into one call of `fn` with all their items,
 * in call order, and gives every caller that call's outcome. The consumer uses it to handle the
 * batches of the partitions one fetch returned in one transaction instead of one each. A group holds
 * at most `maxItems` items; a call that would go beyond starts the next group.
 */
export function coalesceCalls<T>(
  fn: (items: readonly T[]) => Promise<void>,
  maxItems: number,
): (items: readonly T[]) => Promise<void> {
  let open: { items: T[]; outcome: Promise<void> } | undefined;
  return (items) => {
    if (open && open.items.length + items.length <= maxItems) {
      open.items.push(...items);
      return open.outcome;
    }
    const group: { items: T[]; outcome: Promise<void> } = { items: [...items], outcome: Promise.resolve() };
    group.outcome = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      if (open === group) open = undefined;
      return fn(group.items);
    });
    open = group;
    return group.outcome;
  };
}
