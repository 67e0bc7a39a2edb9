// Văn bản tiếng Việt của màn hình retention.
import type { retention as en } from '../en/retention';

export const retention: typeof en = {
  title: 'Giữ chân khách hàng',
};
