// Browser entry bundled by the browser suite: puts analytics.js's loader on the page, nothing else.
import { AnalyticsBrowser } from '@segment/analytics-next';

Object.assign(globalThis, { AnalyticsBrowser });
