// English texts of the customers screen.
export const customers = {
  title: 'Customer 360',
};
