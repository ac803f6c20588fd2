/* An ELF file mapped read-only: its sections, symbols and the file offsets of its addresses. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_image.h"

int elf_image_open(struct elf_image *im, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	GElf_Ehdr eh;
	int err = 0;

	memset(im, 0, sizeof(*im));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		err = -ENOEXEC;
		goto out;
	}
	im->data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (im->data == MAP_FAILED) {
		im->data = NULL;
		err = -errno;
		goto out;
	}
	im->size = (size_t)st.st_size;
	elf_version(EV_CURRENT);
	im->elf = elf_memory((char *)im->data, im->size);
	if (!im->elf || !gelf_getehdr(im->elf, &eh) || eh.e_machine != EM_X86_64 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		err = -ENOEXEC;
out:
	close(fd);
	if (err)
		elf_image_close(im);
	return err;
}

void elf_image_close(struct elf_image *im)
{
	if (im->elf)
		elf_end(im->elf);
	if (im->data)
		munmap((void *)im->data, im->size);
	memset(im, 0, sizeof(*im));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool elf_image_section(const struct elf_image *im, const char *suffix, const uint8_t **bytes,
		       size_t *size, uint64_t *addr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(im->elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(im->elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(im->elf, shstrndx, sh.sh_name);
		if (!name || !ends_with(name, suffix) || sh.sh_offset > im->size ||
		    sh.sh_size > im->size - sh.sh_offset)
			continue;
		*bytes = im->data + sh.sh_offset;
		*size = sh.sh_size;
		*addr = sh.sh_addr;
		return true;
	}
	return false;
}

/* A symbol's name as written, or as versioned in a static binary's .symtab ("SSL_read@@V"). */
static bool same_name(const char *sym, const char *name)
{
	size_t n = strlen(name);

	return strncmp(sym, name, n) == 0 && (sym[n] == '\0' || sym[n] == '@');
}

static bool find_in(const struct elf_image *im, Elf64_Word type, const char *name, uint64_t *addr,
		    uint64_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(im->elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *sname;

			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			sname = elf_strptr(im->elf, sh.sh_link, s.st_name);
			if (sname && same_name(sname, name)) {
				*addr = s.st_value;
				*size = s.st_size;
				return true;
			}
		}
	}
	return false;
}

bool elf_image_symbol(const struct elf_image *im, const char *name, uint64_t *addr, uint64_t *size)
{
	return find_in(im, SHT_SYMTAB, name, addr, size) ||
	       find_in(im, SHT_DYNSYM, name, addr, size);
}

long long elf_image_file_offset(const struct elf_image *im, uint64_t addr)
{
	size_t n = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(im->elf, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(im->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz)
			return (long long)(addr - ph.p_vaddr) + (long long)ph.p_offset;
	}
	return -1;
}

const uint8_t *elf_image_bytes(const struct elf_image *im, uint64_t addr, size_t n)
{
	long long off = elf_image_file_offset(im, addr);

	if (off < 0 || (size_t)off > im->size || n > im->size - (size_t)off)
		return NULL;
	/* The whole range must come from one segment: check its last byte maps right after. */
	if (n && elf_image_file_offset(im, addr + n - 1) != off + (long long)n - 1)
		return NULL;
	return im->data + off;
}

bool elf_image_exec_segment(const struct elf_image *im, size_t i, const uint8_t **bytes,
			    size_t *size, uint64_t *addr)
{
	size_t n = 0, seen = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(im->elf, &n) != 0)
		return false;
	for (size_t k = 0; k < n; k++) {
		if (!gelf_getphdr(im->elf, (int)k, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X) || ph.p_offset > im->size ||
		    ph.p_filesz > im->size - ph.p_offset)
			continue;
		if (seen++ == i) {
			*bytes = im->data + ph.p_offset;
			*size = ph.p_filesz;
			*addr = ph.p_vaddr;
			return true;
		}
	}
	return false;
}
