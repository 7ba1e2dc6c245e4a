/**
 * @module spec/transsid/cases
 * The trans-sid differential cases: HTML (and output steps) that php-cgi runs through its URL
 * rewriter (spec/php/driver.php, rewrite mode) and the engine through lib/session/url-rewriter.ts.
 * Expected output is never written here: PHP produces it on every run.
 */
import type { RewriteStep } from '../php/driver.ts';

/** A real page: links, forms, area, frames, relative and absolute URLs, fragments, entities. */
export const SAMPLE_PAGE = `<!DOCTYPE html>
<html><head><title>Shop &amp; more</title>
<link rel="stylesheet" href="/s.css"><script src="/app.js"></script></head>
<body>
<h1>Caf\u00e9 \u2014 d\u00e9j\u00e0 vu</h1>
<a href="index.php">home</a> <a href="/cart.php?item=12&amp;qty=1">cart</a>
<a href='list.php?page=2#top'>page 2</a> <a href=plain.php>plain</a> <a href="#anchor">anchor</a>
<a href="http://localhost/abs.php">same host</a> <a href="https://www.example.com/x">other</a>
<a href="mailto:me@example.com">mail</a> <a href="javascript:void(0)">js</a> <a href="">empty</a>
<a href="//localhost/proto-relative">pr</a> <a href="http://localhost">bare host</a>
<A HREF="UPPER.PHP">upper</A> <a class="x" id='y' href = "spaced.php" title=t>spaced</a>
<a href="?only=query">q</a> <a href="dir/">dir</a> <a href="a.php?x=1&y=2#frag">frag</a>
<map name="m"><area shape="rect" coords="0,0,1,1" href="area.php" alt="a"></map>
<frameset><frame src="frame.php"><frame src="http://other.example/f.php"></frameset>
<iframe src="iframe.php"></iframe> <img src="img.png">
<form action="post.php" method="post"><input name="q"></form>
<form method="get"><input type="submit"></form>
<FORM ACTION="http://localhost/upper.php">x</FORM>
<form action="https://other.example/pay">pay</form>
<form>after a foreign action</form>
<form action=unquoted.php>u</form> <form/>
<a href="caf\u00e9.php?n=\u00e9">utf8</a>
<!-- <a href="commented.php"> --> <p>a < b and c > d</p>
</body></html>
`;

export interface RewriteCase {
  name: string;
  /** The output steps; `html` is a shorthand for session_id + session_start + echo. */
  steps?: RewriteStep[];
  html?: string;
  ini?: Record<string, string>;
  httpHost?: string;
  cookie?: string;
  /** Also feed the output split at every byte (or every char for multi-byte text). */
  everySplit?: boolean;
  /** The php-src ext/session/tests phpt whose subject the case reproduces (spec/conformance/PHPT.md). */
  phpt?: string[];
  /** The raw query string (GET). */
  query?: string;
  /**
   * A variable changes after output was written: PHP rewrites its whole buffer at the end with the
   * final variables, so the engine side passes all output through rewriteOutput once at the end
   * (streaming would rewrite earlier output with the earlier variables).
   */
  phpBuffers?: boolean;
}

/** The ini every case starts from: trans-sid on, no cookies, so PHP rewrites. */
export const TRANS_SID_INI: Record<string, string> = {
  'session.use_trans_sid': '1',
  'session.use_only_cookies': '0',
  'session.use_cookies': '0',
};

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const echo = (s: string): RewriteStep => ({ op: 'echo', args: [b64(s)] });
export const start = (id = 'abc123'): RewriteStep[] => [{ op: 'session_id', args: [id] }, { op: 'session_start' }];

/** Regenerated ids are random: both sides' are replaced by one token. */
export const normalizeIds = (s: string): string => s.replace(/(?<![0-9a-z])[0-9a-f]{32}(?![0-9a-z])/g, '<NEWID>');

/** A case's steps (`html` is a shorthand for session_id + session_start + echo). */
export function caseSteps(c: RewriteCase): RewriteStep[] {
  return c.steps ?? [...start(), echo(c.html ?? '')];
}

const ini = (name: string, value: string): RewriteStep => ({ op: 'ini_set', args: [name, value] });

/** Links to every path shape (relative, absolute, query, fragment) on no host, on `host`, with each scheme. */
function linkMatrix(host: string): string {
  const paths = ['', '/', '/path', '/path/', '/path/?foo=var', '../', '../path/?foo=var#bar', '/#bar', '/?foo', '/?foo#bar', 'file.php', 'file.php?foo=var#bar', '../file.php?foo'];
  const prefixes = ['', `http://${host}`, `https://${host}`, `https://${host}:8443`, `//${host}`];
  const out: string[] = [];
  for (const pre of prefixes) for (const p of paths) if (pre !== '' || p !== '') out.push(`<a href="${pre}${p}">t</a>`);
  for (const action of ['script.php', '../script.php', `http://${host}/script.php`, `https://${host}/script.php`, `//${host}/script.php`, `https://${host}/foo/../script.php`]) {
    out.push(`<form method="post" action="${action}">\n  <input type="text" name="t1"></input>\n</form>`);
  }
  return `${out.join('\n')}\n`;
}

export const CASES: RewriteCase[] = [
  { name: 'sample page, default tags, no hosts', html: SAMPLE_PAGE, everySplit: true },
  { name: 'sample page, trans_sid_hosts lists localhost and www.example.com', html: SAMPLE_PAGE, ini: { 'session.trans_sid_hosts': 'localhost,WWW.Example.com' } },
  { name: 'sample page, HTTP_HOST with a port', html: SAMPLE_PAGE, httpHost: 'LocalHost:8080' },
  { name: 'sample page, other HTTP_HOST', html: SAMPLE_PAGE, httpHost: 'other.example' },
  {
    name: 'sample page, custom tags (img=src, iframe=SRC, form=action, link=href)',
    html: SAMPLE_PAGE,
    ini: { 'session.trans_sid_tags': 'img=src,IFRAME=SRC,form=action,link=href,a=href,a=title,bad,,=x' },
  },
  { name: 'sample page, arg_separator.output=&amp;', html: SAMPLE_PAGE, ini: { 'arg_separator.output': '&amp;' } },
  {
    name: 'broken markup',
    html:
      '<a href="x.php>broken</a> <a href=\'y.php>z</a> <<a href=a.php> <a  href  =  "b.php" > <a href=> <a href="c.php"/>' +
      '<a/href="d.php"> <a 1href="e.php"> <a -x href="f.php"> <a href="g.php"href="h.php"> < a href="i.php"> <a\thref="j.php"\n>' +
      '<a href="k.php\'> <a href=\'l.php"\'> <a href= > <a href=\t"m.php"> <a:b href="ns.php"> <svg:a href="n.php"> </a href="o.php">' +
      '<a data-href="p.php" hreflang="en" href="q.php"> <a HrEf="r.php"> <a href="s.php" <a href="t.php">',
    everySplit: true,
  },
  {
    name: 'forms: action prefixes, whitelist, stale action',
    html:
      '<form a="http://other.example/">1</form><form>2</form><form act="http://localhost/">3</form><form actions="http://other.example/">4</form>' +
      '<form action="ftp://localhost/">5</form><form action="http://localhost:99999/">6</form><form action="//localhost/p">7</form>' +
      '<form action="http://LOCALHOST/">8</form><form action="http:///x">9</form><form action="">10</form><form/>11<form >12</form>',
  },
  {
    name: 'forms with trans_sid_hosts',
    html: '<form action="http://LOCALHOST/">1</form><form action="http://localhost/">2</form><form action="http://a.example/">3</form><form>4</form>',
    ini: { 'session.trans_sid_hosts': 'a.example,localhost' },
  },
  {
    name: 'URL shapes',
    html: [
      'http://u:p@localhost/x',
      'http://u@localhost:8080/x?y#z',
      'http://u:@localhost',
      'HTTPS://localhost:0/x',
      'http://[::1]/x',
      'a.com:80',
      'a.com:80/x',
      ':80/x',
      ':',
      'x:y',
      'x:/y',
      'x:/',
      '/x:8080/y',
      '//x:99/y?z',
      'file:///c:/x',
      '?',
      '#',
      'x#',
      'x?#',
      'x?a=1&b=2',
      '/p?q',
      'p q',
      'a\tb',
      'http://localhost:8a/x',
      'http://localhost:/x',
      'http://localhost:123456/x',
      '//[::1]:80/x',
      'caf\u00e9',
    ]
      .map((u) => `<a href="${u}">u</a>`)
      .join('\n'),
    ini: { 'session.trans_sid_hosts': 'localhost,x,[::1],a.com' },
  },
  {
    name: 'tags only at the end of the output (held back, passed through)',
    html: '<a href="a.php">1</a><form>',
  },
  { name: 'output ends inside a tag', html: '<a href="a.php">1</a><a href="b.php' },
  { name: 'output ends with a form then a newline', html: '<form>\n' },
  {
    name: 'session name and id that need encoding',
    steps: [{ op: 'session_name', args: ['S_N-1.x'] }, ...start('a,b-c'), echo('<a href="x.php">x</a><form>f</form>\n')],
  },
  {
    name: 'output_add_rewrite_var without a session (url_rewriter.tags default: forms only)',
    steps: [
      { op: 'output_add_rewrite_var', args: ['v', 'a b&c<"\'>'] },
      { op: 'output_add_rewrite_var', args: ['n&amp;m', '&#x0x1F; &nbsp; &apos;'] },
      echo('<a href="x.php">x</a><form action="y.php">f</form><form action="http://localhost/">g</form>\n'),
    ],
  },
  {
    name: 'output_add_rewrite_var with url_rewriter.tags and hosts',
    steps: [{ op: 'output_add_rewrite_var', args: ['v', '1'] }, echo('<a href="x.php">x</a><a href="http://localhost/">y</a><form action="http://a.example/">f</form>\n')],
    ini: { 'url_rewriter.tags': 'a=href,form=', 'url_rewriter.hosts': 'a.example' },
  },
  {
    name: 'session and output_add_rewrite_var stacked (output var first)',
    steps: [{ op: 'output_add_rewrite_var', args: ['v', '1'] }, echo('<a href="0.php">0</a>'), ...start(), echo('<a href="x.php">x</a><form>f</form>\n')],
    ini: { 'url_rewriter.tags': 'a=href,form=' },
  },
  {
    name: 'session and output_add_rewrite_var stacked (session first), reset',
    phpBuffers: true,
    steps: [
      ...start(),
      echo('<a href="1.php">1</a>'),
      { op: 'output_add_rewrite_var', args: ['v', '1'] },
      { op: 'output_add_rewrite_var', args: ['w', '2'] },
      echo('<a href="2.php">2</a><form>f</form>'),
      { op: 'output_reset_rewrite_vars' },
      echo('<a href="3.php">3</a><form>g</form>\n'),
    ],
    ini: { 'url_rewriter.tags': 'a=href,form=' },
  },
  {
    name: 'regenerate_id after output: the whole buffer gets the new id',
    phpBuffers: true,
    steps: [...start(), echo('<a href="1.php">1</a>'), { op: 'session_regenerate_id' }, echo('<a href="2.php">2</a>\n')],
  },
  {
    name: 'ob_flush in the middle of a tag',
    steps: [...start(), echo('<a href="1.php">1</a><a hr'), { op: 'ob_flush' }, echo('ef="2.php">2</a> <a href="3.php">3</a>\n')],
  },
  {
    name: 'Location header is not rewritten',
    steps: [...start(), { op: 'header', args: ['Location: /next.php'] }, echo('<a href="1.php">1</a>\n')],
  },
  {
    name: 'a session cookie in the request: no trans-sid',
    html: '<a href="1.php">1</a><form>f</form>\n',
    ini: { 'session.use_cookies': '1' },
    cookie: 'PHPSESSID=abc123',
  },
  {
    name: 'cookies on but none sent: trans-sid and a cookie',
    html: '<a href="1.php">1</a><form>f</form>\n',
    ini: { 'session.use_cookies': '1' },
  },
  { name: 'use_only_cookies: no rewriting', html: '<a href="1.php">1</a><form>f</form>\n', ini: { 'session.use_only_cookies': '1' } },
  { name: 'tags setting empty', html: '<a href="1.php">1</a><form>f</form>\n', ini: { 'session.trans_sid_tags': '' } },
  {
    name: 'SID: echoed into a link, which the rewriter extends again',
    phpt: ['015.phpt'],
    steps: [...start('test015'), echo('<a href="/link?'), { op: 'echo_sid' }, echo('">\n'), { op: 'session_destroy' }],
  },
  {
    name: 'SID: cookie id gives "", then a GET id with cookies off gives name=id',
    phpt: ['bug72940.phpt'],
    ini: { 'session.use_cookies': '1' },
    cookie: 'PHPSESSID=bug72940test',
    query: 'PHPSESSID=bug72940get',
    steps: [
      { op: 'session_start' },
      { op: 'sid' },
      { op: 'session_destroy' },
      ini('session.use_cookies', '0'),
      { op: 'session_start' },
      { op: 'sid' },
      { op: 'session_destroy' },
      echo('\n'),
    ],
  },
  {
    name: 'SID: two sessions started and destroyed with explicit ids',
    phpt: ['013.phpt'],
    ini: { 'session.use_trans_sid': '0' },
    steps: [...start('test013'), { op: 'sid' }, { op: 'session_destroy' }, ...start('test013-2'), { op: 'sid' }, { op: 'session_destroy' }, echo('I live\n')],
  },
  {
    name: 'SID: defined after session_regenerate_id',
    phpt: ['bug74833.phpt'],
    ini: { 'session.use_trans_sid': '0', 'session.use_cookies': '1', 'session.use_only_cookies': '1' },
    steps: [{ op: 'sid' }, { op: 'session_start' }, { op: 'session_regenerate_id' }, { op: 'sid' }, echo('\n')],
  },
  {
    name: 'SID values',
    phpBuffers: true,
    steps: [{ op: 'sid' }, ...start(), { op: 'sid' }, echo('<a href="1.php">1</a>'), { op: 'session_regenerate_id' }, { op: 'sid' }, { op: 'session_write_close' }, { op: 'sid' }, echo('\n')],
  },
  // The subjects of php-src's trans-sid phpts (our own scripts, same settings and markup shapes).
  {
    name: 'form with an unquoted action and a quoted attribute holding commas',
    phpt: ['018.phpt'],
    html: '<form accept-charset="ISO-8859-15, ISO-8859-1" action=url.php>',
    ini: { 'session.cache_limiter': '' },
  },
  {
    name: 'arg_separator.output=&amp; joins an existing query',
    phpt: ['020.phpt', 'bug41600.phpt'],
    html: '<a href="link.php?a=b">',
    ini: { 'arg_separator.output': '&amp;' },
  },
  {
    name: 'forms and fieldsets while url_rewriter.tags changes between ob_flush calls',
    phpt: ['021.phpt'],
    httpHost: 'php.net',
    ini: { 'url_rewriter.tags': 'a=href,area=href,frame=src,input=src,form=,fieldset=' },
    steps: [
      ini('session.trans_sid_hosts', 'php.net'),
      ...start('test021'),
      echo('<form action="//bad.net/do.php">\n<fieldset>\n<form action="//php.net/do.php">\n<fieldset>\n'),
      { op: 'ob_flush' },
      ini('url_rewriter.tags', 'a=href,area=href,frame=src,input=src,form='),
      echo('<form action="../do.php">\n<fieldset>\n'),
      { op: 'ob_flush' },
      ini('url_rewriter.tags', 'a=href,area=href,frame=src,input=src,form=fakeentry'),
      echo('<form action="/do.php">\n<fieldset>\n'),
      { op: 'ob_flush' },
      ini('url_rewriter.tags', 'a=href,fieldset=,area=href,frame=src,input=src'),
      echo('<form action="/foo/do.php">\n<fieldset>\n'),
    ],
  },
  {
    name: 'output_add_rewrite_var, ob_flush, output_reset_rewrite_vars (trans-sid off)',
    phpt: ['bug26862.phpt'],
    ini: { 'session.use_trans_sid': '0', 'session.use_cookies': '1', 'url_rewriter.tags': 'a=href,area=href,frame=src,form=' },
    steps: [
      { op: 'session_start' },
      { op: 'output_add_rewrite_var', args: ['var', 'value'] },
      echo('<a href="file.php">link</a>'),
      { op: 'ob_flush' },
      { op: 'output_reset_rewrite_vars' },
      echo('<a href="file.php">link</a>'),
    ],
  },
  {
    name: 'attributes separated by CR LF after the rewritten URL',
    phpt: ['bug36459.phpt'],
    ini: { 'session.name': 'sid' },
    html:
      '<html>\r\n  <body>\r\n    <a href="/b2w/www/ru/adm/pages/?action=prev&rec_id=8&pid=2"\r\n       style="font: normal 11pt Times New Roman">incorrect link</a><br />\r\n' +
      '    <a href="/b2w/www/ru/adm/pages/?action=prev&rec_id=8&pid=2" style="font: normal 11pt Times New Roman">correct link</a>\r\n  </body>\r\n</html>\r\n',
    everySplit: true,
  },
  {
    name: 'self-closing links, slashes in unquoted values',
    phpt: ['bug50308.phpt'],
    html: ['<a href=""/>', '<a href="" />', '<a href="foo"/>', '<a href="foo" />', '<a href=foo/>', '<a href="/">', '<a href=/>', '<a href=?foo=bar/>', '<a href="?foo=bar"/>', '<a href=./>', '<a href="./">'].join('\n') + '\n',
  },
  {
    name: 'use_only_cookies with use_trans_sid: no rewriter started',
    phpt: ['bug51338.phpt'],
    html: '<a href="x.php">x</a>\n',
    ini: { 'session.use_only_cookies': '1' },
  },
  {
    name: 'a session cookie disables trans-sid for the request',
    phpt: ['bug71974.phpt'],
    ini: { 'session.use_cookies': '1' },
    cookie: 'PHPSESSID=1234567890123456789012345678901234567890',
    steps: [{ op: 'session_start' }, echo('<a href="some.php">abc</a>\n')],
  },
  {
    name: 'fragments: relative with fragment, host without path with fragment, fragment only',
    phpt: ['bug74892.phpt'],
    steps: [
      ini('session.use_cookies', '0'),
      ini('session.use_trans_sid', '1'),
      ini('session.trans_sid_hosts', 'php.net'),
      ...start('sessionidhere'),
      echo('<p><a href="index.php">a</a></p>\n<p><a href="index.php#place">b</a></p>\n<p><a href="http://php.net#foo">c</a></p>\n<p><a href="#place">d</a></p>\n'),
    ],
  },
  {
    name: 'trans_sid_hosts changed at run time',
    phpt: ['gh13891.phpt'],
    ini: { 'session.trans_sid_hosts': 'php.net' },
    steps: [ini('session.trans_sid_hosts', 'php.net'), ...start(), echo('<a href="http://php.net/x">x</a>\n')],
  },
  {
    name: 'output vars and the session id, session restarted with another id',
    phpBuffers: true,
    phpt: ['session_basic4.phpt'],
    ini: { 'session.trans_sid_tags': 'a=href,area=href,frame=src,form=', 'url_rewriter.tags': 'a=href,area=href,frame=src,form=' },
    steps: [
      { op: 'output_add_rewrite_var', args: ['testvar1', 'testvalue1'] },
      ...start('test1'),
      echo('\n<a href="/">\n<form action="" method="post">\n</form>\n'),
      { op: 'session_write_close' },
      { op: 'output_add_rewrite_var', args: ['testvar2', 'testvalue2'] },
      ...start('test2'),
      echo('\n<a href="/">\n<form action="" method="post">\n</form>\n'),
    ],
  },
  {
    name: 'allowed and foreign hosts, every URL shape',
    phpt: ['session_basic5.phpt'],
    httpHost: 'php.net',
    steps: [ini('session.trans_sid_hosts', 'php.net,example.com'), ...start('session-basic5'), echo(linkMatrix('php.net') + linkMatrix('bad.com'))],
  },
];
