// English texts of the care screen.
export const care = {
  title: 'Care',
};
