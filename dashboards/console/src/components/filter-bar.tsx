// The one filter bar of every analytics screen: period presets or custom dates, time zone, channel and segment.
import { useQuery } from '../api';
import { channels, presets, useFilters, type Preset } from '../filters';
import { useI18n } from '../i18n';
import { useSegmentName } from '../screens/segments/names';

interface SegmentList {
  segments: Array<{ id: string; name: string }>;
}

const commonZones = [
  'Asia/Ho_Chi_Minh',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Europe/London',
  'America/New_York',
  'UTC',
];

/** Each control is named by its label's text alone: a label around a select would otherwise add the chosen value to its name. */
export function FilterBar({ children }: { children?: preact.ComponentChildren }) {
  const { t } = useI18n();
  const [filters, update] = useFilters();
  const segments = useQuery<SegmentList>('/v1/segments');
  const nameOf = useSegmentName();
  const zones = Array.from(new Set([filters.tz, ...commonZones]));
  return (
    <form class="filter-bar" aria-label={t('common.filters.label')} onSubmit={(event) => event.preventDefault()}>
      <label>
        <span>{t('common.filters.range')}</span>
        <select
          aria-label={t('common.filters.range')}
          value={filters.preset}
          onChange={(event) =>
            update({
              preset: (event.target as HTMLSelectElement).value as Preset,
              ...((event.target as HTMLSelectElement).value === 'custom' ? { from: filters.from, to: filters.to } : {}),
            })
          }
        >
          {presets.map((preset) => (
            <option key={preset} value={preset}>
              {t(`common.filters.presets.${preset}`)}
            </option>
          ))}
        </select>
      </label>
      {filters.preset === 'custom' && (
        <>
          <label>
            <span>{t('common.filters.from')}</span>
            <input
              aria-label={t('common.filters.from')}
              type="date"
              value={filters.from}
              max={filters.to}
              onChange={(event) =>
                update({ preset: 'custom', from: (event.target as HTMLInputElement).value, to: filters.to })
              }
            />
          </label>
          <label>
            <span>{t('common.filters.to')}</span>
            <input
              aria-label={t('common.filters.to')}
              type="date"
              value={filters.to}
              min={filters.from}
              onChange={(event) =>
                update({ preset: 'custom', from: filters.from, to: (event.target as HTMLInputElement).value })
              }
            />
          </label>
        </>
      )}
      <label>
        <span>{t('common.filters.timeZone')}</span>
        <select
          aria-label={t('common.filters.timeZone')}
          value={filters.tz}
          onChange={(event) => update({ tz: (event.target as HTMLSelectElement).value })}
        >
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t('common.filters.channel')}</span>
        <select
          aria-label={t('common.filters.channel')}
          value={filters.channel}
          onChange={(event) => update({ channel: (event.target as HTMLSelectElement).value })}
        >
          <option value="">{t('common.filters.allChannels')}</option>
          {channels.map((channel) => (
            <option key={channel} value={channel}>
              {t(`common.channels.${channel}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t('common.filters.segment')}</span>
        <select
          aria-label={t('common.filters.segment')}
          value={filters.segment}
          onChange={(event) => update({ segment: (event.target as HTMLSelectElement).value })}
        >
          <option value="">{t('common.filters.allCustomers')}</option>
          {(segments.data?.segments ?? []).map((segment) => (
            <option key={segment.id} value={segment.id}>
              {nameOf(segment.id, segment.name)}
            </option>
          ))}
        </select>
      </label>
      {children}
    </form>
  );
}

/** A select of a few choices kept in the URL under `name` beside the filters (a period, a cohort kind, a KPI). */
export function QuerySelect({
  name,
  label,
  value,
  options,
}: {
  name: string;
  label: string;
  value: string;
  options: Array<{ value: string; label: string }>;
}) {
  const [, update] = useFilters();
  return (
    <label>
      <span>{label}</span>
      <select
        name={name}
        aria-label={label}
        value={value}
        onChange={(event) => update({ [name]: (event.target as HTMLSelectElement).value })}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}
