// Văn bản tiếng Việt của màn hình giữ chân khách hàng: bản đồ nhiệt theo nhóm và các tùy chọn.
import type { retention as en } from '../en/retention';

export const retention: typeof en = {
  title: 'Giữ chân khách hàng',
  intro:
    'Khách hàng được nhóm theo thời điểm mua lần đầu (hoặc lần đầu ghé thăm), và bao nhiêu người quay lại trong mỗi kỳ sau đó.',
  cohort: 'Nhóm theo',
  cohorts: { first_purchase: 'Lần mua đầu tiên', first_seen: 'Lần ghé thăm đầu tiên' },
  period: 'Độ dài kỳ',
  periods: 'Số kỳ hiển thị',
  heading: { first_purchase: 'Khách hàng quay lại mua', first_seen: 'Khách hàng quay lại' },
  explain: {
    first_purchase:
      'Mỗi hàng là những khách hàng có lần mua đầu tiên trong kỳ đó; mỗi ô là tỷ lệ trong số họ đã mua tiếp ở kỳ sau.',
    first_seen:
      'Mỗi hàng là những khách hàng xuất hiện lần đầu trong kỳ đó; mỗi ô là tỷ lệ trong số họ còn hoạt động ở kỳ sau.',
  },
  table: 'Tỷ lệ giữ chân theo nhóm: phần trăm khách hàng của mỗi nhóm quay lại ở từng kỳ sau',
  cohortColumn: { day: 'Nhóm (ngày)', week: 'Nhóm (tuần từ)', month: 'Nhóm (tháng)' },
  size: 'Khách hàng',
  offset: { day: 'Ngày {{n}}', week: 'Tuần {{n}}', month: 'Tháng {{n}}' },
  cell: '{{percent}}: {{back}} trên {{size}} khách hàng',
  customers: '{{number}} khách hàng',
  notYet: 'chưa tới kỳ này',
  all: 'Tất cả các nhóm',
  empty:
    'Không có khách hàng nào bắt đầu một nhóm trong khoảng thời gian này. Hãy chọn khoảng dài hơn hoặc nhóm theo lần ghé thăm đầu tiên.',
};
