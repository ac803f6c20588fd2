/* Go functions found by name in a Go binary's own function table (.gopclntab), stripped or not. */
#ifndef COLLECTOR_BPF_GO_FUNCS_H
#define COLLECTOR_BPF_GO_FUNCS_H

#include <stdint.h>

#include "elf_image.h"

/*
 * Where Go function @p name (e.g. "crypto/tls.(*Conn).Read") starts and where the next
 * function starts: from the ELF symbol table when there is one, else from .gopclntab. Only
 * for programs of Go 1.18 and later, whose .gopclntab header says so (magic 0xfffffff0 for
 * 1.18-1.19, 0xfffffff1 for 1.20 on) and whose functions take their arguments in registers.
 * @return 0, -ENOENT (a Go binary without that function), -ENOEXEC (no Go function table),
 * -ENOTSUP (a program of Go 1.17 or older, or not 64-bit).
 */
int go_func_find(const struct elf_image *im, const char *name, uint64_t *entry, uint64_t *end);

/* Whether the file has a Go function table at all (any Go version). */
int go_is_go_binary(const struct elf_image *im);

#endif
