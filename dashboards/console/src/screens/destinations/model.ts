// Destinations and deliveries as the API answers them, and how the console words a trigger.
import { useCallback } from 'preact/hooks';
import { useQuery } from '../../api';
import { useI18n } from '../../i18n';
import { useSegmentName, type SegmentList } from '../segments/names';

export type Scalar = string | number | boolean;

export type Trigger =
  | { kind: 'segment'; segmentId: string; on: 'entered' | 'exited' }
  | { kind: 'event'; event: string; where: Array<{ property: string; equals: Scalar }> }
  // Kinds this console does not edit yet are still listed, by their kind.
  | { kind: string; [field: string]: unknown };

export interface Destination {
  id: string;
  name: string;
  kind: 'webhook';
  url: string;
  headers: Record<string, string>;
  template: string | null;
  traits: string[] | null;
  batch: number;
  ratePerSecond: number;
  status: 'active' | 'paused';
  triggers: Trigger[];
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface Delivery {
  id: string;
  status: DeliveryStatus;
  profileId: string;
  trigger: { kind: string; segmentId?: string; change?: string; event?: string };
  attempts: number;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string;
  latencyMs: number | null;
}

export const destinationPath = (id: string): string => `/console/destinations/${encodeURIComponent(id)}`;

/** The host a destination sends to: enough to recognise it, without the path's tokens. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** `(trigger) → words`, segments by the name the console gives them. */
export function useTriggerText(): (trigger: Trigger) => string {
  const { t } = useI18n();
  const nameOf = useSegmentName();
  const segments = useQuery<SegmentList>('/v1/segments');
  const names = new Map((segments.data?.segments ?? []).map((segment) => [segment.id, segment.name]));
  return useCallback(
    (trigger: Trigger) => {
      if (trigger.kind === 'segment' && typeof trigger.segmentId === 'string') {
        const segment = nameOf(trigger.segmentId, names.get(trigger.segmentId));
        return t(trigger.on === 'exited' ? 'destinations.trigger.exited' : 'destinations.trigger.entered', { segment });
      }
      if (trigger.kind === 'event' && typeof trigger.event === 'string') {
        const where = (trigger.where ?? []) as Array<{ property: string; equals: Scalar }>;
        if (where.length === 0) return t('destinations.trigger.event', { event: trigger.event });
        const filters = where.map((filter) => `${filter.property} = ${String(filter.equals)}`).join(', ');
        return t('destinations.trigger.eventWhere', { event: trigger.event, filters });
      }
      if (trigger.kind === 'followUp' && typeof trigger.event === 'string') {
        const delay = trigger.after as { value: number; unit: string };
        const after = t(`destinations.trigger.units.${delay.unit}`, { value: delay.value });
        const unless = (trigger.unless as { event: string } | undefined)?.event;
        const matchOn = typeof trigger.matchOn === 'string' ? trigger.matchOn : undefined;
        if (unless && matchOn)
          return t('destinations.trigger.followUpUnlessSame', { after, event: trigger.event, unless, matchOn });
        return unless
          ? t('destinations.trigger.followUpUnless', { after, event: trigger.event, unless })
          : t('destinations.trigger.followUp', { after, event: trigger.event });
      }
      if (trigger.kind === 'anniversary' && typeof trigger.trait === 'string') {
        const days = Number(trigger.daysBefore ?? 0);
        return days > 0
          ? t('destinations.trigger.anniversary', { days, trait: trigger.trait })
          : t('destinations.trigger.anniversaryOn', { trait: trigger.trait });
      }
      return t('destinations.trigger.other', { kind: trigger.kind });
    },
    [t, nameOf, segments.data],
  );
}
