// The destinations screens by address: the list, a new destination, and one destination with its deliveries.
import { useLocation } from 'preact-iso';
import { DestinationDetail } from './destinations/detail';
import { DestinationForm } from './destinations/form';
import { DestinationsList } from './destinations/list';

const prefix = '/console/destinations';

export function Destinations() {
  const { path } = useLocation();
  const [first] = path.startsWith(prefix) ? path.slice(prefix.length).split('/').filter(Boolean) : [];
  if (first === undefined) return <DestinationsList />;
  if (first === 'new') return <DestinationForm />;
  let id = first;
  try {
    id = decodeURIComponent(first);
  } catch {
    // Not percent-encoded: the id as written.
  }
  return <DestinationDetail key={id} id={id} />;
}
