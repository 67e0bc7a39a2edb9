// One customer's whole history as Segment messages: their sessions by how they reach the shop, then care and campaigns.
import type { Faker } from '@faker-js/faker';
import { campaignHistory } from './campaigns';
import { careHistory, npsSurveys } from './care';
import { tiers } from './catalog';
import { refunds, shopVisit, socialChat, storeReceipt } from './commerce';
import { createJourney, later, sessionTimes, spacedPhone, type Journey } from './journey';
import {
  alias,
  appContext,
  finish,
  identify,
  serverContext,
  stableId,
  webContext,
  type DemoMessage,
  type Sender,
} from './messages';
import { hourMs, type Persona } from './persona';

type Device = 'web' | 'app' | 'store';

/** Everything the shop knows about the customer, as identify traits. */
function profileTraits(persona: Persona): Record<string, unknown> {
  const traits: Record<string, unknown> = {
    name: persona.name.full,
    first_name: persona.name.given,
    last_name: persona.name.family,
    gender: persona.gender,
    city: persona.city,
    tier: 'member',
  };
  if (persona.email) traits.email = persona.email;
  if (persona.phone) traits.phone = persona.phone;
  if (persona.birthday) traits.birthday = persona.birthday;
  return traits;
}

/** Which device each session is on: the first two where the customer started, then any they use. */
function memberDevices(journey: Journey, sessions: number): Device[] {
  const { faker, persona } = journey;
  const first = persona.firstDevice;
  const other = first === 'web' ? 'app' : 'web';
  const options = [{ value: first as Device, weight: 5 }];
  if (persona.devices[other]) options.push({ value: other, weight: 4 });
  if (persona.devices.pos) options.push({ value: 'store', weight: 3 });
  const devices = Array.from({ length: sessions }, (_, session) =>
    session < 2 ? first : faker.helpers.weightedArrayElement(options),
  );
  // A customer given a second device or a loyalty card uses it at least once, so their identities really join.
  if (sessions > 1 && persona.devices[other] && !devices.includes(other)) devices[sessions - 1] = other;
  if (sessions > 2 && persona.devices.pos && !devices.includes('store')) devices[sessions - 2] = 'store';
  else if (sessions === 2 && persona.devices.pos && !devices.includes('store')) devices[1] = 'store';
  return devices;
}

/** A member browses as a guest, signs up (on checkout, or after a visit or two), later signs in on other devices. */
function memberHistory(journey: Journey): void {
  const { faker, persona } = journey;
  const userId = persona.userId as string;
  const senders: Record<'web' | 'app', Sender | null> = {
    web: persona.devices.web ? { anonymousId: persona.devices.web, context: webContext(persona.index) } : null,
    app: persona.devices.app ? { anonymousId: persona.devices.app, context: appContext(persona.index) } : null,
  };
  const signedIn = new Set<'web' | 'app'>();
  const signIn = (device: 'web' | 'app', at: number): Sender => {
    const sender = senders[device] as Sender;
    const member = { ...sender, userId };
    if (signedIn.size === 0)
      journey.add(at, identify(member, { ...profileTraits(persona), created_at: new Date(at).toISOString() }));
    else if (device === 'app' && faker.datatype.boolean(0.3))
      journey.add(at, alias(member, sender.anonymousId as string));
    else journey.add(at, identify(member, {}));
    signedIn.add(device);
    return member;
  };
  const times = sessionTimes(journey);
  const devices = memberDevices(journey, times.length);
  // Signing up in the second session only when that one is on the same device, so every device ends up signed in.
  const signUpSession = devices[1] === persona.firstDevice && faker.datatype.boolean(0.4) ? 1 : 0;
  let ordered = false;
  times.forEach((at, session) => {
    const device = devices[session] as Device;
    if (device === 'store') {
      storeReceipt(journey, at);
      ordered = true;
      return;
    }
    const lastChance = session === times.length - 1 && !ordered && persona.purchaseRate > 0;
    const buy = lastChance || faker.datatype.boolean(persona.purchaseRate);
    const sender = senders[device] as Sender;
    const guest = !signedIn.has(device);
    // A second device is signed into on arrival; on the first one a guest signs up at checkout or after the visit.
    const viaOtherDevice = guest && device !== persona.firstDevice;
    const current = viaOtherDevice ? signIn(device, at) : guest ? sender : { ...sender, userId };
    const visitAt = viaOtherDevice ? later(faker, at, 20, 60) : at;
    const end = shopVisit(journey, {
      device,
      sender: current,
      at: visitAt,
      buy,
      ...(guest && !viaOtherDevice && (buy || session >= signUpSession)
        ? { signIn: (when: number) => signIn(device, when) }
        : {}),
    });
    if (!signedIn.has(device) && session >= signUpSession) signIn(device, later(faker, end, 30, 120));
    ordered ||= buy;
  });
}

/** A store-only customer registers a loyalty card at the till, then shops in store. */
function storeHistory(journey: Journey): void {
  const { faker, persona } = journey;
  const times = sessionTimes(journey);
  const traits = profileTraits(persona);
  traits.phone = spacedPhone(persona.phone as string);
  journey.add(
    times[0] as number,
    identify({ anonymousId: persona.devices.pos as string, context: serverContext }, traits),
  );
  for (const at of times) storeReceipt(journey, later(faker, at, 60, 300));
}

/** A Zalo / Facebook customer chats with the shop's page, and orders there now and then. */
function socialHistory(journey: Journey): void {
  const { faker, persona } = journey;
  sessionTimes(journey).forEach((at, session) =>
    socialChat(
      journey,
      at,
      (session === 0 && persona.purchaseRate > 0.4) || faker.datatype.boolean(persona.purchaseRate),
    ),
  );
}

/** A newsletter contact signed up with an email address and only reads the emails. */
function newsletterHistory(journey: Journey): void {
  const { persona } = journey;
  const traits: Record<string, unknown> = {
    email: persona.email,
    name: persona.name.full,
    first_name: persona.name.given,
    last_name: persona.name.family,
    city: persona.city,
  };
  journey.add(
    persona.firstSeen,
    identify({ anonymousId: persona.devices.contact as string, context: serverContext }, traits),
  );
}

/** Members move up a tier with their 3rd, 6th and 10th order. */
function tierUpgrades(journey: Journey): void {
  if (!journey.persona.userId) return;
  const orders = [...journey.orders].sort((a, b) => a.at - b.at);
  [3, 6, 10].forEach((count, step) => {
    const order = orders[count - 1];
    if (order) journey.add(order.at + hourMs, identify(journey.office, { tier: tiers[step + 1] }));
  });
}

export function customerMessages(
  faker: Faker,
  persona: Persona,
  scope: { seed: number; months: number; now: number },
): DemoMessage[] {
  const journey = createJourney(faker, persona, scope.now, scope);
  if (persona.reach === 'member') memberHistory(journey);
  else if (persona.reach === 'store') storeHistory(journey);
  else if (persona.reach === 'social') socialHistory(journey);
  else newsletterHistory(journey);
  tierUpgrades(journey);
  refunds(journey);
  npsSurveys(journey);
  careHistory(journey);
  campaignHistory(journey);
  return finish(journey.drafts, scope.now, (sequence) =>
    stableId('message', scope.seed, scope.months, persona.index, sequence),
  );
}
