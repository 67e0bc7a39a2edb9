// Shopping touchpoints: visits on the website and in the app, store receipts, Zalo / Facebook orders, and refunds.
import {
  catalog,
  maxOrderRevenue,
  referrers,
  refundReasons,
  siteUrl,
  slugOf,
  stores,
  webPages,
  type Product,
} from './catalog';
import { later, spacedPhone, timeBetween, type Journey } from './journey';
import { page, screen, serverContextWith, track, type Sender } from './messages';
import { dayMs } from './persona';

/** Cheaper things are looked at and bought more often. */
const productWeights = catalog.map((product) => ({ value: product, weight: 1 / Math.sqrt(product.price / 100_000) }));

const productProperties = (product: Product, channel: string) => ({
  product_id: product.id,
  sku: product.id.toUpperCase(),
  name: product.name,
  category: product.category,
  price: product.price,
  currency: 'VND',
  channel,
});

interface OrderLine {
  product: Product;
  quantity: number;
}

function pickProducts(journey: Journey, count: number): Product[] {
  const picked: Product[] = [];
  while (picked.length < count) {
    const product = journey.faker.helpers.weightedArrayElement(productWeights);
    if (!picked.includes(product)) picked.push(product);
  }
  return picked;
}

/** One to three of the products looked at, within the demo's largest order. */
function orderLines(journey: Journey, looked: Product[]): OrderLine[] {
  const { faker } = journey;
  const count = faker.helpers.weightedArrayElement([
    { value: 1, weight: 6 },
    { value: 2, weight: 3 },
    { value: 3, weight: 1 },
  ]);
  const products = [...looked.slice(0, count), ...pickProducts(journey, count)]
    .filter((product, at, all) => all.indexOf(product) === at)
    .slice(0, count);
  const lines = products.map((product) => ({
    product,
    quantity: product.price < 500_000 && faker.datatype.boolean(0.3) ? 2 : 1,
  }));
  const total = () => lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
  while (total() > maxOrderRevenue && lines.length > 1) lines.pop();
  for (const line of lines) if (total() > maxOrderRevenue) line.quantity = 1;
  return lines;
}

function placeOrder(
  journey: Journey,
  sender: Sender,
  at: number,
  lines: OrderLine[],
  channel: string,
  extra: Record<string, unknown>,
): void {
  const orderId = journey.nextId('DH');
  const revenue = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
  const products = lines.map((line) => ({ ...productProperties(line.product, channel), quantity: line.quantity }));
  journey.add(
    at,
    track(sender, 'Order Completed', { order_id: orderId, revenue, currency: 'VND', products, channel, ...extra }),
  );
  journey.orders.push({ at, orderId, revenue, channel });
}

const onlinePayments = [
  { value: 'cod', weight: 40 },
  { value: 'momo', weight: 20 },
  { value: 'vnpay', weight: 15 },
  { value: 'zalopay', weight: 10 },
  { value: 'card', weight: 15 },
];

export interface ShopVisit {
  device: 'web' | 'app';
  sender: Sender;
  at: number;
  buy: boolean;
  /** Signs a guest in before checkout, returning who they are from then on. */
  signIn?: (at: number) => Sender;
}

/** A visit: landing, products looked at, maybe the cart, maybe an order. Returns when it ended. */
export function shopVisit(journey: Journey, visit: ShopVisit): number {
  const { faker } = journey;
  const { device } = visit;
  let sender = visit.sender;
  let at = visit.at;
  const view = (name: string, path: string, title: string, extra: Record<string, unknown> = {}) =>
    device === 'web'
      ? page(sender, name, { path, url: `${siteUrl}${path}`, title, ...extra })
      : screen(sender, name, extra);
  const landing = faker.helpers.arrayElement([webPages.home, webPages.home, webPages.deals]);
  journey.add(
    at,
    view(
      landing.name,
      landing.path,
      landing.name,
      device === 'web' ? { referrer: faker.helpers.arrayElement(referrers) } : {},
    ),
  );
  const looked = pickProducts(journey, faker.number.int({ min: 1, max: 3 }));
  for (const product of looked) {
    at = later(faker, at, 15, 150);
    journey.add(
      at,
      view(
        device === 'web' ? 'Sản phẩm' : 'Chi tiết sản phẩm',
        `/san-pham/${slugOf(product.name)}`,
        product.name,
        device === 'web' ? {} : { product_id: product.id },
      ),
    );
    journey.add(later(faker, at, 1, 3), track(sender, 'Product Viewed', productProperties(product, device)));
  }
  if (!visit.buy && !faker.datatype.boolean(0.25)) return at;
  const lines = orderLines(journey, looked);
  for (const line of lines) {
    at = later(faker, at, 10, 60);
    journey.add(
      at,
      track(sender, 'Product Added', { ...productProperties(line.product, device), quantity: line.quantity }),
    );
  }
  const value = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
  const abandons = !visit.buy;
  if (abandons && !faker.datatype.boolean(0.3)) return at;
  at = later(faker, at, 20, 120);
  journey.add(at, view(webPages.cart.name, webPages.cart.path, webPages.cart.name));
  if (visit.signIn) sender = visit.signIn(later(faker, at, 30, 90));
  at = later(faker, at, 60, 180);
  const products = lines.map((line) => ({ ...productProperties(line.product, device), quantity: line.quantity }));
  journey.add(
    at,
    track(sender, 'Checkout Started', { value, revenue: value, currency: 'VND', products, channel: device }),
  );
  if (abandons) return at;
  journey.add(later(faker, at, 5, 30), view(webPages.checkout.name, webPages.checkout.path, webPages.checkout.name));
  at = later(faker, at, 60, 300);
  const payment = faker.helpers.weightedArrayElement(onlinePayments);
  placeOrder(journey, sender, at, lines, device, { shipping: value >= 500_000 ? 0 : 30_000, payment_method: payment });
  // Cash-on-delivery orders are often confirmed by a call from the shop.
  if (payment === 'cod' && faker.datatype.boolean(0.2)) {
    const callAt = later(faker, at, 600, 4 * 3600);
    journey.add(
      callAt,
      track(journey.office, 'Call Completed', {
        call_id: journey.nextId('CG'),
        direction: 'outbound',
        purpose: 'Xác nhận đơn hàng',
        duration_seconds: faker.number.int({ min: 40, max: 240 }),
        channel: 'phone',
      }),
    );
  }
  return at;
}

/** A till receipt: the loyalty card's anonymousId and the phone the cashier typed, nothing else. */
export function storeReceipt(journey: Journey, at: number): void {
  const { faker, persona } = journey;
  const phone = persona.phone ?? '';
  const sender: Sender = {
    anonymousId: persona.devices.pos ?? '',
    context: serverContextWith({ phone: faker.datatype.boolean(0.5) ? spacedPhone(phone) : phone }),
  };
  const store = faker.helpers.arrayElement(stores);
  const lines = orderLines(journey, pickProducts(journey, faker.number.int({ min: 1, max: 3 })));
  placeOrder(journey, sender, at, lines, 'store', {
    store_id: store.id,
    store_name: store.name,
    payment_method: faker.helpers.arrayElement(['cash', 'cash', 'card', 'momo', 'vnpay_qr']),
  });
}

/** A chat on the shop's Zalo or Facebook page, sometimes ending in an order sent on by the agent. */
export function socialChat(journey: Journey, at: number, buy: boolean): void {
  const { faker, persona } = journey;
  const platform = faker.helpers.arrayElement(['zalo', 'zalo', 'facebook']);
  const sender: Sender = {
    anonymousId: persona.devices.contact ?? '',
    context: serverContextWith({ phone: persona.phone, name: persona.name.full }),
  };
  journey.add(at, track(sender, 'Chat Started', { chat_id: journey.nextId('CH'), platform, channel: 'social' }));
  if (!buy) return;
  const lines = orderLines(journey, pickProducts(journey, faker.number.int({ min: 1, max: 2 })));
  placeOrder(journey, sender, later(faker, at, 300, 3600), lines, 'social', {
    platform,
    payment_method: faker.helpers.arrayElement(['cod', 'bank_transfer']),
  });
}

/** A few orders come back: refunded some days later, by the back office. */
export function refunds(journey: Journey): void {
  const { faker } = journey;
  for (const order of journey.orders) {
    if (!faker.datatype.boolean(0.04)) continue;
    const at = timeBetween(faker, order.at + 2 * dayMs, order.at + 12 * dayMs);
    journey.add(
      at,
      track(journey.office, 'Order Refunded', {
        order_id: order.orderId,
        total: order.revenue,
        currency: 'VND',
        reason: faker.helpers.arrayElement(refundReasons),
        channel: order.channel,
      }),
    );
  }
}
