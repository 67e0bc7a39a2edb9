// English texts of the overview screen.
export const overview = {
  title: 'Overview',
};
