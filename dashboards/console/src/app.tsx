// The console's frame: language, sign-in, the navigation and one route per screen (each screen's code loads when first opened).
import { LocationProvider, Route, Router, lazy, useLocation } from 'preact-iso';
import { useMemo, useState } from 'preact/hooks';
import { ApiContext, ApiError, createApi } from './api';
import { forgetKey, keepKey, storedKey } from './auth';
import { SignIn } from './components/sign-in';
import { ErrorBox } from './components/states';
import {
  createI18n,
  I18nContext,
  initialLanguage,
  languages,
  locales,
  rememberLanguage,
  useI18n,
  type I18n,
  type Language,
} from './i18n';
import { Overview } from './screens/overview';

/** A screen whose code could not be fetched (the platform stopped, the network dropped): said so, never a blank page. */
function Unreachable() {
  return <ErrorBox error={new ApiError(0, 'NETWORK', '')} retry={() => globalThis.location.reload()} />;
}
const orUnreachable = <T,>(screen: Promise<T>) => screen.catch(() => Unreachable);

const Retention = lazy(() => orUnreachable(import('./screens/retention').then((module) => module.Retention)));
const Repeat = lazy(() => orUnreachable(import('./screens/repeat').then((module) => module.Repeat)));
const Groups = lazy(() => orUnreachable(import('./screens/groups').then((module) => module.Groups)));
const Segments = lazy(() => orUnreachable(import('./screens/segments').then((module) => module.Segments)));
const Customers = lazy(() => orUnreachable(import('./screens/customers').then((module) => module.Customers)));
const Care = lazy(() => orUnreachable(import('./screens/care').then((module) => module.Care)));
const Destinations = lazy(() => orUnreachable(import('./screens/destinations').then((module) => module.Destinations)));

export const base = '/console';

const screens = [
  { path: '/', key: 'overview' },
  { path: '/retention', key: 'retention' },
  { path: '/repeat', key: 'repeat' },
  { path: '/groups', key: 'groups' },
  { path: '/segments', key: 'segments' },
  { path: '/customers', key: 'customers' },
  { path: '/care', key: 'care' },
  { path: '/destinations', key: 'destinations' },
] as const;

function Navigation({ onSignOut }: { onSignOut: () => void }) {
  const { t, language, setLanguage } = useI18n();
  const { path, query } = useLocation();
  // The analytics filters travel from screen to screen.
  const carried = new URLSearchParams(
    Object.entries(query).filter(([name]) =>
      ['preset', 'from', 'to', 'tz', 'channel', 'segment'].includes(name),
    ) as Array<[string, string]>,
  ).toString();
  return (
    <header class="top">
      <a class="brand" href={`${base}/`}>
        CDP
      </a>
      <nav aria-label={t('common.nav.menu')}>
        <ul>
          {screens.map((screen) => {
            const href = `${base}${screen.path}`;
            const current = screen.path === '/' ? path === `${base}/` || path === base : path.startsWith(href);
            return (
              <li key={screen.key}>
                <a
                  href={`${href}${carried && !['segments', 'customers', 'destinations'].includes(screen.key) ? `?${carried}` : ''}`}
                  aria-current={current ? 'page' : undefined}
                >
                  {t(`common.nav.${screen.key}`)}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <div class="session">
        <label>
          <span class="visually-hidden">{t('common.language.label')}</span>
          <select
            value={language}
            onChange={(event) => setLanguage((event.target as HTMLSelectElement).value as Language)}
            aria-label={t('common.language.label')}
          >
            {languages.map((option) => (
              <option key={option} value={option}>
                {t(`common.language.${option}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={onSignOut}>
          {t('common.signIn.signOut')}
        </button>
      </div>
    </header>
  );
}

function NotFound() {
  return <Overview />;
}

export function App() {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const [key, setKey] = useState<string | null>(storedKey);
  const [notice, setNotice] = useState<string | undefined>();
  const i18n = useMemo(() => createI18n(language), [language]);
  const value = useMemo<I18n>(
    () => ({
      language,
      locale: locales[language],
      t: (name, options) => i18n.t(name, options ?? {}) as string,
      setLanguage: (next) => {
        rememberLanguage(next);
        setLanguageState(next);
      },
    }),
    [i18n, language],
  );
  const signOut = (message?: string) => {
    forgetKey();
    setKey(null);
    setNotice(message);
  };
  const api = useMemo(
    () => (key ? createApi(key, () => signOut(i18n.t('common.signIn.signedOut'))) : null),
    [key, i18n],
  );
  document.documentElement.lang = language;

  return (
    <I18nContext.Provider value={value}>
      <LocationProvider scope={base}>
        {!key || !api ? (
          <SignIn
            notice={notice}
            onSignedIn={(accepted) => {
              keepKey(accepted);
              setNotice(undefined);
              setKey(accepted);
            }}
          />
        ) : (
          <ApiContext.Provider value={api}>
            <Navigation onSignOut={() => signOut()} />
            <main id="main">
              <Router>
                <Route path={`${base}/`} component={Overview} />
                <Route path={`${base}/retention`} component={Retention} />
                <Route path={`${base}/repeat`} component={Repeat} />
                <Route path={`${base}/groups`} component={Groups} />
                <Route path={`${base}/segments/:rest*`} component={Segments} />
                <Route path={`${base}/customers/:rest*`} component={Customers} />
                <Route path={`${base}/care`} component={Care} />
                <Route path={`${base}/destinations/:rest*`} component={Destinations} />
                <Route default component={NotFound} />
              </Router>
            </main>
          </ApiContext.Provider>
        )}
      </LocationProvider>
    </I18nContext.Provider>
  );
}
