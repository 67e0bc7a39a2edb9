// The retention screen.
import { useI18n } from '../i18n';

export function Retention() {
  const { t } = useI18n();
  return <h1>{t('retention.title')}</h1>;
}
