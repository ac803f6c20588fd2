/* An ELF file mapped read-only: its sections, symbols and the file offsets of its addresses. */
#ifndef COLLECTOR_BPF_ELF_IMAGE_H
#define COLLECTOR_BPF_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

struct elf_image {
	const uint8_t *data; /* the whole file, mapped */
	size_t size;
	Elf *elf;
};

/* Map @p path; @return 0 or -errno (-ENOEXEC: not an x86-64 ELF file). */
int elf_image_open(struct elf_image *im, const char *path);

/* Unmap; safe on a zeroed or already closed image. */
void elf_image_close(struct elf_image *im);

/*
 * The section whose name ends with @p suffix (".gopclntab" also finds a PIE's
 * ".data.rel.ro.gopclntab"): its bytes and address. @return false when there is none.
 */
bool elf_image_section(const struct elf_image *im, const char *suffix, const uint8_t **bytes,
		       size_t *size, uint64_t *addr);

/* The address and size of function symbol @p name in .symtab, else .dynsym. @return false: none. */
bool elf_image_symbol(const struct elf_image *im, const char *name, uint64_t *addr, uint64_t *size);

/* Where the loaded byte at @p addr comes from in the file; @return -1 when no segment maps it. */
long long elf_image_file_offset(const struct elf_image *im, uint64_t addr);

/* The file's bytes at @p addr .. @p addr + @p n, or NULL when they are not all in the file. */
const uint8_t *elf_image_bytes(const struct elf_image *im, uint64_t addr, size_t n);

/*
 * The @p i th executable segment's bytes and address, for scanning code.
 * @return false past the last one.
 */
bool elf_image_exec_segment(const struct elf_image *im, size_t i, const uint8_t **bytes,
			    size_t *size, uint64_t *addr);

#endif
