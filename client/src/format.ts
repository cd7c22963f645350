// Number, money and date formatting in one place.
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const usdPrecise = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
const integer = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const formatUsd = (value: number): string => usd.format(value);
/** Small amounts (provider cost of a few calls) keep up to four decimals instead of showing $0.00. */
export const formatUsdPrecise = (value: number): string => (value > 0 && value < 0.01 ? usdPrecise.format(value) : usd.format(value));
export const formatInteger = (value: number): string => integer.format(Math.round(value));
export const formatCompact = (value: number): string => compact.format(value);
/** Catalog prices: "$0.15", "$0.60", "$0.075", "$5", "$2.50". */
export function formatPrice(value: number): string {
  if (Number.isInteger(value)) return `$${value}`;
  const text = value.toFixed(3).replace(/0$/, '');
  return `$${text}`;
}

export function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

export function recentMonths(count: number): string[] {
  const now = new Date();
  const months: string[] = [];
  for (let offset = 0; offset < count; offset++) {
    const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - offset, 1));
    months.push(date.toISOString().slice(0, 7));
  }
  return months;
}

export function formatMonth(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number);
  return new Date(Date.UTC(year!, monthNumber! - 1, 1)).toLocaleDateString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric' });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
}

/** Plain-language size of an allowance for people who do not think in tokens (≈1,000 per conversation). */
export function conversationsFor(tokens: number): string {
  const conversations = tokens / 1000;
  if (conversations >= 1000) return `${formatInteger(Math.round(conversations / 100) * 100)}`;
  return formatInteger(Math.max(10, Math.round(conversations / 10) * 10));
}
