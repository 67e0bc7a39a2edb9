// Privacy: suppressed identifiers (as salted hashes), erasure of a customer from every table, and their audit log.
export {
  hashIdentifier,
  identifierSalt,
  openSuppressions,
  type SuppressionReason,
  type SuppressionStore,
} from './suppressions';
export {
  createErasures,
  erasableTables,
  maskedTables,
  maskedType,
  withoutPersonalData,
  type ErasureDeps,
  type Erasures,
} from './erasure';
export { createAudit, newAuditId, type AuditAction, type AuditEntry, type AuditLog, type AuditState } from './audit';
export { pseudonymiser, type Pseudonymise } from './pseudonyms';
