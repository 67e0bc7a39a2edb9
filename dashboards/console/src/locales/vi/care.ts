// Văn bản tiếng Việt của màn hình care.
import type { care as en } from '../en/care';

export const care: typeof en = {
  title: 'Chăm sóc khách hàng',
};
