/**
 * Hand-written serialized payloads covering PHP 8.2's parser rules, lenient spellings, every error
 * path we know of, and reference numbering. Expected behaviour is NOT written here: tests ask PHP
 * (spec/oracle) or read fixtures recorded from PHP (spec/fixtures/serializers).
 * Strings are Latin-1 (one char per byte).
 */

/** Classes and enums the payloads refer to; loaded into PHP before unserializing. */
export const PRELUDE = String.raw`
class Ser implements Serializable {
  public $d;
  public function serialize() { return $this->d; }
  public function unserialize($d) { $this->d = $d; }
}
enum Suit { case Hearts; case Spades; }
enum Foo { case Bar; case Baz; }
`;

export const VALID: readonly string[] = [
  'N;', 'b:0;', 'b:1;', 'i:0;', 'i:-0;', 'i:+1;', 'i:007;', 'i:-007;', 'i:9223372036854775807;',
  'i:-9223372036854775808;', 'i:9223372036854775808;', 'i:-9223372036854775809;', 'i:99999999999999999999;',
  'i:-99999999999999999999;', 'i:0000000000000000000000000001;', 'i:9007199254740991;', 'i:9007199254740992;',
  'i:-9007199254740993;', 'i:12345678901234567;',
  'd:0;', 'd:-0;', 'd:0.1;', 'd:1;', 'd:1.0;', 'd:+.5;', 'd:5.;', 'd:-.5e-3;', 'd:1e5;', 'd:1E+5;', 'd:1e999;', 'd:-1e999;',
  'd:1e-999;', 'd:NAN;', 'd:INF;', 'd:-INF;', 'd:1.0E+25;', 'd:5.0E-324;', 'd:1.7976931348623157E+308;',
  'd:0.30000000000000004;', 'd:9007199254740993;', 'd:123456789012345678901234567890;', 'd:-1.5E-7;', 'd:00012.5000;',
  's:0:"";', 's:1:"a";', 's:01:"a";', 's:3:"a"b";', 's:2:"\xc3\xa9";', 's:1:"\xff";', 's:3:"\x00\x01\x02";',
  's:4:"\xf0\x9f\x98\x80";', 's:3:"\xed\xa0\x80";', 'S:3:"a\\62c";', 'S:1:"\\ff";', 'S:1:"\\FF";', 'S:2:"\\c3\\a9";',
  'a:0:{}', 'a:00:{}', 'a:1:{i:0;i:1;}', 'a:2:{i:0;s:1:"a";s:1:"k";b:1;}', 'a:1:{s:1:"5";i:1;}', 'a:1:{s:2:"05";i:1;}',
  'a:1:{s:2:"-5";i:1;}', 'a:1:{s:2:"-0";i:1;}', 'a:1:{s:2:"+5";i:1;}', 'a:1:{s:19:"9223372036854775807";i:1;}',
  'a:1:{s:19:"9223372036854775808";i:1;}', 'a:1:{s:20:"-9223372036854775808";i:1;}', 'a:1:{s:20:"-9223372036854775809";i:1;}',
  'a:1:{s:16:"9007199254740993";i:1;}', 'a:1:{i:9223372036854775807;i:1;}', 'a:1:{i:99999999999999999999;i:1;}',
  'a:2:{i:0;i:1;i:0;i:2;}', 'a:2:{s:1:"a";i:1;s:1:"a";i:2;}', 'a:1:{S:1:"\\61";i:1;}', 'a:1:{s:1:"\xff";i:1;}',
  'a:2:{s:9:"__proto__";i:1;s:11:"constructor";i:2;}', 'a:1:{s:0:"";a:1:{s:0:"";a:0:{}}}',
  'a:3:{i:5;i:1;i:-3;i:2;i:1;i:3;}',
  'O:8:"stdClass":0:{}', 'O:8:"stdClass":1:{s:1:"a";i:1;}', 'O:8:"stdClass":1:{i:5;i:1;}', 'O:8:"stdclass":0:{}',
  'O:1:"C":1:{s:1:"p";i:1;}', 'O:1:"C":1:{s:4:"\x00*\x00p";i:1;}', 'O:1:"C":1:{s:4:"\x00C\x00p";i:1;}',
  'O:7:"App\\User":0:{}', 'O:8:"stdClass":+1:{s:1:"a";i:1;}', 'O:8:"stdClass"::{}', 'O:8:"stdClass":00:{}',
  'O:8:"stdClass":2:{s:1:"a";i:1;s:1:"a";i:2;}', 'O:22:"__PHP_Incomplete_Class":0:{}',
  'O:22:"__PHP_Incomplete_Class":1:{s:27:"__PHP_Incomplete_Class_Name";s:1:"X";}',
  'O:22:"__PHP_Incomplete_Class":1:{s:1:"a";i:1;}', 'O:2:"\xc3\xa9":0:{}',
  'C:3:"Ser":5:{hello}', 'C:3:"Ser":0:{}', 'C:3:"Ser":3:{a}b}', 'C:8:"stdClass":0:{}',
  'E:9:"Foo:Bar";'.replace('9', '7'), 'E:11:"Suit:Hearts";', 'a:2:{i:0;E:7:"Foo:Bar";i:1;E:7:"Foo:Bar";}',
  'a:2:{i:0;E:7:"Foo:Bar";i:1;r:2;}', 'a:2:{i:0;E:7:"Foo:Bar";i:1;R:2;}',
  'a:1:{i:0;R:1;}', 'a:2:{i:0;R:1;i:1;R:1;}', 'a:2:{i:0;a:0:{}i:1;R:2;}', 'a:2:{i:0;i:1;i:1;R:2;}',
  'a:3:{i:0;i:1;i:1;R:2;i:2;R:2;}', 'a:4:{i:0;i:1;i:1;R:2;i:2;i:2;i:3;R:3;}', 'a:4:{i:0;i:1;i:1;R:2;i:2;i:2;i:3;R:4;}',
  'a:3:{i:0;O:8:"stdClass":0:{}i:1;r:2;i:2;r:2;}', 'a:3:{i:0;O:8:"stdClass":0:{}i:1;r:2;i:2;R:2;}',
  'a:3:{i:0;O:8:"stdClass":0:{}i:1;R:2;i:2;r:2;}', 'a:3:{i:0;O:8:"stdClass":0:{}i:1;R:2;i:2;R:2;}',
  'O:8:"stdClass":1:{s:1:"a";r:1;}', 'O:8:"stdClass":1:{s:1:"a";R:1;}', 'O:8:"stdClass":2:{s:1:"a";R:1;s:1:"b";R:1;}',
  'a:1:{i:0;a:1:{i:0;R:2;}}', 'a:1:{i:0;a:1:{i:0;R:3;}}'.replace('R:3', 'R:1'), 'a:2:{i:0;a:1:{i:0;i:1;}i:1;R:3;}',
  'a:3:{i:0;i:1;i:0;i:2;i:1;R:2;}', 'a:3:{i:0;i:1;i:1;R:2;i:0;i:5;}', 'a:3:{i:0;i:1;i:1;R:2;i:0;R:3;}',
  'a:2:{i:0;O:1:"A":1:{s:1:"x";O:1:"B":0:{}}i:1;r:3;}', 'a:2:{i:0;O:1:"A":1:{s:1:"x";O:1:"B":0:{}}i:1;R:3;}',
  'a:2:{i:0;C:3:"Ser":1:{x}i:1;r:2;}', 'a:2:{i:0;N;i:1;R:2;}', 'a:2:{i:0;d:0.5;i:1;R:2;}',
  'i:1;trailing', 'a:0:{}junk', 'N;N;', 'b:1;}', 's:1:"a";;',
  // Inside arrays, where well-formed s: keys/values and plain i: values take the one-step path.
  'a:1:{s:01:"a";s:02:"bc";}', 'a:1:{s:1:"a";s:0000000000000000002:"bc";}', 'a:2:{s:1:"a";s:2:"\xc3\xa9";s:1:"b";s:1:"\xff";}',
  'a:3:{s:1:"k";i:-0;s:1:"l";i:007;s:1:"m";i:-999999999999999;}', 'a:1:{s:1:"k";i:9999999999999999;}',
  'O:8:"stdClass":1:{s:1:"5";s:1:"x";}', 'a:2:{s:1:"5";s:1:"x";s:2:"05";i:1;}', 'a:1:{s:1:"a";S:1:"\\62";}',
];

export const INVALID: readonly string[] = [
  'a:1:{s:1:"a";s:2:"bc"}', 'a:1:{s:1:"a";s:2:"bc";', 'a:1:{s:1:"a";s:3:"bc";}', 'a:2:{s:1:"a";s:1:"b"s:1:"c";i:1;}',
  'a:1:{s:1:"a"i:1;}', 'a:1:{s:1:"a";i:1}', 'a:1:{s:1:"a";i:-;}', 'a:1:{s:1:"a";s:1:"\xff"}',
  'n;', 'N', 'N:', 'b:2;', 'b:01;', 'b:true;', 'b:1', 'i:;', 'i:1.0;', 'i: 1;', 'I:1;', 'i:1', 'i:--1;', 'i:+-1;',
  'd:inf;', 'd:+INF;', 'd:-NAN;', 'd:NAN', 'd:.;', 'd:1e;', 'd:1e+;', 'd:e5;', 'd:;', 'd:1.5.5;', 'd:0x10;',
  's:+1:"x";', 's:-1:"x";', 's:1:"ab";', 's:2:"a";', 's:5:"abc";', 's:1:"a"', 's:1:"a":', 's:1:x";', 's:1:"a";'.slice(0, 6),
  's:99999999999999999999:"a";', 's:18446744073709551617:"a";', 's:18446744073709551616:"";',
  'S:1:"\\6";', 'S:1:"\\zz";', 'S:2:"a";', 'S:1:"\\616";',
  'a:+0:{}', 'a:-1:{}', 'a:0:{', 'a:0:', 'a:1:{}', 'a:1:{i:0;i:1;', 'a:1:{i:0;i:1;i:1;i:2;}', 'a:2:{i:0;i:1;}',
  'a:1:{N;i:1;}', 'a:1:{b:1;i:1;}', 'a:1:{d:1;i:1;}', 'a:1:{a:0:{}i:1;}', 'a:1:{O:8:"stdClass":0:{}i:1;}',
  'a:1:{r:1;i:1;}', 'a:1:{R:1;i:1;}', 'a:1:{E:7:"Foo:Bar";i:1;}', 'a:1:{C:3:"Ser":0:{}i:1;}', 'a:1:{}}',
  'a:10:{i:0;i:1;}', 'a:99999999999999999999:{}', 'a:1:{i:0;}', 'a:1:{i:0;i:1}', 'a:2:{i:0;C:3:"Ser":1:{x}i:1;i:1;}',
  'a:1:{i:0;r:+1;}', 'a:1:{i:0;r:2;}', 'a:1:{i:0;R:2;}', 'a:1:{i:0;r:0;}', 'a:1:{i:0;R:0;}', 'a:1:{i:0;r:1;}',
  'a:1:{i:0;R:9;}', 'r:1;', 'R:1;', 'a:2:{i:0;i:1;i:1;r:2;}', 'a:1:{i:0;R:18446744073709551617;}',
  'O:0:"":0:{}', 'O:-1:"":0:{}', 'O:+8:"stdClass":0:{}', 'O:8:"stdClass":-1:{}', 'O:8:"stdClass":0:{', 'O:8:"stdClass":0:[}',
  'O:8:"stdClass":0;{}', 'O:8:"stdClass":1:{}', 'O:8:"stdClass":1:{N;i:1;}', 'O:8:"stdClass":1:{s:1:"a";i:1;',
  'O:8:"stdClass":9:{s:1:"a";i:1;}', 'O:9:"stdClass":0:{}', 'O:7:"stdClass":0:{}', 'O:4:"\\Foo":0:{}',
  'O:4:"\x00Foo":0:{}', 'O:3:"A-B":0:{}', 'O:3:"A B":0:{}', 'O:8:"stdClass":', 'O:8:"stdClass"', 'O:8:"stdClass":0:',
  'O:8:"stdClass":99999999999999999999:{}', 'O:5:"Test1":1:{s:10:"";}',
  'C:3:"Ser":5:{hel}', 'C:3:"Ser":-1:{}', 'C:3:"Ser":5:{hello', 'C:3:"Ser":5:{hellox}', 'C:3:"Ser":5:[hello}',
  'C:3:"Ser":', 'C:3:"Ser"', 'C:3:"Ser":99999999999999999999:{}',
  'E:7:"FooBar";', 'E:0:"";', 'E:8:"Foo:Bar";', 'E:7:"Foo:Bar"', 'E:7:"Foo:Bar":', 'E:4:"Foo:";', 'E:4:":Bar";',
  'E:8:"Foo:B-ar";', 'E:8:"\\Foo:Bar";', 'E:8:"Fo-o:Bar";',
  '}', '', 'x', ' N;', 'a:1:{i:0;i:1;}'.toUpperCase(),
];

/** Session payloads for session_decode (each run under php, php_binary, php_serialize). */
export const SESSION_PAYLOADS: readonly string[] = [
  '', 'a|i:1;', 'a|i:1;b|s:1:"x";', 'foo|a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}guff|R:1;', 'a|i:1;junk', 'a|i:1;b|',
  'a|i:1;|i:2;', 'a|i:1;;b|i:2;', '5|i:1;', '-1|i:2;', '|N;', 'a|i:1;a|i:2;', 'a|i:1;a|i:2;b|R:1;', 'a|i:1;b|R:1;',
  'a|O:8:"stdClass":0:{}b|r:1;', 'a|O:8:"stdClass":0:{}b|R:1;', 'a|a:1:{i:0;R:1;}', 'a|r:1;', 'a|R:1;', 'a|i:1;b|R:3;',
  '!a|i:1;', 'a!|i:1;', 'a\x00b|i:1;', '\xff|i:1;', 'a|E:7:"Foo:Bar";b|r:1;', 'a|i:1', 'a', '|', 'a|}', 'a|a:1:{i:0;i:1;}',
  '\x01xi:1;', '\x01xi:1;\x02y', '\x81xi:1;', '\x00i:1;', '\x03fooi:1234567890;', '\x01xi:1;\x01yR:1;', '\x05ab',
  'a:0:{}', 'a:0:{}garbage', 'a:1:{i:5;s:1:"x";}', 'a:2:{s:1:"a";i:1;s:1:"b";R:2;}', 'i:5;', 'N;', 'a:1:{s:1:"5";i:1;}',
  'a:1:{i:0;', 'O:8:"stdClass":1:{s:1:"a";i:1;}', 'a:1:{i:0;R:1;}',
];
