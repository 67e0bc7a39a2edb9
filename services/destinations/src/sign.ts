// Outbound request signatures: the scheme lives in @cdp/runtime, where ingest's helpdesk webhook verifies it too.
export { signatureHeader, signatureOf, verifySignature } from '@cdp/runtime';
