/* x86-64 machine code read with libcapstone: a function's returns and the calls it makes. */
#include <errno.h>

#include <capstone/capstone.h>

#include "x86_code.h"

/* What each instruction of a function tells the callback; @return false to stop. */
typedef bool (*insn_fn)(void *arg, const cs_insn *insn);

/* Decode @p code in order; @return 0, or -EILSEQ when it stops before the end on a real byte. */
static int walk(const uint8_t *code, size_t n, uint64_t addr, insn_fn fn, void *arg)
{
	csh cs;
	cs_insn *insn;
	const uint8_t *p = code;
	size_t left = n;
	uint64_t pc = addr;
	int err = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return -ENOMEM;
	}
	while (left && cs_disasm_iter(cs, &p, &left, &pc, insn))
		if (!fn(arg, insn))
			goto out;
	/* Only padding may be left: int3 between Go functions, nothing else. */
	for (; left; left--, p++)
		if (*p != 0xcc && *p != 0x90 && *p != 0x00) {
			err = -EILSEQ;
			break;
		}
out:
	cs_free(insn, 1);
	cs_close(&cs);
	return err;
}

struct rets {
	uint64_t *out;
	int max, n;
};

static bool on_ret(void *arg, const cs_insn *insn)
{
	struct rets *r = arg;

	if (insn->id != X86_INS_RET)
		return true;
	if (r->n == r->max) {
		r->n = -E2BIG;
		return false;
	}
	r->out[r->n++] = insn->address;
	return true;
}

int x86_ret_sites(const uint8_t *code, size_t n, uint64_t addr, uint64_t *out, int max)
{
	struct rets r = { .out = out, .max = max };
	int err = walk(code, n, addr, on_ret, &r);

	return err ? err : r.n;
}

/* A direct CALL or JMP (immediate operand): its target, else 0. */
static uint64_t direct_target(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id != X86_INS_CALL && insn->id != X86_INS_JMP)
		return 0;
	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return 0;
	return (uint64_t)x->operands[0].imm;
}

struct call_search {
	uint64_t start, end, target;
	bool found;
};

static bool on_first_call(void *arg, const cs_insn *insn)
{
	struct call_search *s = arg;
	uint64_t t = direct_target(insn);

	if (!t || (t >= s->start && t < s->end))
		return true;
	s->target = t;
	s->found = true;
	return false;
}

int x86_first_call(const uint8_t *code, size_t n, uint64_t addr, uint64_t *target)
{
	struct call_search s = { .start = addr, .end = addr + n };

	walk(code, n, addr, on_first_call, &s);
	if (!s.found)
		return -ENOENT;
	*target = s.target;
	return 0;
}

static bool on_call_to(void *arg, const cs_insn *insn)
{
	struct call_search *s = arg;

	s->found = direct_target(insn) == s->target;
	return !s->found;
}

bool x86_calls(const uint8_t *code, size_t n, uint64_t addr, uint64_t target)
{
	struct call_search s = { .target = target };

	walk(code, n, addr, on_call_to, &s);
	return s.found;
}
