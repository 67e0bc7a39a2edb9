// Marketing touchpoints: weekly email campaigns opened and clicked, fortnightly SMS campaigns clicked.
import { campaigns, siteUrl } from './catalog';
import { later, morningOf, type Journey } from './journey';
import { track } from './messages';
import { dayMs, hourMs } from './persona';

interface Campaign {
  id: string;
  name: string;
  sentAt: number;
}

/** Campaigns sent every `everyDays` days back from `now`, at 09:00 in Vietnam, named by their date. */
function campaignsBetween(journey: Journey, channel: 'email' | 'sms', everyDays: number): Campaign[] {
  const { persona, now } = journey;
  const sent: Campaign[] = [];
  for (let round = 0; ; round += 1) {
    const sentAt = morningOf(now - (2 + round * everyDays) * dayMs);
    if (sentAt < persona.firstSeen) break;
    if (sentAt > persona.lastSeen) continue;
    const date = new Date(sentAt + 7 * hourMs).toISOString().slice(0, 10).replaceAll('-', '');
    sent.push({ id: `${channel}-${date}`, name: campaigns[round % campaigns.length] as string, sentAt });
  }
  return sent;
}

/** Opens and clicks happen within the customer's active time, so a campaign never wakes up a churned customer. */
export function campaignHistory(journey: Journey): void {
  const { faker, persona, office } = journey;
  if (persona.email) {
    for (const campaign of campaignsBetween(journey, 'email', 7)) {
      if (!faker.datatype.boolean(persona.campaignAffinity)) continue;
      const openedAt = later(faker, campaign.sentAt, 120, 30 * 3600);
      if (openedAt > persona.lastSeen) continue;
      const properties = { campaign_id: campaign.id, campaign_name: campaign.name, channel: 'email' };
      journey.add(openedAt, track(office, 'Email Opened', properties));
      if (faker.datatype.boolean(0.3)) {
        journey.add(
          later(faker, openedAt, 5, 600),
          track(office, 'Email Link Clicked', {
            ...properties,
            url: `${siteUrl}/khuyen-mai?utm_source=email&utm_campaign=${campaign.id}`,
          }),
        );
      }
    }
  }
  if (persona.phone) {
    for (const campaign of campaignsBetween(journey, 'sms', 14)) {
      if (!faker.datatype.boolean(persona.campaignAffinity / 4)) continue;
      const clickedAt = later(faker, campaign.sentAt, 60, 6 * 3600);
      if (clickedAt > persona.lastSeen) continue;
      journey.add(
        clickedAt,
        track(office, 'SMS Link Clicked', {
          campaign_id: campaign.id,
          campaign_name: campaign.name,
          url: `${siteUrl}/khuyen-mai?utm_source=sms&utm_campaign=${campaign.id}`,
          channel: 'sms',
        }),
      );
    }
  }
}
