#!/usr/bin/python3
"""Print the prologue pattern of bpf/ssl_patterns.c for one OpenSSL build.

Usage: derive_ssl_pattern.py LIBSSL.a VERSION-NAME

Takes ssl_lib.o out of the archive and prints, as a C initializer, the bytes from
ssl_read_internal to the end of SSL_write_ex (one .text section: a static link keeps
them together) with every byte a link can change as a wildcard: relocated fields and,
before GOT-relative ones, the opcode bytes the linker may relax (mov -> lea).
"""
import struct
import subprocess
import sys
import tempfile
import os

FIRST, LAST = "ssl_read_internal", "SSL_write_ex"
FUNCS = ["ssl_read_internal", "SSL_read", "SSL_read_ex", "ssl_write_internal", "SSL_write",
         "SSL_write_ex"]
# Relocation type -> (bytes of the field, bytes before it the linker may rewrite).
RELOCS = {1: (8, 0), 2: (4, 0), 4: (4, 0), 9: (4, 2), 10: (4, 0), 11: (4, 0), 22: (4, 3),
          41: (4, 2), 42: (4, 3)}


def sections(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = secs[shstrndx]

    def name(off):
        s = data[names[4] + off:]
        return s[:s.index(b"\0")].decode()
    return [(name(s[0]),) + s for s in secs]


def main():
    lib, version = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        member = [m for m in subprocess.check_output(["ar", "t", lib], text=True).split()
                  if m.endswith("ssl_lib.o")][0]
        subprocess.check_call(["ar", "x", os.path.abspath(lib), member], cwd=tmp)
        data = open(os.path.join(tmp, member), "rb").read()
    secs = sections(data)
    text_i = [i for i, s in enumerate(secs) if s[0] == ".text"][0]
    text = secs[text_i]
    code = bytearray(data[text[5]:text[5] + text[6]])
    symtab = [s for s in secs if s[0] == ".symtab"][0]
    strtab = secs[symtab[7]]
    syms = {}
    for off in range(symtab[5], symtab[5] + symtab[6], 24):
        st_name, info, other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
        s = data[strtab[5] + st_name:]
        syms[s[:s.index(b"\0")].decode()] = (value, size, shndx)
    mask = [True] * len(code)
    rela = [s for s in secs if s[0] == ".rela.text" and s[8] == text_i][0]
    for off in range(rela[5], rela[5] + rela[6], 24):
        r_off, r_info, _ = struct.unpack_from("<QQq", data, off)
        size, before = RELOCS.get(r_info & 0xffffffff, (4, 3))
        for i in range(r_off - before, r_off + size):
            mask[i] = False
    start = syms[FIRST][0]
    end = syms[LAST][0] + syms[LAST][1]
    hexes = " ".join("%02x" % code[i] if mask[i] else "??" for i in range(start, end))
    print("\t{ .version = \"%s\"," % version)
    print("\t  .offsets = { %s }," % ", ".join(
        "0x%x" % (syms[f][0] - start) for f in FUNCS))
    print("\t  .sizes = { %s }," % ", ".join("0x%x" % syms[f][1] for f in FUNCS))
    # 24 bytes a line: what clang-format leaves as it is.
    lines = [hexes[i:i + 72] for i in range(0, len(hexes), 72)]
    print('\t  .bytes = "%s"' % lines[0])
    for line in lines[1:-1]:
        print('\t\t   "%s"' % line)
    print('\t\t   "%s" },' % lines[-1])


main()
