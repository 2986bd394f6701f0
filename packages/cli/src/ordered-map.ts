// Maps an async stream through an async function with at most `limit` calls pending, yielding in input order.

/**
 * Pulls the next input only when fewer than `limit` results are pending or waiting to be yielded, so memory
 * stays bounded however long the input is, and yields each result in the order its input came. A slow item
 * holds the ones behind it back (they are kept, not dropped) until `limit` are waiting; then intake pauses.
 */
export async function* mapOrdered<T, R>(source: AsyncIterable<T> | Iterable<T>, limit: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`mapOrdered: limit must be a positive integer, got ${limit}`);
  const pending: Promise<R>[] = [];
  for await (const item of source) {
    pending.push(fn(item));
    if (pending.length >= limit) yield await pending.shift()!;
  }
  while (pending.length > 0) yield await pending.shift()!;
}
