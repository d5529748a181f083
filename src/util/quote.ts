/** Shows a given value in a one-line error without flooding the line or printing control characters. */
export function quoteGiven(value: string): string {
  const flat = value.replace(/[\u0000-\u001f\u007f]/g, '?')
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 77)}...` : flat)
}
