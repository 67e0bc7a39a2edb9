// The groups screen.
import { useI18n } from '../i18n';

export function Groups() {
  const { t } = useI18n();
  return <h1>{t('groups.title')}</h1>;
}
