// English texts of the retention screen.
export const retention = {
  title: 'Retention',
};
