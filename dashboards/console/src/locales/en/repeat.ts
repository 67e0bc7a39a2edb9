// English texts of the repeat screen.
export const repeat = {
  title: 'Repeat purchase',
};
