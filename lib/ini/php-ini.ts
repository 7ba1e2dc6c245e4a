/**
 * @module ini/php-ini
 * Reading php.ini text (the subset of PHP's ini scanner that session settings use).
 */

/**
 * Reads php.ini text into name → value, as PHP's ini scanner does for the simple forms used for
 * session settings: `name = value`, quoted values, `;` comments, [sections] ignored, and the
 * bare words on/yes/true → "1", off/no/false/none/null → "".
 */
export function parseIniText(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawLine of text.split(/\r\n|\n|\r/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      const end = value.indexOf('"', 1);
      value = end < 0 ? value.slice(1) : value.slice(1, end);
    } else if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      value = end < 0 ? value.slice(1) : value.slice(1, end);
    } else {
      const sc = value.indexOf(';');
      if (sc >= 0) value = value.slice(0, sc).trim();
      const l = value.toLowerCase();
      if (l === 'on' || l === 'yes' || l === 'true') value = '1';
      else if (l === 'off' || l === 'no' || l === 'false' || l === 'none' || l === 'null') value = '';
    }
    out.set(name, value);
  }
  return out;
}
