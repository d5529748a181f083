/** Shows a given value in a one-line error without flooding the line or printing control characters. */
export function quoteGiven(value: string): string {
  const flat = value.replace(/[\u0000-\u001f\u007f]/g, '?')
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 77)}...` : flat)
}

// SQL text the action writes (queries) or suggests (remediation in evidence): every identifier is
// quoted, always — a role `App-User` or a table `Weird-Table` pasted from a suggestion must work.

/** An identifier, quoted: `App-User` → `"App-User"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** `schema.table` or `table`, each part quoted. */
export function qualified(table: string, schema?: string | null): string {
  return schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table)
}

/** A string literal: `it's` → `'it''s'`. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/**
 * A configuration parameter's name as ALTER ROLE … RESET takes it: each dotted part quoted
 * (`app.current_tenant_id` → `"app"."current_tenant_id"`; parameter names ignore case).
 */
export function quoteSettingName(name: string): string {
  return name.split('.').map(quoteIdent).join('.')
}
