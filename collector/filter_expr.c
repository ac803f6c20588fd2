/* Field filter expressions: a lexer, a recursive-descent parser into a node array, an evaluator. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_expr.h"

enum tok { T_END, T_LPAREN, T_RPAREN, T_AND, T_OR, T_NOT, T_OP, T_PATH, T_NUM, T_STR, T_WORD };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_GLOB, OP_NOGLOB };
enum operand_kind { A_PATH, A_NUM, A_STR, A_TRUE, A_FALSE, A_NULL };
enum node_kind { N_AND, N_OR, N_NOT, N_CMP, N_TRUTH };

struct operand {
	enum operand_kind kind;
	char **path; /* A_PATH: NULL-terminated names */
	double num;
	char *str;
};

struct node {
	enum node_kind kind;
	int left, right; /* children (N_AND, N_OR; N_NOT uses left) */
	enum op op;
	struct operand a, b; /* N_CMP: a op b; N_TRUTH: a */
};

struct filter_expr {
	struct node *nodes;
	int n, cap;
	int root;
};

/* The parser's state: the text, the current token and the first error. */
struct parser {
	const char *text;
	size_t pos;   /* after the current token */
	size_t start; /* the current token's first byte */
	enum tok tok;
	enum op op;
	struct filter_expr *f;
	struct error *err;
	int depth;
	bool failed;
};

static const char *const op_names[] = { "==", "!=", "<", "<=", ">", ">=", "~", "!~" };

static int fail(struct parser *p, size_t col, const char *fmt, const char *what)
{
	if (!p->failed)
		error_set(p->err, EINVAL, fmt, (int)col + 1, what);
	p->failed = true;
	return -1;
}

static bool path_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' ||
	       (!first && (isdigit((unsigned char)c) || c == '-' || c == '.'));
}

/* The operator at p->pos, if any: its length (0: none). */
static size_t read_op(struct parser *p)
{
	static const struct {
		const char *text;
		enum op op;
	} ops[] = { { "==", OP_EQ }, { "!=", OP_NE },	  { "<=", OP_LE },
		    { ">=", OP_GE }, { "!~", OP_NOGLOB }, { "<", OP_LT },
		    { ">", OP_GT },  { "~", OP_GLOB },	  { "=", OP_EQ } };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);

		if (strncmp(p->text + p->pos, ops[i].text, n) == 0) {
			p->op = ops[i].op;
			return n;
		}
	}
	return 0;
}

/* The word at p->start..p->pos: a keyword's token, or a path. */
static enum tok word_tok(const struct parser *p)
{
	static const struct {
		const char *word;
		enum tok tok;
	} words[] = { { "and", T_AND },	  { "or", T_OR },      { "not", T_NOT },
		      { "true", T_WORD }, { "false", T_WORD }, { "null", T_WORD } };
	size_t n = p->pos - p->start;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncmp(p->text + p->start, words[i].word, n) == 0)
			return words[i].tok;
	return T_PATH;
}

/* Skip a string literal; its closing quote must come. */
static int scan_string(struct parser *p)
{
	char q = p->text[p->pos++];

	for (; p->text[p->pos] != q; p->pos++) {
		if (!p->text[p->pos])
			return fail(p, p->start, "column %d: the string has no closing %s",
				    q == '"' ? "\"" : "'");
		if (p->text[p->pos] == '\\' && p->text[p->pos + 1])
			p->pos++;
	}
	p->pos++;
	p->tok = T_STR;
	return 0;
}

/* Read the next token into p->tok. @return 0 or -1 (an error set). */
static int next(struct parser *p)
{
	const char *s = p->text;
	size_t n;

	while (isspace((unsigned char)s[p->pos]))
		p->pos++;
	p->start = p->pos;
	if (!s[p->pos])
		return p->tok = T_END, 0;
	if (s[p->pos] == '(' || s[p->pos] == ')')
		return p->tok = s[p->pos++] == '(' ? T_LPAREN : T_RPAREN, 0;
	if (strncmp(s + p->pos, "&&", 2) == 0 || strncmp(s + p->pos, "||", 2) == 0)
		return p->tok = s[p->pos] == '&' ? T_AND : T_OR, p->pos += 2, 0;
	if ((n = read_op(p)))
		return p->tok = T_OP, p->pos += n, 0;
	if (s[p->pos] == '!')
		return p->tok = T_NOT, p->pos++, 0;
	if (s[p->pos] == '"' || s[p->pos] == '\'')
		return scan_string(p);
	if (isdigit((unsigned char)s[p->pos]) ||
	    ((s[p->pos] == '-' || s[p->pos] == '.') && isdigit((unsigned char)s[p->pos + 1]))) {
		char *end;

		strtod(s + p->pos, &end);
		p->pos = (size_t)(end - s);
		if (path_char(s[p->pos], false))
			return fail(p, p->start, "column %d: %s is not a number", "the word there");
		return p->tok = T_NUM, 0;
	}
	if (path_char(s[p->pos], true)) {
		while (path_char(s[p->pos], false))
			p->pos++;
		if (s[p->pos - 1] == '.')
			return fail(p, p->pos - 1, "column %d: %s",
				    "a field name ends in '.': name the field after it");
		return p->tok = word_tok(p), 0;
	}
	return fail(p, p->pos, "column %d: unexpected character '%s' (see docs/viewing.md)",
		    (char[]){ s[p->pos], '\0' });
}

static int add_node(struct parser *p, struct node n)
{
	struct filter_expr *f = p->f;

	if (f->n == f->cap) {
		int cap = f->cap ? f->cap * 2 : 8;
		struct node *grown = realloc(f->nodes, (size_t)cap * sizeof(*grown));

		if (!grown) {
			if (!p->failed)
				error_set(p->err, ENOMEM, "out of memory");
			p->failed = true;
			return -1;
		}
		f->nodes = grown;
		f->cap = cap;
	}
	f->nodes[f->n] = n;
	return f->n++;
}

/* The decoded text of the string token (quotes off, escapes applied). */
static char *string_value(const struct parser *p)
{
	const char *s = p->text + p->start + 1, *end = p->text + p->pos - 1;
	char *out = malloc((size_t)(end - s) + 1), *o = out;

	for (; out && s < end; s++) {
		if (*s == '\\' && s + 1 < end) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else {
			*o++ = *s;
		}
	}
	if (out)
		*o = '\0';
	return out;
}

/* The dotted path of the current token, split into names. */
static char **path_value(const struct parser *p)
{
	size_t len = p->pos - p->start, parts = 1;
	char **path, *copy;

	for (size_t i = 0; i < len; i++)
		parts += p->text[p->start + i] == '.';
	/* One allocation: the name pointers, then the names. */
	path = malloc((parts + 1) * sizeof(*path) + len + 1);
	if (!path)
		return NULL;
	copy = (char *)(path + parts + 1);
	memcpy(copy, p->text + p->start, len);
	copy[len] = '\0';
	for (size_t i = 0; i < parts; i++) {
		path[i] = copy;
		copy += strcspn(copy, ".");
		*copy++ = '\0';
	}
	path[parts] = NULL;
	return path;
}

/* The current token as an operand, or -1 when it is none. */
static int operand(struct parser *p, struct operand *a)
{
	char c = p->text[p->start];

	*a = (struct operand){ 0 };
	if (p->tok == T_NUM) {
		a->kind = A_NUM;
		a->num = strtod(p->text + p->start, NULL);
	} else if (p->tok == T_STR) {
		a->kind = A_STR;
		a->str = string_value(p);
	} else if (p->tok == T_WORD) {
		a->kind = c == 't' ? A_TRUE : c == 'f' ? A_FALSE : A_NULL;
	} else if (p->tok == T_PATH) {
		a->kind = A_PATH;
		a->path = path_value(p);
	} else {
		return -1;
	}
	if ((a->kind == A_STR && !a->str) || (a->kind == A_PATH && !a->path)) {
		if (!p->failed)
			error_set(p->err, ENOMEM, "out of memory");
		p->failed = true;
		return -1;
	}
	return 0;
}

static void operand_free(struct operand *a)
{
	free(a->path);
	free(a->str);
}

/* A token's text for a message ("the end" at the end). */
static const char *tok_text(const struct parser *p, char *buf, size_t len)
{
	if (p->tok == T_END)
		return "the end";
	snprintf(buf, len, "'%.*s'", (int)(p->pos - p->start), p->text + p->start);
	return buf;
}

static int parse_or(struct parser *p);

/* comparison := operand [OP operand] */
static int parse_comparison(struct parser *p)
{
	struct node n = { .kind = N_TRUTH };
	char buf[48];
	int id;

	if (operand(p, &n.a) < 0)
		return p->failed ? -1 :
				   fail(p, p->start,
					"column %d: expected a field such as data.status, a number "
					"or a \"string\", found %s",
					tok_text(p, buf, sizeof(buf)));
	if (next(p) < 0)
		return operand_free(&n.a), -1;
	if (p->tok == T_OP) {
		n.kind = N_CMP;
		n.op = p->op;
		if (next(p) < 0 || operand(p, &n.b) < 0) {
			operand_free(&n.a);
			return fail(p, p->start,
				    "column %d: expected a value after '%s': a number, a "
				    "\"string\", "
				    "true, false, null or a field",
				    op_names[n.op]);
		}
		if (next(p) < 0) {
			operand_free(&n.a);
			operand_free(&n.b);
			return -1;
		}
	}
	if ((id = add_node(p, n)) < 0) {
		operand_free(&n.a);
		operand_free(&n.b);
	}
	return id;
}

/* primary := '(' or ')' | 'not' primary | comparison */
static int parse_primary(struct parser *p)
{
	int id;

	if (++p->depth > FILTER_EXPR_DEPTH)
		return fail(p, p->start, "column %d: %s", "nested too deep (64 levels at most)");
	if (p->tok == T_NOT) {
		if (next(p) < 0 || (id = parse_primary(p)) < 0)
			return -1;
		id = add_node(p, (struct node){ .kind = N_NOT, .left = id });
	} else if (p->tok == T_LPAREN) {
		size_t open = p->start;

		if (next(p) < 0 || (id = parse_or(p)) < 0)
			return -1;
		if (p->tok != T_RPAREN)
			return fail(p, p->start, "column %d: expected ')' to close the '(' %s",
				    open == 0 ? "at the start" : "before it");
		if (next(p) < 0)
			return -1;
	} else {
		id = parse_comparison(p);
	}
	p->depth--;
	return id;
}

/* A chain of @p sub joined by the @p tok operator into @p kind nodes. */
static int parse_chain(struct parser *p, enum tok tok, enum node_kind kind,
		       int (*sub)(struct parser *))
{
	int left = sub(p);

	while (left >= 0 && p->tok == tok) {
		int right;

		if (next(p) < 0 || (right = sub(p)) < 0)
			return -1;
		left = add_node(p, (struct node){ .kind = kind, .left = left, .right = right });
	}
	return left;
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, T_AND, N_AND, parse_primary);
}

static int parse_or(struct parser *p)
{
	return parse_chain(p, T_OR, N_OR, parse_and);
}

struct filter_expr *filter_expr_parse(const char *text, struct error *err)
{
	struct parser p = { .text = text, .err = err };
	char buf[48];

	if (!(p.f = calloc(1, sizeof(*p.f)))) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (next(&p) == 0 && p.tok == T_END)
		fail(&p, 0, "column %d: %s", "empty: give a comparison such as data.status >= 500");
	else if (!p.failed && (p.f->root = parse_or(&p)) >= 0 && p.tok != T_END)
		fail(&p, p.start, "column %d: expected 'and', 'or' or the end, found %s",
		     tok_text(&p, buf, sizeof(buf)));
	if (p.failed) {
		filter_expr_free(p.f);
		return NULL;
	}
	return p.f;
}

void filter_expr_free(struct filter_expr *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n; i++) {
		operand_free(&f->nodes[i].a);
		operand_free(&f->nodes[i].b);
	}
	free(f->nodes);
	free(f);
}

/* ---- evaluation ---- */

/* An operand's value: a JSON value of the event, or a literal as one. */
static yajl_val value_of(const struct operand *a, const struct event_view *v,
			 struct yajl_val_s *lit)
{
	switch (a->kind) {
	case A_PATH:
		return event_view_get(v, (const char **)a->path);
	case A_NUM:
		lit->type = yajl_t_number;
		lit->u.number.d = a->num;
		lit->u.number.flags = YAJL_NUMBER_DOUBLE_VALID;
		return lit;
	case A_STR:
		lit->type = yajl_t_string;
		lit->u.string = a->str;
		return lit;
	case A_TRUE:
		lit->type = yajl_t_true;
		return lit;
	case A_FALSE:
		lit->type = yajl_t_false;
		return lit;
	case A_NULL:
		break;
	}
	lit->type = yajl_t_null;
	return lit;
}

/* The text a glob matches: a string, or a number as it was written. */
static const char *glob_text(yajl_val x)
{
	return YAJL_IS_STRING(x) ? x->u.string : YAJL_IS_NUMBER(x) ? x->u.number.r : NULL;
}

/* x == y for two values of the same JSON type (numbers by value). */
static bool equal(yajl_val x, yajl_val y)
{
	if (YAJL_IS_NUMBER(x) && YAJL_IS_NUMBER(y))
		return YAJL_GET_DOUBLE(x) == YAJL_GET_DOUBLE(y);
	if (YAJL_IS_STRING(x) && YAJL_IS_STRING(y))
		return strcmp(x->u.string, y->u.string) == 0;
	return x->type == y->type && !YAJL_IS_OBJECT(x) && !YAJL_IS_ARRAY(x) &&
	       !YAJL_IS_NUMBER(x) && !YAJL_IS_STRING(x);
}

/* The ordering of two numbers or two strings; *ok false for other pairs. */
static int order(yajl_val x, yajl_val y, bool *ok)
{
	*ok = true;
	if (YAJL_IS_NUMBER(x) && YAJL_IS_NUMBER(y))
		return (YAJL_GET_DOUBLE(x) > YAJL_GET_DOUBLE(y)) -
		       (YAJL_GET_DOUBLE(x) < YAJL_GET_DOUBLE(y));
	if (YAJL_IS_STRING(x) && YAJL_IS_STRING(y))
		return strcmp(x->u.string, y->u.string);
	*ok = false;
	return 0;
}

static bool compare(enum op op, yajl_val x, yajl_val y)
{
	const char *text = glob_text(x);
	bool glob = op == OP_GLOB || op == OP_NOGLOB ||
		    ((op == OP_EQ || op == OP_NE) && YAJL_IS_STRING(y) && strchr(y->u.string, '*'));
	bool ok;
	int c;

	if (!x || !y)
		return false;
	/* An array matches when one of its elements does. */
	if (YAJL_IS_ARRAY(x)) {
		for (size_t i = 0; i < x->u.array.len; i++)
			if (compare(op, x->u.array.values[i], y))
				return true;
		return false;
	}
	if (glob)
		return text && YAJL_IS_STRING(y) &&
		       (fnmatch(y->u.string, text, 0) == 0) == (op == OP_EQ || op == OP_GLOB);
	if (op == OP_EQ || op == OP_NE)
		return equal(x, y) == (op == OP_EQ);
	c = order(x, y, &ok);
	return ok && (op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0);
}

static bool eval(const struct filter_expr *f, int id, const struct event_view *v)
{
	const struct node *n = &f->nodes[id];
	struct yajl_val_s la, lb;
	yajl_val x;

	switch (n->kind) {
	case N_AND:
		return eval(f, n->left, v) && eval(f, n->right, v);
	case N_OR:
		return eval(f, n->left, v) || eval(f, n->right, v);
	case N_NOT:
		return !eval(f, n->left, v);
	case N_CMP:
		return compare(n->op, value_of(&n->a, v, &la), value_of(&n->b, v, &lb));
	case N_TRUTH:
		break;
	}
	x = value_of(&n->a, v, &la);
	return x && !YAJL_IS_NULL(x) && !YAJL_IS_FALSE(x);
}

bool filter_expr_match(const struct filter_expr *f, const struct event_view *v)
{
	return eval(f, f->root, v);
}
