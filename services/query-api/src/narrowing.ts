// What a caller can narrow when a query runs into its limits: said in the error and in the documented examples.
export const narrowRead = 'a shorter date range, or fewer profiles';
export const narrowPreview = 'fewer conditions, shorter time windows, or narrower event filters';
