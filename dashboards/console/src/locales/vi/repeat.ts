// Văn bản tiếng Việt của màn hình mua lại.
import type { repeat as en } from '../en/repeat';

export const repeat: typeof en = {
  title: 'Mua lại',
  intro:
    'Trong số khách hàng đã mua trong kỳ, bao nhiêu người mua nhiều hơn một lần, mua thường xuyên thế nào và bao lâu thì quay lại.',
  measures: 'Các chỉ số mua lại',
  customers: 'Người mua',
  repeatCustomers: 'Người mua lại',
  repeatRate: 'Tỷ lệ mua lại',
  ordersPerCustomer: 'Số đơn mỗi người mua',
  medianDaysToSecondPurchase: 'Thời gian đến lần mua thứ hai',
  medianDaysBetweenPurchases: 'Khoảng cách giữa hai lần mua',
  hints: {
    customers: 'có ít nhất một đơn trong kỳ',
    repeatCustomers: 'từ hai đơn trở lên',
    repeatRate: 'người mua lại trên tổng số người mua',
    ordersPerCustomer: 'trung bình',
    medianDaysToSecondPurchase: 'trung vị, từ đơn đầu đến đơn thứ hai',
    medianDaysBetweenPurchases: 'trung vị, giữa hai đơn liên tiếp',
  },
  distributionTitle: 'Người mua theo số đơn hàng',
  distributionIntro: '{{customers}} người mua đã đặt {{orders}} đơn hàng trong kỳ.',
  distribution: 'Người mua theo số đơn hàng đã đặt trong kỳ',
  ordersColumn: 'Số đơn',
  buyersColumn: 'Người mua (tỷ lệ)',
  orders: '{{number}} đơn',
  ordersOne: '1 đơn',
  ordersMany: 'Từ 5 đơn',
  empty: 'Không có ai mua hàng trong kỳ này. Hãy chọn khoảng thời gian dài hơn hoặc kênh khác.',
};
