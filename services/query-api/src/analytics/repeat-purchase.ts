// Repeat purchase over a window: customers, repeat customers, orders per customer and the time between purchases.
import type { ClickHouseClient } from '@cdp/runtime';
import type { RepeatPurchaseQuery, RepeatPurchaseResponse } from '@cdp/schemas';
import { fromParam, medianOfSorted, ratio, rows, scopedTouchpoints, scopeParams, toParam } from './scope';

const dayMs = 86_400_000;

// Each customer's purchase times in the window, sorted; days are fractional (milliseconds / 86 400 000).
const repeatPurchaseQuery = `
  SELECT
    customers, repeat_customers, orders, with_1, with_2, with_3, with_4, with_5_or_more,
    ${medianOfSorted('to_second')} AS median_days_to_second_purchase,
    ${medianOfSorted('gaps')} AS median_days_between_purchases
  FROM (
    SELECT
      count() AS customers,
      countIf(purchases >= 2) AS repeat_customers,
      sum(purchases) AS orders,
      countIf(purchases = 1) AS with_1,
      countIf(purchases = 2) AS with_2,
      countIf(purchases = 3) AS with_3,
      countIf(purchases = 4) AS with_4,
      countIf(purchases >= 5) AS with_5_or_more,
      arraySort(groupArrayIf((times[2] - times[1]) / ${dayMs}, purchases >= 2)) AS to_second,
      arraySort(groupArrayArray(arrayMap((earlier, later) -> (later - earlier) / ${dayMs}, arrayPopBack(times), arrayPopFront(times)))) AS gaps
    FROM (
      SELECT profile_id, arraySort(groupArray(toUnixTimestamp64Milli(timestamp))) AS times, length(times) AS purchases
      FROM ${scopedTouchpoints({ kinds: ['order'], since: fromParam, until: toParam })}
      GROUP BY profile_id
    )
  )`;

interface RepeatRow {
  customers: number;
  repeat_customers: number;
  orders: number;
  with_1: number;
  with_2: number;
  with_3: number;
  with_4: number;
  with_5_or_more: number;
  median_days_to_second_purchase: number | null;
  median_days_between_purchases: number | null;
}

export async function repeatPurchase(
  client: ClickHouseClient,
  query: RepeatPurchaseQuery,
): Promise<RepeatPurchaseResponse> {
  const [row] = await rows<RepeatRow>(client, 'analytics.repeatPurchase', repeatPurchaseQuery, scopeParams(query));
  const customers = row?.customers ?? 0;
  return {
    customers,
    repeatCustomers: row?.repeat_customers ?? 0,
    orders: row?.orders ?? 0,
    repeatRate: ratio(row?.repeat_customers ?? 0, customers),
    ordersPerCustomer: ratio(row?.orders ?? 0, customers),
    distribution: {
      '1': row?.with_1 ?? 0,
      '2': row?.with_2 ?? 0,
      '3': row?.with_3 ?? 0,
      '4': row?.with_4 ?? 0,
      '5+': row?.with_5_or_more ?? 0,
    },
    medianDaysToSecondPurchase: row?.median_days_to_second_purchase ?? null,
    medianDaysBetweenPurchases: row?.median_days_between_purchases ?? null,
  };
}
