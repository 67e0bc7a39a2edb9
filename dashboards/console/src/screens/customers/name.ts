// A customer's name from their traits, as a care agent would say it: `name`, else family and given names in either spelling.
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

export function customerName(traits: Record<string, unknown>): string | undefined {
  const full = text(traits.name);
  if (full) return full;
  const given = text(traits.firstName) ?? text(traits.first_name);
  const family = text(traits.lastName) ?? text(traits.last_name);
  // Vietnamese names put the family name first.
  return [family, given].filter(Boolean).join(' ') || undefined;
}
