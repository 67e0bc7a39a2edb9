// English texts of the retention screen: the cohort heatmap and its controls.
export const retention = {
  title: 'Retention',
  intro:
    'Customers grouped by when they first bought (or were first seen), and how many came back in each later period.',
  cohort: 'Cohorts by',
  cohorts: { first_purchase: 'First purchase', first_seen: 'First visit' },
  period: 'Period length',
  periods: 'Periods shown',
  heading: { first_purchase: 'Buyers who bought again', first_seen: 'Customers who came back' },
  explain: {
    first_purchase:
      'Each row is the customers whose first purchase ever falls in that period; each cell, the share of them who bought in the later period.',
    first_seen:
      'Each row is the customers first seen in that period; each cell, the share of them with any activity in the later period.',
  },
  table: 'Retention by cohort: share of each cohort back in each later period',
  cohortColumn: { day: 'Cohort (day)', week: 'Cohort (week from)', month: 'Cohort (month)' },
  size: 'Customers',
  offset: { day: 'Day {{n}}', week: 'Week {{n}}', month: 'Month {{n}}' },
  cell: '{{percent}}: {{back}} of {{size}} customers',
  customers: '{{number}} customers',
  notYet: 'not reached yet',
  all: 'All cohorts',
  empty: 'No customer starts a cohort in this period. Choose a longer period or count cohorts by first visit.',
};
