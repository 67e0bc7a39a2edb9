// English texts of the segments screen.
export const segments = {
  title: 'Segments',
};
