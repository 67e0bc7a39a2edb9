// Browser entry bundled by the browser suite: RudderStack's SDK with its plugins built in, so it loads none from a CDN.
import { RudderAnalytics } from '@rudderstack/analytics-js/bundled';

Object.assign(globalThis, { RudderAnalytics });
