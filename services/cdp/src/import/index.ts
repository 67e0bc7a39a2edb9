// The import as a library: map rows, read files, run an import against a platform (tests and tools use them).
export { resolveMapping, type Mapping, type MappingFlags, type ImportKind } from './mapping';
export { rowMapper, anonymousIdOf } from './message';
export {
  runImport,
  messageIdPrefix,
  isImportError,
  type ImportOptions,
  type ImportOutcome,
  type ImportProgress,
} from './run';
export { defaultRejectPath, defaultStatePath, contentHashOf } from './state';
