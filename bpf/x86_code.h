/* x86-64 machine code read with libcapstone: a function's returns and the calls it makes. */
#ifndef COLLECTOR_BPF_X86_CODE_H
#define COLLECTOR_BPF_X86_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The addresses of the RET instructions of the function whose @p n bytes @p code start at
 * @p addr, at most @p max of them into @p out. Padding after the last instruction (int3, nop)
 * is allowed; a byte sequence that does not decode is not.
 * @return how many, -E2BIG (more than @p max), -EILSEQ (undecodable), -ENOMEM.
 */
int x86_ret_sites(const uint8_t *code, size_t n, uint64_t addr, uint64_t *out, int max);

/*
 * The target of the first direct CALL or JMP to outside the function's first @p n bytes at
 * @p addr (a wrapper's call to the function it wraps, or its tail call). @return 0 or -ENOENT.
 */
int x86_first_call(const uint8_t *code, size_t n, uint64_t addr, uint64_t *target);

/* Whether the code has a direct CALL or JMP to @p target. */
bool x86_calls(const uint8_t *code, size_t n, uint64_t addr, uint64_t target);

#endif
