// A new destination: where it sends, what fires it, the body template with a live preview over a real customer.
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { ApiError, useApi, useDelayedPost, useQuery } from '../../api';
import { ErrorBox } from '../../components/states';
import { useI18n } from '../../i18n';
import { useSegmentName, type SegmentList } from '../segments/names';
import { destinationPath, type Destination, type Scalar, type Trigger } from './model';

type DelayUnit = 'minutes' | 'hours' | 'days';

interface DraftTrigger {
  key: number;
  kind: 'segment' | 'event' | 'followUp' | 'anniversary';
  segmentId: string;
  on: 'entered' | 'exited';
  event: string;
  property: string;
  equals: string;
  /** A follow-up's delay, as typed. */
  after: string;
  unit: DelayUnit;
  /** The event that cancels a follow-up (optional), and the property both events must share (optional). */
  unless: string;
  matchOn: string;
  /** An anniversary's date trait and how many days before it fires, as typed. */
  trait: string;
  daysBefore: string;
}

type TextField = 'event' | 'property' | 'equals' | 'unless' | 'matchOn' | 'trait';

let nextKey = 0;
const newTrigger = (): DraftTrigger => ({
  key: ++nextKey,
  kind: 'segment',
  segmentId: '',
  on: 'entered',
  event: '',
  property: '',
  equals: '',
  after: '3',
  unit: 'days',
  unless: '',
  matchOn: '',
  trait: 'birthday',
  daysBefore: '0',
});

/** A filter's value as typed: numbers and true / false are matched as such, anything else as text. */
export function typedValue(text: string): Scalar {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

/** A number as typed; what is not one is sent as typed, so the API names the field that is wrong. */
const typedNumber = (text: string): number | string =>
  text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;

function toTrigger(draft: DraftTrigger): Trigger {
  if (draft.kind === 'segment') return { kind: 'segment', segmentId: draft.segmentId, on: draft.on };
  if (draft.kind === 'anniversary')
    return { kind: 'anniversary', trait: draft.trait.trim(), daysBefore: typedNumber(draft.daysBefore) };
  const where = draft.property.trim() ? [{ property: draft.property.trim(), equals: typedValue(draft.equals) }] : [];
  if (draft.kind === 'event') return { kind: 'event', event: draft.event.trim(), where };
  return {
    kind: 'followUp',
    event: draft.event.trim(),
    where,
    after: { value: typedNumber(draft.after), unit: draft.unit },
    ...(draft.unless.trim() ? { unless: { event: draft.unless.trim() } } : {}),
    ...(draft.matchOn.trim() ? { matchOn: draft.matchOn.trim() } : {}),
  };
}

/** A random signing secret, as a receiver would store it. */
function generatedSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

const traitList = (text: string): string[] =>
  text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);

interface PreviewAnswer {
  body: string;
  contentType: string;
}

/** The body a delivery to this customer would send, rendered by the API shortly after the last edit. */
function useBodyPreview(customer: string, template: string, traits: string) {
  const chosen = traitList(traits);
  const body = customer.trim()
    ? JSON.stringify({
        profile: customer.trim(),
        ...(template ? { template } : {}),
        ...(chosen.length > 0 ? { traits: chosen } : {}),
      })
    : null;
  return useDelayedPost<PreviewAnswer>('/v1/destinations/preview', body);
}

function TriggerFields({
  draft,
  index,
  segments,
  onChange,
  onRemove,
}: {
  draft: DraftTrigger;
  index: number;
  segments: Array<{ id: string; name: string }>;
  onChange: (next: DraftTrigger) => void;
  onRemove?: () => void;
}) {
  const { t } = useI18n();
  const id = (field: string) => `trigger-${draft.key}-${field}`;
  const set = (field: keyof DraftTrigger) => (event: Event) =>
    onChange({ ...draft, [field]: (event.target as HTMLInputElement | HTMLSelectElement).value });
  /** A text field of the trigger, labelled `destinations.form.<label>`, with its `<label>Hint` under it if asked. */
  const text = (field: TextField, name: string, label: string, hint = false) => (
    <div class="field">
      <label for={id(name)}>{t(`destinations.form.${label}`)}</label>
      <input
        id={id(name)}
        type="text"
        value={draft[field]}
        onInput={set(field)}
        maxLength={200}
        {...(hint ? { 'aria-describedby': id(`${name}-hint`) } : {})}
      />
      {hint && (
        <small id={id(`${name}-hint`)} class="hint">
          {t(`destinations.form.${label}Hint`)}
        </small>
      )}
    </div>
  );
  return (
    <fieldset class="trigger" data-testid="trigger">
      <legend>{`${t('destinations.form.kind')} ${index + 1}`}</legend>
      <div class="trigger-fields">
        <div class="field">
          <label for={id('kind')}>{t('destinations.form.kind')}</label>
          <select id={id('kind')} value={draft.kind} onChange={set('kind')}>
            <option value="segment">{t('destinations.form.kindSegment')}</option>
            <option value="event">{t('destinations.form.kindEvent')}</option>
            <option value="followUp">{t('destinations.form.kindFollowUp')}</option>
            <option value="anniversary">{t('destinations.form.kindAnniversary')}</option>
          </select>
        </div>
        {draft.kind === 'segment' && (
          <>
            <div class="field">
              <label for={id('on')}>{t('destinations.form.on')}</label>
              <select id={id('on')} value={draft.on} onChange={set('on')}>
                <option value="entered">{t('destinations.form.entered')}</option>
                <option value="exited">{t('destinations.form.exited')}</option>
              </select>
            </div>
            <div class="field">
              <label for={id('segment')}>{t('destinations.form.segment')}</label>
              <select id={id('segment')} value={draft.segmentId} onChange={set('segmentId')} required>
                <option value="" disabled>
                  {t('destinations.form.segment')}
                </option>
                {segments.map((segment) => (
                  <option key={segment.id} value={segment.id}>
                    {segment.name}
                  </option>
                ))}
              </select>
            </div>
          </>
        )}
        {(draft.kind === 'event' || draft.kind === 'followUp') && (
          <>
            {text('event', 'event', 'event')}
            {text('property', 'property', 'property')}
            {text('equals', 'equals', 'equals', true)}
          </>
        )}
        {draft.kind === 'followUp' && (
          <>
            <div class="field">
              <label for={id('after')}>{t('destinations.form.after')}</label>
              <div class="inline-row">
                <input
                  id={id('after')}
                  type="number"
                  min={1}
                  inputMode="numeric"
                  value={draft.after}
                  onInput={set('after')}
                  class="short"
                />
                <select
                  id={id('unit')}
                  value={draft.unit}
                  onChange={set('unit')}
                  aria-label={t('destinations.form.unit')}
                >
                  <option value="minutes">{t('destinations.form.minutes')}</option>
                  <option value="hours">{t('destinations.form.hours')}</option>
                  <option value="days">{t('destinations.form.days')}</option>
                </select>
              </div>
            </div>
            {text('unless', 'unless', 'unless', true)}
            {text('matchOn', 'match-on', 'matchOn', true)}
          </>
        )}
        {draft.kind === 'anniversary' && (
          <>
            {text('trait', 'trait', 'trait', true)}
            <div class="field">
              <label for={id('days-before')}>{t('destinations.form.daysBefore')}</label>
              <input
                id={id('days-before')}
                type="number"
                min={0}
                max={90}
                inputMode="numeric"
                value={draft.daysBefore}
                onInput={set('daysBefore')}
                class="short"
              />
            </div>
          </>
        )}
      </div>
      {onRemove && (
        <button type="button" class="secondary" onClick={onRemove}>
          {t('destinations.form.removeTrigger')}
        </button>
      )}
    </fieldset>
  );
}

function BodyPreview({ customer, template, traits }: { customer: string; template: string; traits: string }) {
  const { t } = useI18n();
  const preview = useBodyPreview(customer, template, traits);
  return (
    <div class="preview-body" aria-live="polite" data-testid="template-preview">
      {!customer.trim() ? (
        <p class="muted">{t('destinations.preview.empty')}</p>
      ) : preview.pending ? (
        <p class="muted">{t('destinations.preview.pending')}</p>
      ) : preview.error ? (
        <ErrorBox error={preview.error} />
      ) : preview.result ? (
        <>
          <p class="muted">{t('destinations.preview.contentType', { type: preview.result.contentType })}</p>
          <pre>
            <code data-testid="preview-body">{preview.result.body}</code>
          </pre>
        </>
      ) : null}
    </div>
  );
}

export function DestinationForm() {
  const { t } = useI18n();
  const api = useApi();
  const { route } = useLocation();
  const nameOf = useSegmentName();
  const segmentList = useQuery<SegmentList>('/v1/segments');
  const segments = (segmentList.data?.segments ?? []).map((segment) => ({
    id: segment.id,
    name: nameOf(segment.id, segment.name),
  }));
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [triggers, setTriggers] = useState<DraftTrigger[]>(() => [newTrigger()]);
  const [template, setTemplate] = useState('');
  const [traits, setTraits] = useState('');
  const [status, setStatus] = useState<Destination['status']>('active');
  const [customer, setCustomer] = useState('');
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    setSaving(true);
    setFailure(null);
    try {
      const chosen = traitList(traits);
      const saved = await api.send<Destination>('POST', '/v1/destinations', {
        name: name.trim(),
        url: url.trim(),
        secret,
        status,
        triggers: triggers.map(toTrigger),
        ...(template ? { template } : {}),
        ...(chosen.length > 0 ? { traits: chosen } : {}),
      });
      route(destinationPath(saved.id));
    } catch (error) {
      setFailure(error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)));
      setSaving(false);
    }
  }

  const input = (setter: (value: string) => void) => (event: Event) =>
    setter((event.target as HTMLInputElement | HTMLTextAreaElement).value);
  return (
    <section class="destinations-screen destination-form" aria-labelledby="destination-form-title">
      <p class="crumbs">
        <a href="/console/destinations">{t('destinations.back')}</a>
      </p>
      <h1 id="destination-form-title">{t('destinations.form.title')}</h1>
      <form class="form-layout" onSubmit={save} noValidate>
        <div class="form-main">
          <div class="field">
            <label for="destination-name">{t('destinations.form.name')}</label>
            <input id="destination-name" type="text" value={name} onInput={input(setName)} maxLength={200} required />
          </div>
          <div class="field">
            <label for="destination-url">{t('destinations.form.url')}</label>
            <input
              id="destination-url"
              type="url"
              value={url}
              onInput={input(setUrl)}
              placeholder="https://hooks.example.vn/cdp"
              aria-describedby="destination-url-hint"
              required
            />
            <small id="destination-url-hint" class="hint">
              {t('destinations.form.urlHint')}
            </small>
          </div>
          <div class="field">
            <label for="destination-secret">{t('destinations.form.secret')}</label>
            <div class="inline-row">
              <input
                id="destination-secret"
                type="text"
                value={secret}
                onInput={input(setSecret)}
                autocomplete="off"
                spellcheck={false}
                aria-describedby="destination-secret-hint"
                required
              />
              <button type="button" class="secondary" onClick={() => setSecret(generatedSecret())}>
                {t('destinations.form.generate')}
              </button>
            </div>
            <small id="destination-secret-hint" class="hint">
              {t('destinations.form.secretHint')}
            </small>
          </div>
          <h2>{t('destinations.form.triggers')}</h2>
          {triggers.map((draft, index) => (
            <TriggerFields
              key={draft.key}
              draft={draft}
              index={index}
              segments={segments}
              onChange={(next) => setTriggers(triggers.map((each) => (each.key === draft.key ? next : each)))}
              {...(triggers.length > 1
                ? { onRemove: () => setTriggers(triggers.filter((each) => each.key !== draft.key)) }
                : {})}
            />
          ))}
          <button type="button" class="secondary" onClick={() => setTriggers([...triggers, newTrigger()])}>
            {t('destinations.form.addTrigger')}
          </button>
          <div class="field">
            <label for="destination-template">{t('destinations.form.template')}</label>
            <textarea
              id="destination-template"
              rows={6}
              value={template}
              onInput={input(setTemplate)}
              spellcheck={false}
              aria-describedby="destination-template-hint"
            />
            <small id="destination-template-hint" class="hint">
              {t('destinations.form.templateHint')}
            </small>
          </div>
          <div class="field">
            <label for="destination-traits">{t('destinations.form.traits')}</label>
            <input id="destination-traits" type="text" value={traits} onInput={input(setTraits)} />
          </div>
          <div class="field">
            <label for="destination-status">{t('destinations.form.start')}</label>
            <select
              id="destination-status"
              value={status}
              onChange={(event) => setStatus((event.target as HTMLSelectElement).value as Destination['status'])}
            >
              <option value="active">{t('destinations.status.active')}</option>
              <option value="paused">{t('destinations.status.paused')}</option>
            </select>
          </div>
          {failure && (
            <>
              {failure.problems.length > 0 && (
                <p class="field-error" role="alert">
                  {t('destinations.form.invalid')}
                </p>
              )}
              <ErrorBox error={failure} />
            </>
          )}
          <div class="actions">
            <button type="submit" disabled={saving} data-testid="save-destination">
              {saving ? t('destinations.form.saving') : t('destinations.form.save')}
            </button>
            <a class="button secondary" href="/console/destinations">
              {t('destinations.form.cancel')}
            </a>
          </div>
        </div>
        <aside class="panel form-aside" aria-labelledby="preview-title">
          <h2 id="preview-title">{t('destinations.preview.title')}</h2>
          <div class="field">
            <label for="preview-customer">{t('destinations.preview.customer')}</label>
            <input
              id="preview-customer"
              type="text"
              value={customer}
              onInput={input(setCustomer)}
              placeholder="user_id:ada"
              aria-describedby="preview-customer-hint"
            />
            <small id="preview-customer-hint" class="hint">
              {t('destinations.preview.customerHint')}
            </small>
          </div>
          <BodyPreview customer={customer} template={template} traits={traits} />
        </aside>
      </form>
    </section>
  );
}
