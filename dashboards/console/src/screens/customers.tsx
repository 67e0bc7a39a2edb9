// Customer 360 by address: the search (/console/customers?q=…) and one customer (/console/customers/{type}:{value}).
import { useLocation } from 'preact-iso';
import { useI18n } from '../i18n';
import { parseRef } from './customers/lookup';
import { CustomerPage } from './customers/profile';
import { SearchForm, SearchResult } from './customers/search';

const prefix = '/console/customers';

export function Customers() {
  const { t } = useI18n();
  const { path, query } = useLocation();
  const rest = path.startsWith(prefix) ? path.slice(prefix.length).replace(/^\/+/, '') : '';
  const searched = query.q ?? '';
  const candidate = rest ? parseRef(rest) : null;
  return (
    <section class="customers-screen" aria-labelledby="customers-title">
      <h1 id="customers-title">{t('customers.title')}</h1>
      {!rest && <p class="muted">{t('customers.intro')}</p>}
      <SearchForm key={searched} initial={rest ? '' : searched} />
      {rest ? (
        candidate ? (
          <CustomerPage key={rest} candidate={candidate} query={searched} />
        ) : (
          <div class="state error" role="alert">
            <p>{t('customers.badAddress')}</p>
          </div>
        )
      ) : (
        searched.trim() !== '' && <SearchResult key={searched} query={searched} />
      )}
    </section>
  );
}
