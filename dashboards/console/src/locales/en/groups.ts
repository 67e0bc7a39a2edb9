// English texts of the groups screen.
export const groups = {
  title: 'Customer groups',
};
