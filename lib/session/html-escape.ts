/**
 * @module lib/session/html-escape
 * `htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8', double_encode: false)`, the escaping
 * PHP's URL rewriter applies to the name and value of the hidden form input
 * (php_escape_html_entities_ex in ext/standard/html.c): `& " ' < >` become entities, except an `&`
 * that starts an entity PHP accepts as valid: `&#<digits>;` or `&#x<hex>;` up to U+10FFFF (with
 * strtol's `0x` prefix quirk: `&#x0x1F;` counts as valid), or `&name;` where name is an HTML 4.01
 * entity. Input is a JS string, so it is always valid UTF-8 (a lone surrogate becomes U+FFFD, as
 * ENT_SUBSTITUTE would render an invalid sequence).
 */

/**
 * The named entities of HTML 4.01, PHP's inverse map for ENT_HTML401. Recorded from PHP 8.2:
 * `get_html_translation_table(HTML_ENTITIES, ENT_QUOTES | ENT_HTML401)`, the named values (252).
 */
const HTML401_ENTITIES = new Set(
  (
    'quot amp lt gt nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn ' +
    'sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc ' +
    'Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute ' +
    'Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml ' +
    'aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ' +
    'ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml OElig oelig Scaron scaron Yuml fnof circ tilde ' +
    'Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho Sigma Tau Upsilon ' +
    'Phi Chi Psi Omega alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho ' +
    'sigmaf sigma tau upsilon phi chi psi omega thetasym upsih piv ensp emsp thinsp zwnj zwj lrm rlm ndash mdash ' +
    'lsquo rsquo sbquo ldquo rdquo bdquo dagger Dagger bull hellip permil prime Prime lsaquo rsaquo oline frasl ' +
    'euro image weierp real trade alefsym larr uarr rarr darr harr crarr lArr uArr rArr dArr hArr forall part ' +
    'exist empty nabla isin notin ni prod sum minus lowast radic prop infin ang and or cap cup int there4 sim ' +
    'cong asymp ne equiv le ge sub sup nsub sube supe oplus otimes perp sdot lceil rceil lfloor rfloor lang ' +
    'rang loz spades clubs hearts diams'
  ).split(' '),
);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isXDigit = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[0-9a-zA-Z]$/.test(c);

/**
 * The length of the entity body after `&` at `at` (without `&`, with `;`), or 0 when there is no
 * entity PHP would keep (process_numeric_entity / process_named_entity_html + the HTML 4.01 map).
 */
function keptEntityLength(s: string, at: number): number {
  if (s[at] === '#') {
    let i = at + 1;
    const hex = s[i] === 'x' || s[i] === 'X';
    if (hex) i++;
    if (hex ? !isXDigit(s[i]) : !isDigit(s[i])) return 0;
    // strtol(base 16) takes an optional 0x prefix after the x.
    if (hex && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && isXDigit(s[i + 2])) i += 2;
    let code = 0;
    while (hex ? isXDigit(s[i]) : isDigit(s[i])) {
      code = Math.min(code * (hex ? 16 : 10) + parseInt(s[i]!, 16), 0x7fffffff);
      i++;
    }
    if (s[i] !== ';' || code > 0x10ffff) return 0;
    return i + 1 - at;
  }
  let i = at;
  while (isAlnum(s[i])) i++;
  if (s[i] !== ';' || i === at) return 0;
  return HTML401_ENTITIES.has(s.slice(at, i)) ? i + 1 - at : 0;
}

const BASIC: Record<string, string> = { '"': '&quot;', "'": '&#039;', '<': '&lt;', '>': '&gt;' };

/** htmlspecialchars(s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8', false). */
export function htmlSpecialCharsNoDouble(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '&') {
      const n = keptEntityLength(s, i + 1);
      if (n > 0) {
        out += s.slice(i, i + 1 + n);
        i += n;
      } else {
        out += '&amp;';
      }
      continue;
    }
    out += BASIC[c] ?? c;
  }
  return out;
}
