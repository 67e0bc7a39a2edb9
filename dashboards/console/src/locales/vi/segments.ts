// Văn bản tiếng Việt của màn hình segments.
import type { segments as en } from '../en/segments';

export const segments: typeof en = {
  title: 'Phân khúc',
};
