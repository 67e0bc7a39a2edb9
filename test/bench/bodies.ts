// Request bodies the benchmarks send, so that runs of different benchmarks compare the same load.

/** `POST /v1/batch` of `size` track events over 1,000 users: what the ingest and peers benchmarks send. */
export const trackBatchBody = (size: number) =>
  JSON.stringify({
    batch: Array.from({ length: size }, (_, i) => ({
      type: 'track',
      userId: `user-${i % 1000}`,
      event: 'Product Viewed',
      properties: { sku: `sku-${i}`, price: 19.99 },
    })),
  });
