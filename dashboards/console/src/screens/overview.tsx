// The overview screen.
import { useI18n } from '../i18n';

export function Overview() {
  const { t } = useI18n();
  return <h1>{t('overview.title')}</h1>;
}
