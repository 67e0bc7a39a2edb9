// The repeat screen.
import { useI18n } from '../i18n';

export function Repeat() {
  const { t } = useI18n();
  return <h1>{t('repeat.title')}</h1>;
}
