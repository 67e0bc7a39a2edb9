// Văn bản tiếng Việt của màn hình customers.
import type { customers as en } from '../en/customers';

export const customers: typeof en = {
  title: 'Khách hàng 360',
};
