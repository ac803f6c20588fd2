#!/usr/bin/python3
"""The varied input of cases/96_hotpath_bytes.sh, written to stdout (deterministic).

Escapes, raw and invalid UTF-8, lone surrogates, nested arrays, numbers in
every form, envelope fields of every kind, big and small events, invalid
lines, CRLF, blank lines and a last line without a newline: the decoder and
encoder's whole surface, whose output must stay byte-identical.
"""
import sys

out = sys.stdout.buffer
lines = []


def add(s):
    lines.append(s.encode() if isinstance(s, str) else s)


# Envelope fields taken, and the ones that are not.
add('{"type":"t.plain"}')
add('{"type":"t.data","data":{"a":1,"b":"two"}}')
add('{"type":"t.env","pid":2000000001,"tid":2000000002,"ppid":1,"comm":"worker","data":{"x":true}}')
add('{"type":"t.bad.pid","pid":-1,"tid":1.5,"ppid":"7","data":{}}')
add('{"type":"t.big.pid","pid":99999999999,"comm":"' + 'c' * 80 + '"}')
add('{"type":"t.comm.esc","comm":"a\\"b\\\\c\\u00e9\\/","data":null}')
add('{"type":"t.comm.ctl","comm":"tab\\there"}')
add('{"data":{"no":"type"}}')
add('{"type":"t.members","a":1,"data":{"d":2},"z":[3]}')
add('{"type":"t.nodata","k":"v","n":null,"f":false}')
add('{"type":"t.dup","type":"t.dup.second","data":1}')
add('{"type":"t.scalar.data","data":5}')
add('{"type":"t.array.data","data":[1,[2,[3,[]]],{}]}')
add('{"type":"t.string.data","data":"just a string"}')
add('{ "type" : "t.spaces" ,\t"data" : { "a" : [ 1 , 2 ] } , "k" :"v" }')
add('{"type":"collector.forged","data":{"x":1}}')
add('{"type":"t.unicode.\u00e9\u4e2d","data":{"s":"\u00e9\u4e2d\U0001f600"}}')
add('{"type":"t.empty.obj","data":{}}')
add('{}')
# Escapes of every kind, kept as they came.
add('{"type":"t.esc","data":{"s":"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000 \\u001f \\u00e9 \\ud83d\\ude00"}}')
add('{"type":"t.lone","data":{"hi":"\\ud800","lo":"x\\udc00y","pair":"\\ud83d\\ude00","hi2":"\\uD800\\u0041"}}')
add('{"type":"t.esc.key","data":{"k\\u00e9y\\n":1,"\\"":2}}')
# Numbers in every form.
add('{"type":"t.numbers","data":{"n":[0,-0,1,-1,12345678901234567890,-9223372036854775809,'
    '0.5,-0.0,1e10,1E+2,1e-7,-1.5e-3,2.0E0,123456789.123456789e300,1e400]}}')
add('{"type":"t.num.top","pid":2000000042,"x":-0.0e-0,"y":1E400}')
# Nesting up to the limit (128 levels with the top-level object) and past it.
add('{"type":"t.deep","data":' + '[' * 126 + ']' * 126 + '}')
add('{"type":"t.too.deep","data":' + '[' * 127 + ']' * 127 + '}')
add('{"type":"t.nested","data":{"a":[[1,2],[3,[4,[5,{"b":[6]}]]]],"c":{"d":{"e":{}}}}}')
# Raw UTF-8 and invalid UTF-8 (replaced by the framer, flagged and counted).
add('{"type":"t.utf8","data":{"s":"\u00e9\u00e8 \u4e2d\u6587 \U0001f600"}}'.encode())
add(b'{"type":"t.invalid.utf8","data":{"s":"a\xffb\xc0\x80c\xe2\x82d"}}')
add(b'{"type":"t.invalid.utf8.key","d\xfe":1}')
add(b'{"type":"t.surrogate.bytes","data":{"s":"\xed\xa0\x80"}}')
# Invalid lines: counted, reported with a sample, the stream goes on.
add('not json')
add('{"type":')
add('[1,2]')
add('"a string"')
add('{"type":"t.trailing"} x')
add('{"type":"t.two"}{"type":"t.three"}')
add('{"type":"t.vt",\x0b"data":1}')
add('{"type":"t.ff",\x0c"data":1}')
add('{"type":""}')
add('{"type":"' + 't' * 129 + '"}')
add('{"type":"t.ctl\\u0001"}')
add('{"type":5}')
add('{"type":"t.unterminated","data":{"a":1}')
add('{"type":"t.bad.esc","data":"\\x"}')
add('{"type":"t.ctl.raw","data":"a\tb"}')
add('{"type":"t.after.bad"}')
add('')
add('   ')
add('{"type":"t.crlf","data":{"a":1}}\r')
add(b'{"type":"t.nul","data":"a\x00b"}')
# Big and small events.
add('{"type":"t.big","data":{"pad":"' + ''.join(chr(0x61 + i % 26) for i in range(60000)) + '"}}')
add('{"type":"t.big.members","a":"' + 'x' * 20000 + '","b":[' + ','.join(str(i) for i in range(3000)) + ']}')
add('{"type":"t.too.long","data":"' + 'y' * 70000 + '"}')
for i in range(200):
    add('{"type":"t.small","data":{"i":%d}}' % i)
# Invalid UTF-8 and lone surrogates where each check could see them: a wrong
# change to who validates what (framer, decoder, yajl) shows here.
add(b'{"type":"t.invalid.utf8.number","data":{"n":1\xff2}}')
add(b'{"type":"t.invalid.utf8.value","data":\xfe}')
add(b'{"type":"t.invalid.utf8.nested.key","data":{"k\xc3":{"\xf5\x80\x80\x80":1}}}')
add(b'{"type":"t.invalid.utf8.type\xff"}')
add(b'{"type":"t.invalid.utf8.comm","comm":"c\xe0\x80\xafd","data":{}}')
add(b'{"type":"t.surrogate.bytes.key","data":{"\xed\xbf\xbf":"\xf4\x90\x80\x80"}}')
add('{"type":"t.lone.key","data":{"\\udc00":1,"a\\ud800b":[\"\\udbff\"]}}')
add('{"type":"t.lone.type\\ud800"}')
add('{"type":"t.lone.comm","comm":"\\udfff","data":{}}')
add('{"type":"t.lone.end","data":"\\ud800"}')
add('{"type":"t.last","data":{"end":true}}')

out.write(b'\n'.join(lines[:-1]) + b'\n' + lines[-1])
