// A segment's members in cursor pages (GET /v1/segments/{id}/members): identifiers and a link to each customer's 360 page.
import { useState } from 'preact/hooks';
import { useQuery } from '../../api';
import { ScrollArea } from '../../components/charts';
import { Empty, Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { customerName } from '../customers/name';
import type { Segment } from './names';

export interface Member {
  profileId: string;
  userId: string | null;
  emails: string[];
  phones: string[];
  anonymousIds: string[];
  traits: Record<string, unknown>;
}

interface MembersPage {
  members: Member[];
  nextCursor: string | null;
}

const pageSizes = [20, 50, 100] as const;
/** The traits a customer's name is made of, asked with each page. */
const nameTraits = 'name,firstName,lastName,first_name,last_name';

export const customerPath = (type: string, value: string): string =>
  `/console/customers/${type}:${encodeURIComponent(value)}`;

function List({ values }: { values: string[] }) {
  const { t } = useI18n();
  if (values.length === 0) return <span class="muted">{t('common.states.none')}</span>;
  return (
    <>
      {values.map((value, index) => (
        <span key={value} class="identifier">
          {index > 0 && <br />}
          {value}
        </span>
      ))}
    </>
  );
}

export function Members({ segment }: { segment: Segment }) {
  const { t } = useI18n();
  const format = useFormats();
  const [limit, setLimit] = useState<number>(pageSizes[0]);
  // The cursors of the pages seen so far: [undefined (page 1), cursor of page 2, …].
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const page = cursors.length;
  const state = useQuery<MembersPage>(`/v1/segments/${encodeURIComponent(segment.id)}/members`, {
    limit,
    cursor: cursors[cursors.length - 1],
    traits: nameTraits,
  });
  const offset = (page - 1) * limit;
  return (
    <section class="panel members" aria-labelledby="members-title">
      <div class="panel-head">
        <h2 id="members-title">{t('segments.detail.members')}</h2>
        <label class="field inline">
          <span>{t('segments.members.perPage')}</span>
          <select
            value={String(limit)}
            onChange={(event) => {
              setLimit(Number((event.target as HTMLSelectElement).value));
              setCursors([undefined]);
            }}
          >
            {pageSizes.map((size) => (
              <option key={size} value={String(size)}>
                {format.number(size)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Loaded state={state}>
        {(data) =>
          data.members.length === 0 && page === 1 ? (
            <Empty>
              <p>{t('segments.members.none')}</p>
            </Empty>
          ) : (
            <>
              <ScrollArea label={t('segments.members.caption', { page: format.number(page) })}>
                <table class="members-table" data-testid="members-table">
                  <caption class="visually-hidden">
                    {t('segments.members.caption', { page: format.number(page) })}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col" class="number">
                        #
                      </th>
                      <th scope="col">{t('segments.members.customer')}</th>
                      <th scope="col">{t('segments.members.userId')}</th>
                      <th scope="col">{t('segments.members.emails')}</th>
                      <th scope="col">{t('segments.members.phones')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.members.map((member, index) => (
                      <tr key={member.profileId} data-testid="member-row">
                        <td class="number">{format.number(offset + index + 1)}</td>
                        <td>
                          <a href={customerPath('profile_id', member.profileId)}>
                            {customerName(member.traits) ?? t('customers.profile.unnamed')}
                          </a>
                          <code class="member-id">{member.profileId}</code>
                        </td>
                        <td>{member.userId ?? <span class="muted">{t('common.states.none')}</span>}</td>
                        <td>
                          <List values={member.emails} />
                        </td>
                        <td>
                          <List values={member.phones} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollArea>
              <nav class="pager" aria-label={t('segments.members.caption', { page: format.number(page) })}>
                <button
                  type="button"
                  class="secondary"
                  disabled={page === 1 || state.loading}
                  onClick={() => setCursors(cursors.slice(0, -1))}
                  data-testid="members-previous"
                >
                  {t('segments.members.previous')}
                </button>
                <span data-testid="members-page">{t('segments.members.page', { page: format.number(page) })}</span>
                <button
                  type="button"
                  class="secondary"
                  disabled={!data.nextCursor || state.loading}
                  onClick={() => data.nextCursor && setCursors([...cursors, data.nextCursor])}
                  data-testid="members-next"
                >
                  {t('segments.members.next')}
                </button>
              </nav>
            </>
          )
        }
      </Loaded>
    </section>
  );
}
