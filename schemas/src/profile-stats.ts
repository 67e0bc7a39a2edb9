// How the states of `profile_stats` (migration 0011) become a profile's stats: one SQL fragment for every reader.

/**
 * The select list that merges the states of the `profile_stats` rows aliased `stats` into one row of `stat_*`
 * columns: group by the survivor profile to roll up every stored profile id it absorbed.
 */
export const profileStatsColumns = `
    uniqExactMerge(stats.messages) AS stat_events,
    min(stats.first_seen) AS stat_first_seen,
    max(stats.last_seen) AS stat_last_seen,
    groupUniqArrayArray(stats.orders) AS stat_order_list,
    length(stat_order_list) AS stat_orders,
    arraySum(order -> order.2, stat_order_list) AS stat_revenue,
    if(stat_orders = 0, NULL, max(stats.last_order_at)) AS stat_last_order_at,
    arraySort(groupUniqArrayArray(stats.channels)) AS stat_channels,
    argMaxMerge(stats.latest_nps) AS stat_latest_nps,
    argMaxMerge(stats.latest_csat) AS stat_latest_csat,
    length(arrayFilter(ticket -> NOT has(groupUniqArrayArray(stats.tickets_resolved), ticket), groupUniqArrayArray(stats.tickets_opened))) AS stat_open_tickets`;
