// Segment names as the console shows them: built-ins by their id in the console's language, custom ones as their owner named them.
import { useCallback } from 'preact/hooks';
import { useI18n } from '../../i18n';
import { segments as english } from '../../locales/en/segments';

/** A segment as GET /v1/segments and GET /v1/segments/{id} answer it. */
export interface Segment {
  id: string;
  name: string;
  kind: 'builtin' | 'custom';
  size: number;
  rule: unknown;
  updatedAt: string;
  /** Profiles that entered / left it at the last evaluation, when the API says. */
  entered?: number;
  exited?: number;
}

export interface SegmentList {
  segments: Segment[];
  /** When the last evaluation finished, when the API says. */
  evaluatedAt?: string | null;
}

const builtinIds = new Set(Object.keys(english.builtin));
const order = [...builtinIds];

/** Lifecycle stages in the order a customer lives them, then RFM groups from best to lost; others after. */
export const builtinOrder = (id: string): number => (order.includes(id) ? order.indexOf(id) : order.length);

export const isTranslatedBuiltin = (id: string): boolean => builtinIds.has(id);

/** `(id, apiName) → name to show`. */
export function useSegmentName(): (id: string, apiName?: string) => string {
  const { t } = useI18n();
  return useCallback(
    (id: string, apiName?: string) => (builtinIds.has(id) ? t(`segments.builtin.${id}`) : (apiName ?? id)),
    [t],
  );
}

export const segmentPath = (id: string): string => `/console/segments/${encodeURIComponent(id)}`;
