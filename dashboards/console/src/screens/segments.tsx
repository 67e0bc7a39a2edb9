// The segments screen.
import { useI18n } from '../i18n';

export function Segments() {
  const { t } = useI18n();
  return <h1>{t('segments.title')}</h1>;
}
