// The customers screen.
import { useI18n } from '../i18n';

export function Customers() {
  const { t } = useI18n();
  return <h1>{t('customers.title')}</h1>;
}
