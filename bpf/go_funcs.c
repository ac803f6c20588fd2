/* Go functions found by name in a Go binary's own function table (.gopclntab), stripped or not. */
#include <errno.h>
#include <string.h>

#include "go_funcs.h"

/* runtime.pcHeader (src/runtime/symtab.go, Go 1.18+): offsets of its fields, 64-bit. */
enum {
	PCH_MAGIC = 0,
	PCH_MINLC = 6,
	PCH_PTRSIZE = 7,
	PCH_NFUNC = 8,
	PCH_TEXTSTART = 24,
	PCH_FUNCNAME = 32,
	PCH_PCLN = 64,
	PCH_SIZE = 72,
};

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int go_is_go_binary(const struct elf_image *im)
{
	const uint8_t *b;
	size_t n;
	uint64_t addr;

	return elf_image_section(im, ".gopclntab", &b, &n, &addr);
}

/* The function table: @p tab, its @p nfunc (entryoff, funcoff) pairs, names and text base. */
struct pcln {
	const uint8_t *hdr;
	size_t size;
	uint64_t nfunc, text, names, funcs;
};

static int pcln_open(const struct elf_image *im, struct pcln *p)
{
	uint64_t addr;
	uint32_t magic;

	if (!elf_image_section(im, ".gopclntab", &p->hdr, &p->size, &addr))
		return -ENOEXEC;
	if (p->size < PCH_SIZE)
		return -ENOTSUP;
	magic = u32(p->hdr + PCH_MAGIC);
	if ((magic != 0xfffffff0 && magic != 0xfffffff1) || p->hdr[PCH_PTRSIZE] != 8 ||
	    p->hdr[PCH_MINLC] != 1)
		return -ENOTSUP;
	p->nfunc = u64(p->hdr + PCH_NFUNC);
	p->text = u64(p->hdr + PCH_TEXTSTART);
	p->names = u64(p->hdr + PCH_FUNCNAME);
	p->funcs = u64(p->hdr + PCH_PCLN);
	/* A PIE's textStart is a relocation, 0 in the file: the text then starts at .text. */
	if (!p->text) {
		const uint8_t *b;
		size_t n;

		if (!elf_image_section(im, ".text", &b, &n, &p->text))
			return -ENOTSUP;
	}
	/* nfunc (entryoff, funcoff) pairs and the end entry must be inside the section. */
	if (p->names >= p->size || p->funcs >= p->size || p->size - p->funcs < 8 ||
	    p->nfunc > (p->size - p->funcs) / 8 - 1)
		return -ENOTSUP;
	return 0;
}

/* The name of function @p i, or NULL when the table points outside itself. */
static const char *func_name(const struct pcln *p, uint64_t i, uint32_t *entryoff)
{
	const uint8_t *ft = p->hdr + p->funcs;
	uint32_t funcoff = u32(ft + i * 8 + 4);
	int32_t nameoff;
	const char *name;

	if (funcoff > p->size - p->funcs - 8)
		return NULL;
	*entryoff = u32(ft + funcoff);
	memcpy(&nameoff, ft + funcoff + 4, sizeof(nameoff));
	if (nameoff < 0 || (uint64_t)nameoff >= p->size - p->names)
		return NULL;
	name = (const char *)p->hdr + p->names + nameoff;
	return memchr(name, '\0', p->size - p->names - (uint64_t)nameoff) ? name : NULL;
}

int go_func_find(const struct elf_image *im, const char *name, uint64_t *entry, uint64_t *end)
{
	struct pcln p;
	uint64_t size;
	int err;

	/* The table's layout also dates the program: before Go 1.17 arguments were on the stack. */
	err = pcln_open(im, &p);
	if (err)
		return err;
	/* The symbol table, when kept, says the same: prefer it. */
	if (elf_image_symbol(im, name, entry, &size) && size) {
		*end = *entry + size;
		return 0;
	}
	for (uint64_t i = 0; i < p.nfunc; i++) {
		uint32_t entryoff;
		const char *fn = func_name(&p, i, &entryoff);

		if (!fn || strcmp(fn, name) != 0)
			continue;
		*entry = p.text + entryoff;
		/* The table is sorted by entry: the next entry (or the end marker) bounds this one. */
		*end = p.text + u32(p.hdr + p.funcs + (i + 1) * 8);
		return *end > *entry ? 0 : -ENOTSUP;
	}
	return -ENOENT;
}
