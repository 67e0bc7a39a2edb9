// Keyset pagination with one page read ahead: the next page's query runs while the caller handles this one.

/**
 * Pages of `read(after, limit)` in key order until a short page; memory holds two pages whatever the total. A caller
 * that stops early never awaits the page read ahead, so its failure is then nobody's to report.
 */
export async function* pagesInKeyOrder<T>(
  read: (after: string, limit: number) => Promise<T[]>,
  keyOf: (row: T) => string,
  pageSize: number,
): AsyncGenerator<T[]> {
  const ahead = (after: string) => {
    const page = read(after, pageSize);
    page.catch(() => undefined);
    return page;
  };
  let next = ahead('');
  for (;;) {
    const page = await next;
    const last = page[page.length - 1];
    const more = page.length === pageSize && last !== undefined;
    if (more) next = ahead(keyOf(last));
    if (page.length > 0) yield page;
    if (!more) return;
  }
}
