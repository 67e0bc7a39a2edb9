// Văn bản tiếng Việt của màn hình groups.
import type { groups as en } from '../en/groups';

export const groups: typeof en = {
  title: 'Nhóm khách hàng',
};
