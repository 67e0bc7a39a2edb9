// The demo shop's fixed world: Vietnamese retail products in VND, cities, stores, campaigns, care topics, devices.

export interface Product {
  id: string;
  name: string;
  category: string;
  /** Price in VND. */
  price: number;
}

const products = (category: string, items: Array<[string, string, number]>): Product[] =>
  items.map(([id, name, price]) => ({ id, name, category, price }));

export const catalog: Product[] = [
  ...products('Thời trang', [
    ['tt-001', 'Áo dài lụa tơ tằm', 1_850_000],
    ['tt-002', 'Áo dài cách tân', 690_000],
    ['tt-003', 'Áo thun cotton basic', 189_000],
    ['tt-004', 'Áo sơ mi linen', 399_000],
    ['tt-005', 'Quần jean nữ ống suông', 459_000],
    ['tt-006', 'Nón lá Huế', 89_000],
    ['tt-007', 'Túi xách da thật', 1_290_000],
    ['tt-008', 'Giày sneaker nam', 1_150_000],
  ]),
  ...products('Thực phẩm & đồ uống', [
    ['tp-001', 'Cà phê Buôn Ma Thuột rang xay 500g', 165_000],
    ['tp-002', 'Cà phê sữa hòa tan hộp 20 gói', 89_000],
    ['tp-003', 'Trà ô long Bảo Lộc 500g', 280_000],
    ['tp-004', 'Nước mắm Phú Quốc 40 độ đạm', 120_000],
    ['tp-005', 'Hộp bánh trung thu 4 bánh', 450_000],
    ['tp-006', 'Hạt điều rang muối Bình Phước 500g', 210_000],
  ]),
  ...products('Điện thoại & điện tử', [
    ['dt-001', 'Điện thoại Samsung Galaxy A55 5G', 9_490_000],
    ['dt-002', 'Điện thoại Xiaomi Redmi Note 13', 4_890_000],
    ['dt-003', 'Điện thoại iPhone 13 128GB', 13_990_000],
    ['dt-004', 'Tai nghe Bluetooth chống ồn', 690_000],
    ['dt-005', 'Sạc dự phòng 20.000 mAh', 450_000],
    ['dt-006', 'Đồng hồ thông minh', 2_990_000],
    ['dt-007', 'Máy tính bảng 10 inch', 6_490_000],
  ]),
  ...products('Làm đẹp', [
    ['ld-001', 'Kem chống nắng SPF 50+', 320_000],
    ['ld-002', 'Son kem lì', 250_000],
    ['ld-003', 'Nước hoa nữ 50ml', 1_650_000],
    ['ld-004', 'Sữa rửa mặt nghệ', 145_000],
  ]),
  ...products('Gia dụng', [
    ['gd-001', 'Nồi cơm điện 1,8 lít', 1_290_000],
    ['gd-002', 'Nồi chiên không dầu 6 lít', 1_990_000],
    ['gd-003', 'Quạt đứng', 750_000],
    ['gd-004', 'Máy lọc không khí', 3_490_000],
    ['gd-005', 'Bình giữ nhiệt inox', 259_000],
  ]),
];

/** Most VND a demo order may reach. */
export const maxOrderRevenue = 15_000_000;

export const slugOf = (text: string): string =>
  asciiOf(text)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** Vietnamese without its diacritics, as people type it into an email address. */
export function asciiOf(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D');
}

/** Family names with roughly their share of the population. */
export const familyNames: Array<{ value: string; weight: number }> = [
  ['Nguyễn', 31],
  ['Trần', 11],
  ['Lê', 9],
  ['Phạm', 7],
  ['Hoàng', 4],
  ['Huỳnh', 4],
  ['Phan', 4],
  ['Vũ', 3],
  ['Võ', 3],
  ['Đặng', 2],
  ['Bùi', 2],
  ['Đỗ', 1.5],
  ['Hồ', 1.5],
  ['Ngô', 1.5],
  ['Dương', 1],
  ['Lý', 0.5],
  ['Trương', 1],
  ['Đinh', 0.5],
].map(([value, weight]) => ({ value: value as string, weight: weight as number }));

export const cities: Array<{ value: string; weight: number }> = [
  ['TP. Hồ Chí Minh', 30],
  ['Hà Nội', 25],
  ['Đà Nẵng', 8],
  ['Hải Phòng', 6],
  ['Cần Thơ', 5],
  ['Biên Hòa', 4],
  ['Thủ Dầu Một', 3],
  ['Nha Trang', 3],
  ['Huế', 3],
  ['Vũng Tàu', 2],
  ['Buôn Ma Thuột', 2],
  ['Quy Nhơn', 2],
  ['Bắc Ninh', 2],
  ['Vinh', 2],
  ['Đà Lạt', 2],
  ['Hạ Long', 1],
].map(([value, weight]) => ({ value: value as string, weight: weight as number }));

export interface Store {
  id: string;
  name: string;
}

export const stores: Store[] = [
  { id: 'hcm-q1', name: 'Cửa hàng Quận 1, TP. Hồ Chí Minh' },
  { id: 'hcm-td', name: 'Cửa hàng Thủ Đức, TP. Hồ Chí Minh' },
  { id: 'hn-hk', name: 'Cửa hàng Hoàn Kiếm, Hà Nội' },
  { id: 'hn-cg', name: 'Cửa hàng Cầu Giấy, Hà Nội' },
  { id: 'dn-hc', name: 'Cửa hàng Hải Châu, Đà Nẵng' },
  { id: 'ct-nk', name: 'Cửa hàng Ninh Kiều, Cần Thơ' },
];

/** Viettel, Mobifone, Vinaphone and Vietnamobile mobile prefixes, after +84. */
export const mobilePrefixes = [
  '32',
  '33',
  '34',
  '35',
  '36',
  '37',
  '38',
  '39',
  '56',
  '58',
  '70',
  '76',
  '77',
  '78',
  '79',
  '81',
  '82',
  '83',
  '84',
  '85',
  '86',
  '88',
  '89',
  '90',
  '91',
  '93',
  '94',
  '96',
  '97',
  '98',
];

export const tiers = ['member', 'silver', 'gold', 'diamond'] as const;

export const campaigns = [
  'Flash sale cuối tuần',
  'Ưu đãi sinh nhật tháng này',
  'Bộ sưu tập áo dài mới',
  'Miễn phí giao hàng toàn quốc',
  'Giảm 20% đồ gia dụng',
  'Tri ân khách hàng thân thiết',
  'Cà phê mới về từ Buôn Ma Thuột',
  'Điện thoại trả góp 0%',
];

export type TicketType = 'question' | 'complaint' | 'request';

export const ticketTopics: Record<TicketType, string[]> = {
  question: [
    'Hỏi thời gian giao hàng',
    'Hỏi chính sách đổi trả',
    'Tư vấn chọn size áo dài',
    'Hỏi cách dùng mã giảm giá',
    'Hỏi tình trạng đơn hàng',
  ],
  request: ['Đổi size sản phẩm', 'Xuất hóa đơn VAT', 'Đổi địa chỉ giao hàng', 'Hủy đơn hàng', 'Cập nhật số điện thoại'],
  complaint: [
    'Giao hàng trễ',
    'Sản phẩm bị lỗi',
    'Nhận sai sản phẩm',
    'Nhân viên tư vấn chưa nhiệt tình',
    'Chưa nhận được tiền hoàn',
  ],
};

export const agents = ['Nguyễn Thu Trang', 'Lê Minh Khoa', 'Phạm Thảo Vy', 'Trần Quốc Bảo', 'Võ Ngọc Hân'];

export const refundReasons = ['Sản phẩm bị lỗi', 'Giao sai màu', 'Khách đổi ý', 'Không vừa size'];

export const webPages = {
  home: { name: 'Trang chủ', path: '/' },
  deals: { name: 'Khuyến mãi', path: '/khuyen-mai' },
  cart: { name: 'Giỏ hàng', path: '/gio-hang' },
  checkout: { name: 'Thanh toán', path: '/thanh-toan' },
} as const;

export const siteUrl = 'https://cuahang.example';

export const referrers = [
  'https://www.google.com/',
  'https://www.facebook.com/',
  'https://zalo.me/',
  'https://coccoc.com/search',
  '',
];

/** Browsers people in Vietnam use, Cốc Cốc among them. */
export const userAgents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/127.0.134 Chrome/121.0.6167.184 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
];

export const appDevices = [
  {
    type: 'android',
    manufacturer: 'Samsung',
    model: 'SM-A556E',
    os: { name: 'Android', version: '14' },
    library: 'analytics-android',
  },
  {
    type: 'android',
    manufacturer: 'Xiaomi',
    model: 'Redmi Note 13',
    os: { name: 'Android', version: '14' },
    library: 'analytics-android',
  },
  {
    type: 'android',
    manufacturer: 'OPPO',
    model: 'CPH2591',
    os: { name: 'Android', version: '13' },
    library: 'analytics-android',
  },
  {
    type: 'ios',
    manufacturer: 'Apple',
    model: 'iPhone14,5',
    os: { name: 'iOS', version: '17.5' },
    library: 'analytics-ios',
  },
  {
    type: 'ios',
    manufacturer: 'Apple',
    model: 'iPhone15,2',
    os: { name: 'iOS', version: '17.4' },
    library: 'analytics-ios',
  },
] as const;
