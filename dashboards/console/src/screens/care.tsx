// The care screen.
import { useI18n } from '../i18n';

export function Care() {
  const { t } = useI18n();
  return <h1>{t('care.title')}</h1>;
}
