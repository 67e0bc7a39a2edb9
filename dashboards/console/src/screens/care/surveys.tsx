// Care by channel (response and resolution medians, complaints) and the NPS and CSAT score distributions of the period.
import { useQuery } from '../../api';
import { BarList, ScrollArea, type Bar } from '../../components/charts';
import { Empty, Loaded } from '../../components/states';
import { analyticsParams, useFilters } from '../../filters';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { useChannelName } from '../overview/by-channel';
import { formatKpi, type KpiName, type KpisAnswer } from '../overview/kpis';

interface SurveyAnswer {
  responses: number;
  score: number | null;
  distribution: Array<{ score: number; responses: number }>;
}
export interface SurveysAnswer {
  nps: SurveyAnswer;
  csat: SurveyAnswer;
}

const careKpis: KpiName[] = ['tickets', 'complaints', 'medianFirstResponseMinutes', 'medianResolutionHours'];

export function ResponseByChannel() {
  const { t } = useI18n();
  const formats = useFormats();
  const channelName = useChannelName();
  const [filters] = useFilters();
  const state = useQuery<KpisAnswer>('/v1/analytics/kpis', analyticsParams(filters));
  return (
    <section class="panel" aria-labelledby="care-channels-title">
      <h2 id="care-channels-title">{t('care.byChannel')}</h2>
      <Loaded state={state}>
        {(answer) => {
          const rows = answer.byChannel.filter((row) => row.tickets > 0);
          if (rows.length === 0) return <Empty>{<p>{t('care.noTickets')}</p>}</Empty>;
          return (
            <ScrollArea label={t('care.byChannel')}>
              <table class="care-channels" data-testid="care-by-channel">
                <caption class="visually-hidden">{t('care.byChannel')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('care.channel')}</th>
                    {careKpis.map((name) => (
                      <th scope="col" class="number" key={name}>
                        {t(`care.kpis.${name}`)}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <tr key={row.channel} data-channel={row.channel}>
                      <th scope="row">{channelName(row.channel)}</th>
                      {careKpis.map((name) => (
                        <td class="number" key={name}>
                          {formatKpi(name, row[name], formats, t)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">{t('care.allChannels')}</th>
                    {careKpis.map((name) => (
                      <td class="number" key={name} data-testid={`care-total-${name}`}>
                        {formatKpi(name, answer.totals[name], formats, t)}
                      </td>
                    ))}
                  </tr>
                </tfoot>
              </table>
            </ScrollArea>
          );
        }}
      </Loaded>
    </section>
  );
}

/** NPS: detractors 0–6, passives 7–8, promoters 9–10; CSAT: satisfied at 4–5. */
const npsTone = (score: number): Bar['tone'] => (score >= 9 ? 'good' : score >= 7 ? 'warn' : 'bad');
const csatTone = (score: number): Bar['tone'] => (score >= 4 ? 'good' : score === 3 ? 'warn' : 'bad');

export function Surveys() {
  const { t } = useI18n();
  const formats = useFormats();
  const [filters] = useFilters();
  const state = useQuery<SurveysAnswer>('/v1/analytics/surveys', analyticsParams(filters));
  const bars = (survey: SurveyAnswer, tone: (score: number) => Bar['tone']): Bar[] =>
    survey.distribution.map((entry) => ({
      key: String(entry.score),
      label: formats.number(entry.score),
      value: entry.responses,
      text: `${formats.number(entry.responses)} (${formats.percent(survey.responses > 0 ? entry.responses / survey.responses : null)})`,
      tone: tone(entry.score),
    }));
  return (
    <section class="panel" aria-labelledby="surveys-title">
      <h2 id="surveys-title">{t('care.distribution')}</h2>
      <Loaded state={state}>
        {(answer) => (
          <div class="survey-grid">
            <div data-testid="survey-nps">
              <BarList
                testId="nps-scores"
                caption={t('care.npsScores', {
                  responses: formats.number(answer.nps.responses),
                  score: formats.score(answer.nps.score),
                })}
                labelHeader={t('care.score')}
                valueHeader={t('care.responses')}
                bars={bars(answer.nps, npsTone)}
              />
              <p class="muted small">{t('care.npsLegend')}</p>
            </div>
            <div data-testid="survey-csat">
              <BarList
                testId="csat-scores"
                caption={t('care.csatScores', {
                  responses: formats.number(answer.csat.responses),
                  score: formats.score(answer.csat.score),
                })}
                labelHeader={t('care.score')}
                valueHeader={t('care.responses')}
                bars={bars(answer.csat, csatTone)}
              />
              <p class="muted small">{t('care.csatLegend')}</p>
            </div>
          </div>
        )}
      </Loaded>
    </section>
  );
}
