// Văn bản tiếng Việt của màn hình overview.
import type { overview as en } from '../en/overview';

export const overview: typeof en = {
  title: 'Tổng quan',
};
