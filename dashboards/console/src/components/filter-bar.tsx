// The one filter bar of every analytics screen: period presets or custom dates, time zone, channel and segment.
import { useQuery } from '../api';
import { channels, presets, useFilters, type Preset } from '../filters';
import { useI18n } from '../i18n';

interface SegmentList {
  segments: Array<{ id: string; name: string }>;
}

const commonZones = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'America/New_York', 'UTC'];

export function FilterBar({ children }: { children?: preact.ComponentChildren }) {
  const { t } = useI18n();
  const [filters, update] = useFilters();
  const segments = useQuery<SegmentList>('/v1/segments');
  const zones = Array.from(new Set([filters.tz, ...commonZones]));
  return (
    <form class="filter-bar" aria-label={t('common.filters.label')} onSubmit={(event) => event.preventDefault()}>
      <label>
        <span>{t('common.filters.range')}</span>
        <select value={filters.preset} onChange={(event) => update({ preset: (event.target as HTMLSelectElement).value as Preset, ...(((event.target as HTMLSelectElement).value === 'custom') ? { from: filters.from, to: filters.to } : {}) })}>
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
            <input type="date" value={filters.from} max={filters.to} onChange={(event) => update({ preset: 'custom', from: (event.target as HTMLInputElement).value, to: filters.to })} />
          </label>
          <label>
            <span>{t('common.filters.to')}</span>
            <input type="date" value={filters.to} min={filters.from} onChange={(event) => update({ preset: 'custom', from: filters.from, to: (event.target as HTMLInputElement).value })} />
          </label>
        </>
      )}
      <label>
        <span>{t('common.filters.timeZone')}</span>
        <select value={filters.tz} onChange={(event) => update({ tz: (event.target as HTMLSelectElement).value })}>
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t('common.filters.channel')}</span>
        <select value={filters.channel} onChange={(event) => update({ channel: (event.target as HTMLSelectElement).value })}>
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
        <select value={filters.segment} onChange={(event) => update({ segment: (event.target as HTMLSelectElement).value })}>
          <option value="">{t('common.filters.allCustomers')}</option>
          {(segments.data?.segments ?? []).map((segment) => (
            <option key={segment.id} value={segment.id}>
              {segment.name}
            </option>
          ))}
        </select>
      </label>
      {children}
    </form>
  );
}
