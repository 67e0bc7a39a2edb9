// Consent as Segment's consent wrappers state it: `context.consent.categoryPreferences`, one boolean per category.

/** Whether the event's consent denies any of the categories the platform needs (compared without case). */
export type Denied = (context: string) => boolean;

/**
 * An event whose `context.consent.categoryPreferences` sets one of `categories` to false is denied; an event that
 * says nothing of consent, or of those categories, is not. Only a context that mentions consent is parsed.
 */
export function consentRule(categories: string[]): Denied {
  const needed = new Set(categories.map((category) => category.trim().toLowerCase()).filter(Boolean));
  if (needed.size === 0) return () => false;
  return (context) => {
    if (!context.includes('"consent"')) return false;
    try {
      const preferences = (JSON.parse(context) as { consent?: { categoryPreferences?: unknown } }).consent
        ?.categoryPreferences;
      if (typeof preferences !== 'object' || preferences === null || Array.isArray(preferences)) return false;
      return Object.entries(preferences).some(
        ([category, granted]) => granted === false && needed.has(category.toLowerCase()),
      );
    } catch {
      return false;
    }
  };
}
