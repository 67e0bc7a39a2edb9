// The RFM grid of the latest evaluation: customers by recency score (columns 1–5) and frequency score (rows, 5 on top).
import { useQuery } from '../../api';
import { ScrollArea, shadeClass } from '../../components/charts';
import { Empty, Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';

export interface RfmAnswer {
  evaluatedAt: string | null;
  customers: number;
  cells: Array<{ recency: number; frequency: number; customers: number }>;
}

const scores = [1, 2, 3, 4, 5];

export function RfmGrid() {
  const { t } = useI18n();
  const formats = useFormats();
  const state = useQuery<RfmAnswer>('/v1/analytics/rfm');
  return (
    <section class="panel rfm" aria-labelledby="rfm-grid-title">
      <h2 id="rfm-grid-title">{t('groups.grid')}</h2>
      <p class="muted">{t('groups.gridIntro')}</p>
      <Loaded state={state}>
        {(answer) => {
          if (answer.customers === 0) return <Empty>{<p>{t('groups.gridEmpty')}</p>}</Empty>;
          const count = (recency: number, frequency: number) =>
            answer.cells.find((cell) => cell.recency === recency && cell.frequency === frequency)?.customers ?? 0;
          const max = Math.max(0, ...answer.cells.map((cell) => cell.customers));
          return (
            <>
              <p data-testid="rfm-customers">{t('groups.customers', { number: formats.number(answer.customers) })}</p>
              <ScrollArea label={t('groups.gridCaption')}>
                <table class="rfm-grid" data-testid="rfm-grid">
                  <caption class="visually-hidden">{t('groups.gridCaption')}</caption>
                  <thead>
                    <tr>
                      <td class="corner" />
                      <th scope="colgroup" colSpan={5} class="axis">
                        {t('groups.recencyAxis')}
                      </th>
                    </tr>
                    <tr>
                      <th scope="col" class="axis">
                        {t('groups.frequencyAxis')}
                      </th>
                      {scores.map((recency) => (
                        <th scope="col" key={recency} class="score">
                          {t('groups.recencyScore', { score: recency })}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {[...scores].reverse().map((frequency) => (
                      <tr key={frequency}>
                        <th scope="row" class="score">
                          {t('groups.frequencyScore', { score: frequency })}
                        </th>
                        {scores.map((recency) => {
                          const customers = count(recency, frequency);
                          return (
                            <td
                              key={recency}
                              class={`cell ${shadeClass(max > 0 ? customers / max : null)}`}
                              title={t('groups.gridCell', { number: formats.number(customers), recency, frequency })}
                              data-testid={`rfm-cell-${recency}-${frequency}`}
                            >
                              {formats.number(customers)}
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollArea>
              <p class="muted small">{t('groups.gridHint')}</p>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
