// The demo data set as a library: generate it, or send it to a running platform (tests and tools use both).
export { generateDemo, demoOptionProblems, maxBatchBytes, maxBatchMessages, type DemoOptions } from './generate';
export {
  sendDemo,
  isDemoSendError,
  type SendDemoOptions,
  type SendDemoResult,
  type DemoSendError,
  type DemoSendErrorCode,
} from './send';
export type { DemoMessage, DemoMessageType } from './messages';
export { customersOf, identifiersOf } from './customers-of';
