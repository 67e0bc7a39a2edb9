// Văn bản tiếng Việt của màn hình repeat.
import type { repeat as en } from '../en/repeat';

export const repeat: typeof en = {
  title: 'Mua lại',
};
