// The segments screens by address: the list, a new segment, one segment's detail, and its rule in the builder.
import { useLocation } from 'preact-iso';
import { SegmentBuilder } from './segments/builder';
import { SegmentDetail } from './segments/detail';
import { SegmentsList } from './segments/list';

const prefix = '/console/segments';

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function Segments() {
  const { path, query } = useLocation();
  const rest = path.startsWith(prefix) ? path.slice(prefix.length).split('/').filter(Boolean) : [];
  const [first, second] = rest;
  if (first === undefined) return <SegmentsList />;
  if (first === 'new') return <SegmentBuilder key={`new:${query.from ?? ''}`} copyFrom={query.from} />;
  const id = decoded(first);
  if (second === 'edit') return <SegmentBuilder key={`edit:${id}`} id={id} />;
  return <SegmentDetail key={id} id={id} />;
}
