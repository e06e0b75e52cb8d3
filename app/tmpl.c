/* tmpl: Mustache templates compiled into node arrays, rendered over json-c.
 *
 * Compilation has four passes over one template:
 *   1. tokenize: text and tags, following set-delimiter tags as they come;
 *   2. match: pair every section/parent/block with its closing tag (errors
 *      for mismatches, unclosed sections, nesting deeper than the cap);
 *   3. standalone: a tag alone on its line takes the whole line with it; the
 *      whitespace before it becomes the indentation of a partial or parent;
 *   4. build: the node array.  Section-like nodes store the index just past
 *      their last child, so rendering is a loop with recursion per section.
 *
 * Whitespace around inheritance follows the spec (~inheritance):
 *   - parent tags ({{<p}} and its {{/p}}) do not count as content when
 *     deciding whether another tag on the same line is standalone, so that
 *     "{{<p}}{{$b}}" or "{{/b}}{{/p}}" lines vanish;
 *   - a block's content has its "definition indentation" (the leading
 *     whitespace of its first line) stripped at compile time, and the block
 *     tag where it is expanded pushes its own indentation at render time.
 *
 * Rendering keeps no heap state: the context stack, the chain of parent tags
 * being expanded and the current indentation all live on the C stack. */
#include "config.h"
#include "tmpl.h"
#include "buf.h"
#include "xalloc.h"

#include <json-c/json.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	DELIM_MAX = 16,     /* bytes per set delimiter */
	INDENT_MAX = 1024,  /* bytes of accumulated indentation; more is cut (cosmetic only) */
	LOAD_DEPTH_MAX = 16 /* directory levels below the template root */
};

enum node_kind { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL, N_PARENT, N_BLOCK };

struct node {
	unsigned char kind;
	unsigned char standalone;
	unsigned nseg;       /* N_VAR/N_RAW/N_SECTION/N_INVERTED: name segments, 0 for "." */
	size_t line;
	size_t end;          /* section-like nodes: index just past the last child */
	size_t str, len;     /* text; or the name, NUL-terminated, segments NUL-separated */
	size_t ind, ind_len; /* pool span: indentation of a standalone partial/parent, or
	                        the indentation a block pushes where it is expanded */
	uint64_t hash;       /* N_PARTIAL/N_PARENT: hash of the name */
};

struct tmpl {
	char *name;
	char *label;         /* name, or file path, for error messages */
	uint64_t hash;
	struct node *nodes;
	size_t nnodes;
	char *pool;
};

struct tmpl_set {
	unsigned flags;
	struct tmpl **list;  /* in order of addition */
	size_t n, cap;
	size_t *slots;       /* open addressing: index into list + 1, 0 = empty */
	size_t nslots;       /* power of two, at least twice n */
};

/* ---------------------------------------------------------------- helpers */

static uint64_t hash_name(const char *s)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* memmem is a GNU extension; templates are small, so a memchr walk will do. */
static const char *find(const char *h, size_t hn, const char *n, size_t nn)
{
	while (hn >= nn) {
		const char *p = memchr(h, n[0], hn - nn + 1);
		if (!p)
			return NULL;
		if (!memcmp(p, n, nn))
			return p;
		hn -= (size_t)(p - h) + 1;
		h = p + 1;
	}
	return NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Names in messages are cut so that one hostile tag cannot fill the log. */
static int shown(size_t len)
{
	return len > 64 ? 64 : (int)len;
}

/* ---------------------------------------------------------------- compiler */

enum tok_kind {
	T_TEXT, T_VAR, T_RAW, T_COMMENT, T_DELIM,
	T_SECTION, T_INVERTED, T_PARENT, T_BLOCK, T_CLOSE, T_PARTIAL
};

struct tok {
	unsigned char kind;
	unsigned char standalone;
	size_t start, end;         /* the whole token in src */
	size_t name, name_len;     /* tags: trimmed content */
	size_t line;
	size_t cut_head, cut_tail; /* text: bytes dropped by standalone lines */
	size_t match;              /* openers and closers: the partner token */
	size_t ind, ind_len;       /* standalone tags: leading whitespace of the line */
};

struct compiler {
	const char *label;
	const char *src;
	size_t len;
	unsigned flags;
	struct tok *toks;
	size_t ntoks, captoks;
	struct node *nodes;
	size_t nnodes, capnodes;
	struct buf pool;
	char *err;
	size_t errlen;
	size_t line, counted;      /* line number of src[counted] */
};

static int cerr(struct compiler *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cerr(struct compiler *c, size_t line, const char *fmt, ...)
{
	if (!c->err || !c->errlen)
		return -1;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%zu: %s", c->label, line, msg);
	return -1;
}

static size_t line_at(struct compiler *c, size_t pos)
{
	while (c->counted < pos) {
		const char *nl = memchr(c->src + c->counted, '\n', pos - c->counted);
		if (!nl) {
			c->counted = pos;
			break;
		}
		c->line++;
		c->counted = (size_t)(nl - c->src) + 1;
	}
	return c->line;
}

static struct tok *push_tok(struct compiler *c, int kind, size_t start, size_t end)
{
	if (c->ntoks == c->captoks) {
		c->captoks = c->captoks ? c->captoks * 2 : 64;
		c->toks = xrealloc(c->toks, c->captoks * sizeof(*c->toks));
	}
	struct tok *t = &c->toks[c->ntoks++];
	memset(t, 0, sizeof(*t));
	t->kind = (unsigned char)kind;
	t->start = start;
	t->end = end;
	t->line = line_at(c, start);
	return t;
}

static int is_opener(int kind)
{
	return kind == T_SECTION || kind == T_INVERTED || kind == T_PARENT || kind == T_BLOCK;
}

static int is_path_kind(int kind)
{
	return kind == T_VAR || kind == T_RAW || kind == T_SECTION || kind == T_INVERTED;
}

/* "." or dot-separated non-empty segments. */
static int valid_path(const char *s, size_t n)
{
	if (n == 1 && s[0] == '.')
		return 1;
	if (s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return 1;
}

/* "{{=<% %>=}}": content is "<% %>" here; two delimiters without '=' or blanks. */
static int parse_delims(const char *s, size_t n, char *otag, size_t *olen, char *ctag, size_t *clen)
{
	size_t i = 0;
	while (i < n && !is_space(s[i]))
		i++;
	size_t a = i;
	while (i < n && is_space(s[i]))
		i++;
	size_t b = i;
	while (i < n && !is_space(s[i]))
		i++;
	if (i != n || !a || b == n || a > DELIM_MAX || n - b > DELIM_MAX)
		return -1;
	if (memchr(s, '=', a) || memchr(s + b, '=', n - b))
		return -1;
	memcpy(otag, s, a);
	*olen = a;
	memcpy(ctag, s + b, n - b);
	*clen = n - b;
	return 0;
}

static int tokenize(struct compiler *c)
{
	const char *src = c->src;
	size_t len = c->len;
	char otag[DELIM_MAX + 1] = "{{", ctag[DELIM_MAX + 1] = "}}";
	size_t olen = 2, clen = 2;
	size_t pos = 0;

	while (pos < len) {
		const char *q = find(src + pos, len - pos, otag, olen);
		size_t at = q ? (size_t)(q - src) : len;
		if (at > pos)
			push_tok(c, T_TEXT, pos, at);
		if (!q)
			break;
		size_t line = line_at(c, at);
		size_t p = at + olen;
		char sig = p < len ? src[p] : '\0';
		char close[DELIM_MAX + 2];
		size_t cs, ce, end;
		int kind;
		const char *f;

		if (sig == '{' || sig == '=') {
			/* "{{{x}}}" and "{{=a b=}}" end in their sigil plus the close tag */
			close[0] = sig == '{' ? '}' : '=';
			memcpy(close + 1, ctag, clen);
			f = find(src + p + 1, len - p - 1, close, clen + 1);
			if (!f)
				return cerr(c, line, sig == '{' ? "unclosed tag" : "bad set-delimiter tag");
			cs = p + 1;
			ce = (size_t)(f - src);
			end = ce + 1 + clen;
			kind = sig == '{' ? T_RAW : T_DELIM;
		} else {
			f = find(src + p, len - p, ctag, clen);
			if (!f)
				return cerr(c, line, "unclosed tag");
			ce = (size_t)(f - src);
			end = ce + clen;
			cs = p + 1;
			switch (sig) {
			case '&': kind = T_RAW; break;
			case '!': kind = T_COMMENT; break;
			case '#': kind = T_SECTION; break;
			case '^': kind = T_INVERTED; break;
			case '/': kind = T_CLOSE; break;
			case '>': kind = T_PARTIAL; break;
			case '<': kind = T_PARENT; break;
			case '$': kind = T_BLOCK; break;
			default:
				kind = T_VAR;
				cs = p;
				break;
			}
			if (cs > ce) /* "{{}}" with a sigil-less empty body */
				cs = ce;
		}
		while (cs < ce && is_space(src[cs]))
			cs++;
		while (ce > cs && is_space(src[ce - 1]))
			ce--;

		if (kind == T_DELIM) {
			if (parse_delims(src + cs, ce - cs, otag, &olen, ctag, &clen))
				return cerr(c, line, "bad set-delimiter tag");
		} else if (kind != T_COMMENT) {
			if (cs == ce)
				return cerr(c, line, "empty tag");
			for (size_t i = cs; i < ce; i++)
				if (is_space(src[i]))
					return cerr(c, line, "blank inside tag name '%.*s'",
						    shown(ce - cs), src + cs);
			if (is_path_kind(kind) && !valid_path(src + cs, ce - cs))
				return cerr(c, line, "bad name '%.*s'", shown(ce - cs), src + cs);
			if (kind == T_RAW && !(c->flags & TMPL_ALLOW_RAW))
				return cerr(c, line, "raw interpolation is not allowed");
		}
		struct tok *t = push_tok(c, kind, at, end);
		t->name = cs;
		t->name_len = ce - cs;
		pos = end;
	}
	return 0;
}

static int match_tags(struct compiler *c)
{
	size_t stack[TMPL_MAX_NESTING];
	size_t depth = 0;
	struct tok *t = c->toks;

	for (size_t i = 0; i < c->ntoks; i++) {
		if (is_opener(t[i].kind)) {
			if (depth == TMPL_MAX_NESTING)
				return cerr(c, t[i].line, "sections nested deeper than %d",
					    TMPL_MAX_NESTING);
			stack[depth++] = i;
		} else if (t[i].kind == T_CLOSE) {
			const char *name = c->src + t[i].name;
			if (!depth)
				return cerr(c, t[i].line, "closing tag '%.*s' without an open section",
					    shown(t[i].name_len), name);
			size_t o = stack[--depth];
			if (t[o].name_len != t[i].name_len ||
			    memcmp(c->src + t[o].name, name, t[i].name_len))
				return cerr(c, t[i].line,
					    "closing tag '%.*s' does not match '%.*s' opened on line %zu",
					    shown(t[i].name_len), name, shown(t[o].name_len),
					    c->src + t[o].name, t[o].line);
			t[o].match = i;
			t[i].match = o;
		}
	}
	if (depth) {
		const struct tok *o = &t[stack[depth - 1]];
		return cerr(c, o->line, "unclosed section '%.*s'", shown(o->name_len),
			    c->src + o->name);
	}
	return 0;
}

static int can_stand_alone(int kind)
{
	return kind != T_TEXT && kind != T_VAR && kind != T_RAW;
}

/* Parent tags produce nothing on their line, so they do not stop another tag
 * on that line from being standalone (spec ~inheritance: "Standalone parent",
 * "Block reindentation"). */
static int transparent(const struct compiler *c, size_t i)
{
	const struct tok *t = &c->toks[i];
	return t->kind == T_PARENT || (t->kind == T_CLOSE && c->toks[t->match].kind == T_PARENT);
}

static void find_standalone(struct compiler *c, size_t i)
{
	struct tok *t = c->toks;
	const char *src = c->src;
	size_t lb = SIZE_MAX, lpos = 0; /* left boundary text token, line start in it */
	size_t rb = SIZE_MAX, rpos = 0; /* right boundary text token, just past the newline */
	size_t j;

	for (j = i; j-- > 0;) {
		if (t[j].kind == T_TEXT) {
			size_t k = t[j].end;
			while (k > t[j].start && is_blank(src[k - 1]))
				k--;
			if (k > t[j].start && src[k - 1] != '\n')
				return;
			lb = j;
			lpos = k;
			if (k > t[j].start)
				break;          /* found the newline */
		} else if (!transparent(c, j)) {
			return;
		}
	}
	for (j = i + 1; j < c->ntoks; j++) {
		if (t[j].kind == T_TEXT) {
			size_t k = t[j].start;
			while (k < t[j].end && is_blank(src[k]))
				k++;
			if (k == t[j].end)
				continue;
			if (src[k] == '\r' && k + 1 < t[j].end && src[k + 1] == '\n')
				k++;
			if (src[k] != '\n')
				return;
			rb = j;
			rpos = k + 1;
			break;
		} else if (!transparent(c, j)) {
			return;
		}
	}

	for (j = lb == SIZE_MAX ? i : lb; j < i; j++) {
		if (t[j].kind != T_TEXT)
			continue;
		size_t from = j == lb ? lpos : t[j].start;
		if (t[j].end - from > t[j].cut_tail)
			t[j].cut_tail = t[j].end - from;
	}
	for (j = i + 1; j < c->ntoks && j <= rb; j++) {
		if (t[j].kind != T_TEXT)
			continue;
		size_t to = j == rb ? rpos : t[j].end;
		if (to - t[j].start > t[j].cut_head)
			t[j].cut_head = to - t[j].start;
	}
	t[i].standalone = 1;
	if (lb != SIZE_MAX) {
		t[i].ind = lpos;
		t[i].ind_len = t[lb].end - lpos;
	}
}

static struct node *push_node(struct compiler *c, int kind, const struct tok *t)
{
	if (c->nnodes == c->capnodes) {
		c->capnodes = c->capnodes ? c->capnodes * 2 : 32;
		c->nodes = xrealloc(c->nodes, c->capnodes * sizeof(*c->nodes));
	}
	struct node *n = &c->nodes[c->nnodes++];
	memset(n, 0, sizeof(*n));
	n->kind = (unsigned char)kind;
	n->line = t->line;
	n->standalone = t->standalone;
	return n;
}

static size_t pool_str(struct compiler *c, const char *s, size_t n)
{
	size_t off = c->pool.len;
	buf_add(&c->pool, s, n);
	buf_addch(&c->pool, '\0');
	return off;
}

static void node_name(struct compiler *c, struct node *n, const struct tok *t)
{
	const char *s = c->src + t->name;
	n->str = pool_str(c, s, t->name_len);
	n->len = t->name_len;
	n->hash = hash_name(c->pool.data + n->str);
}

static void node_path(struct compiler *c, struct node *n, const struct tok *t)
{
	const char *s = c->src + t->name;
	size_t len = t->name_len;
	if (len == 1 && s[0] == '.') {
		n->str = pool_str(c, "", 0);
		return;
	}
	n->str = c->pool.len;
	n->len = len;
	n->nseg = 1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			buf_addch(&c->pool, '\0');
			n->nseg++;
		} else {
			buf_addch(&c->pool, s[i]);
		}
	}
	buf_addch(&c->pool, '\0');
}

/* A block's definition indentation: the leading blanks of the line its
 * content starts on (the next line when the opening tag is standalone). */
static void block_def(const struct compiler *c, const struct tok *t, size_t *def, size_t *def_len)
{
	const char *src = c->src;
	size_t p;
	if (t->standalone) {
		const char *nl = memchr(src + t->end, '\n', c->len - t->end);
		p = nl ? (size_t)(nl - src) + 1 : c->len;
	} else {
		p = t->start;
		while (p > 0 && src[p - 1] != '\n')
			p--;
	}
	size_t q = p;
	while (q < c->len && is_blank(src[q]))
		q++;
	*def = p;
	*def_len = q - p;
}

struct open {
	size_t node, tok;
	int block;
	size_t def, def_len; /* blocks: definition indentation in src */
};

static const struct open *inner_block(const struct open *open, size_t depth)
{
	while (depth-- > 0)
		if (open[depth].block)
			return &open[depth];
	return NULL;
}

/* Add a text token to the pool, dropping the enclosing block's definition
 * indentation at every line start; returns the number of bytes added. */
static size_t add_text(struct compiler *c, const struct tok *t, const struct open *blk)
{
	const char *src = c->src;
	size_t a = t->start + t->cut_head, b = t->end - t->cut_tail;
	if (t->cut_head + t->cut_tail >= t->end - t->start)
		return 0;
	if (!blk || !blk->def_len) {
		buf_add(&c->pool, src + a, b - a);
		return b - a;
	}
	size_t before = c->pool.len;
	const char *def = src + blk->def;
	while (a < b) {
		if (a > 0 && src[a - 1] == '\n')
			for (size_t m = 0; m < blk->def_len && a < b && src[a] == def[m]; m++)
				a++;
		const char *nl = memchr(src + a, '\n', b - a);
		size_t e = nl ? (size_t)(nl - src) + 1 : b;
		buf_add(&c->pool, src + a, e - a);
		a = e;
	}
	return c->pool.len - before;
}

static void build(struct compiler *c)
{
	struct open open[TMPL_MAX_NESTING];
	size_t depth = 0;
	int merge = 0; /* the last node is text at the end of the pool */

	for (size_t i = 0; i < c->ntoks; i++) {
		const struct tok *t = &c->toks[i];
		struct node *n;

		/* Inside a parent tag only blocks count; the spec ignores the rest. */
		if (depth && c->nodes[open[depth - 1].node].kind == N_PARENT &&
		    t->kind != T_BLOCK && !(t->kind == T_CLOSE && t->match == open[depth - 1].tok)) {
			if (is_opener(t->kind))
				i = t->match;
			continue;
		}
		switch (t->kind) {
		case T_TEXT: {
			size_t off = c->pool.len;
			size_t added = add_text(c, t, inner_block(open, depth));
			if (!added)
				continue;
			if (merge) {
				c->nodes[c->nnodes - 1].len += added;
			} else {
				n = push_node(c, N_TEXT, t);
				n->str = off;
				n->len = added;
				merge = 1;
			}
			continue;
		}
		case T_COMMENT:
		case T_DELIM:
			continue; /* nothing to render; text around them may still merge */
		case T_VAR:
		case T_RAW:
			n = push_node(c, t->kind == T_VAR ? N_VAR : N_RAW, t);
			node_path(c, n, t);
			break;
		case T_PARTIAL:
			n = push_node(c, N_PARTIAL, t);
			node_name(c, n, t);
			n->ind = pool_str(c, c->src + t->ind, t->ind_len);
			n->ind_len = t->ind_len;
			break;
		case T_SECTION:
		case T_INVERTED:
		case T_PARENT:
		case T_BLOCK: {
			static const unsigned char kinds[] = {
				[T_SECTION] = N_SECTION, [T_INVERTED] = N_INVERTED,
				[T_PARENT] = N_PARENT, [T_BLOCK] = N_BLOCK,
			};
			n = push_node(c, kinds[t->kind], t);
			struct open *o = &open[depth++];
			memset(o, 0, sizeof(*o));
			o->node = c->nnodes - 1;
			o->tok = i;
			if (t->kind == T_SECTION || t->kind == T_INVERTED) {
				node_path(c, n, t);
			} else if (t->kind == T_PARENT) {
				node_name(c, n, t);
				n->ind = pool_str(c, c->src + t->ind, t->ind_len);
				n->ind_len = t->ind_len;
			} else {
				node_name(c, n, t);
				block_def(c, t, &o->def, &o->def_len);
				o->block = 1;
				/* Where it is expanded, a block indents by its own definition
				 * indentation relative to the block around it, whose content
				 * has already lost the outer part. */
				const struct open *outer = inner_block(open, depth - 1);
				size_t m = 0;
				if (outer)
					while (m < outer->def_len && m < o->def_len &&
					       c->src[outer->def + m] == c->src[o->def + m])
						m++;
				n->ind = pool_str(c, c->src + o->def + m, o->def_len - m);
				n->ind_len = o->def_len - m;
			}
			break;
		}
		case T_CLOSE:
			depth--;
			c->nodes[open[depth].node].end = c->nnodes;
			break;
		}
		merge = 0;
	}
}

static void tmpl_free_one(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->label);
	free(t->nodes);
	free(t->pool);
	free(t);
}

static struct tmpl *tmpl_compile(const char *name, const char *label, const char *src,
				 size_t len, unsigned flags, char *err, size_t errlen)
{
	struct compiler c = {
		.label = label, .src = src, .len = len, .flags = flags,
		.err = err, .errlen = errlen, .line = 1,
	};
	buf_init(&c.pool);
	struct tmpl *t = NULL;

	if (!src) {
		c.src = "";
		c.len = 0;
	}
	if (tokenize(&c) || match_tags(&c))
		goto out;
	for (size_t i = 0; i < c.ntoks; i++)
		if (can_stand_alone(c.toks[i].kind))
			find_standalone(&c, i);
	build(&c);

	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->label = xstrdup(label);
	t->hash = hash_name(name);
	t->nodes = c.nodes;
	t->nnodes = c.nnodes;
	t->pool = buf_detach(&c.pool, NULL);
	c.nodes = NULL;
out:
	free(c.toks);
	free(c.nodes);
	buf_release(&c.pool);
	return t;
}

/* ---------------------------------------------------------------- the set */

struct tmpl_set *tmpl_set_new(unsigned flags)
{
	struct tmpl_set *s = xcalloc(1, sizeof(*s));
	s->flags = flags;
	return s;
}

static struct tmpl *set_find(const struct tmpl_set *s, const char *name, uint64_t hash)
{
	if (!s->nslots)
		return NULL;
	size_t mask = s->nslots - 1;
	for (size_t h = (size_t)hash & mask;; h = (h + 1) & mask) {
		size_t idx = s->slots[h];
		if (!idx)
			return NULL;
		struct tmpl *t = s->list[idx - 1];
		if (t->hash == hash && !strcmp(t->name, name))
			return t;
	}
}

static void set_slot(struct tmpl_set *s, size_t idx)
{
	size_t mask = s->nslots - 1;
	size_t h = (size_t)s->list[idx]->hash & mask;
	while (s->slots[h])
		h = (h + 1) & mask;
	s->slots[h] = idx + 1;
}

static void set_put(struct tmpl_set *s, struct tmpl *t)
{
	struct tmpl *old = set_find(s, t->name, t->hash);
	if (old) {
		for (size_t i = 0; i < s->n; i++)
			if (s->list[i] == old)
				s->list[i] = t;
		tmpl_free_one(old);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->list = xrealloc(s->list, s->cap * sizeof(*s->list));
	}
	s->list[s->n++] = t;
	if (s->n * 2 > s->nslots) {
		free(s->slots);
		s->nslots = s->nslots ? s->nslots * 2 : 32;
		s->slots = xcalloc(s->nslots, sizeof(*s->slots));
		for (size_t i = 0; i < s->n; i++)
			set_slot(s, i);
	} else {
		set_slot(s, s->n - 1);
	}
}

static int set_add(struct tmpl_set *s, const char *name, const char *label, const char *src,
		   size_t len, char *err, size_t errlen)
{
	struct tmpl *t = tmpl_compile(name, label, src, len, s->flags, err, errlen);
	if (!t)
		return -1;
	set_put(s, t);
	return 0;
}

int tmpl_set_add(struct tmpl_set *s, const char *name, const char *src, size_t len,
		 char *err, size_t errlen)
{
	return set_add(s, name, name, src, len, err, errlen);
}

int tmpl_set_has(const struct tmpl_set *s, const char *name)
{
	return set_find(s, name, hash_name(name)) != NULL;
}

size_t tmpl_set_count(const struct tmpl_set *s)
{
	return s->n;
}

int tmpl_set_check(const struct tmpl_set *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct tmpl *t = s->list[i];
		for (size_t k = 0; k < t->nnodes; k++) {
			const struct node *n = &t->nodes[k];
			if (n->kind != N_PARTIAL && n->kind != N_PARENT)
				continue;
			if (set_find(s, t->pool + n->str, n->hash))
				continue;
			set_err(err, errlen, "%s:%zu: unknown partial '%.*s'", t->label, n->line,
				shown(n->len), t->pool + n->str);
			return -1;
		}
	}
	return 0;
}

void tmpl_set_free(struct tmpl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		tmpl_free_one(s->list[i]);
	free(s->list);
	free(s->slots);
	free(s);
}

/* ---------------------------------------------------------------- loading */

static int read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_size > TMPL_MAX_FILE) {
		set_err(err, errlen, "%s: larger than %d bytes", path, TMPL_MAX_FILE);
		close(fd);
		return -1;
	}
	/* read up to one byte more than the cap, in case the file grew */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *p = xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			free(p);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			if (cap > TMPL_MAX_FILE) {
				set_err(err, errlen, "%s: larger than %d bytes", path, TMPL_MAX_FILE);
				free(p);
				close(fd);
				return -1;
			}
			cap *= 2;
			p = xrealloc(p, cap + 1);
		}
	}
	close(fd);
	p[n] = '\0';
	*data = p;
	*len = n;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_html_suffix(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && !strcmp(name + n - 5, ".html");
}

/* Load dir/rel (rel is "" or ends in '/'), sorted, so errors come out in a
 * stable order. */
static int load_dir(struct tmpl_set *s, const char *dir, struct buf *rel, int depth,
		    char *err, size_t errlen)
{
	struct buf path = BUF_INIT;
	buf_adds(&path, dir);
	if (rel->len) {
		buf_addch(&path, '/');
		buf_add(&path, rel->data, rel->len - 1); /* no trailing '/' in messages */
	}

	DIR *d = opendir(path.data);
	if (!d) {
		set_err(err, errlen, "%s: %s", path.data, strerror(errno));
		buf_release(&path);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);

	int rc = 0;
	size_t base = rel->len;
	for (size_t i = 0; i < n && !rc; i++) {
		struct buf file = BUF_INIT;
		buf_addf(&file, "%s/%s", path.data, names[i]);
		struct stat st;
		if (stat(file.data, &st) < 0) {
			set_err(err, errlen, "%s: %s", file.data, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth >= LOAD_DEPTH_MAX) {
				set_err(err, errlen, "%s: directories nested deeper than %d",
					file.data, LOAD_DEPTH_MAX);
				rc = -1;
			} else {
				buf_adds(rel, names[i]);
				buf_addch(rel, '/');
				rc = load_dir(s, dir, rel, depth + 1, err, errlen);
				buf_truncate(rel, base);
			}
		} else if (S_ISREG(st.st_mode) && has_html_suffix(names[i])) {
			char *src;
			size_t len;
			rc = read_file(file.data, &src, &len, err, errlen);
			if (!rc) {
				buf_add(rel, names[i], strlen(names[i]) - 5);
				rc = set_add(s, rel->data, file.data, src, len, err, errlen);
				buf_truncate(rel, base);
				free(src);
			}
		}
		buf_release(&file);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_release(&path);
	return rc;
}

struct tmpl_set *tmpl_set_load(const char *dir, char *err, size_t errlen)
{
	struct buf root = BUF_INIT, rel = BUF_INIT;
	buf_adds(&root, dir);
	while (root.len > 1 && root.data[root.len - 1] == '/')
		buf_truncate(&root, root.len - 1);
	struct tmpl_set *s = tmpl_set_new(0);
	if (load_dir(s, root.data, &rel, 0, err, errlen) || tmpl_set_check(s, err, errlen)) {
		tmpl_set_free(s);
		s = NULL;
	}
	buf_release(&root);
	buf_release(&rel);
	return s;
}

/* ---------------------------------------------------------------- rendering */

struct ctx {
	struct json_object *v;
	const struct ctx *up;
};

/* A parent tag being expanded: its blocks override those of the templates it
 * pulls in; the outermost override of a name wins. */
struct frame {
	const struct tmpl *t;
	size_t node;
	const struct frame *up;
};

struct render {
	const struct tmpl_set *set;
	struct buf *out;
	const struct frame *parents;
	unsigned depth;
	unsigned long expansions;
	int need_indent;        /* at a line start of template text: indent before output */
	size_t indent_len;
	char indent[INDENT_MAX];
};

static void render_range(struct render *r, const struct tmpl *t, size_t i, size_t end,
			 const struct ctx *c);

/* Indentation goes in front of each line of template text, lazily, so that
 * newlines coming from data never get indented (spec "Standalone Indentation"). */
static void begin_output(struct render *r)
{
	if (r->need_indent) {
		r->need_indent = 0;
		if (r->indent_len)
			buf_add(r->out, r->indent, r->indent_len);
	}
}

static void push_indent(struct render *r, const char *s, size_t n)
{
	size_t room = sizeof(r->indent) - r->indent_len;
	if (n > room)
		n = room;
	memcpy(r->indent + r->indent_len, s, n);
	r->indent_len += n;
}

static void emit_text(struct render *r, const char *s, size_t n)
{
	if (!r->indent_len) {
		buf_add(r->out, s, n);
		r->need_indent = s[n - 1] == '\n';
		return;
	}
	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t seg = nl ? (size_t)(nl - s) + 1 : n;
		begin_output(r);
		buf_add(r->out, s, seg);
		if (nl)
			r->need_indent = 1;
		s += seg;
		n -= seg;
	}
}

static const unsigned char escape_class[256] = {
	['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5,
};
static const char *const escape_text[] = { "", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
static const unsigned char escape_len[] = { 0, 5, 4, 4, 6, 5 };

static void add_escaped(struct buf *out, const char *s, size_t n)
{
	size_t run = 0;
	buf_grow(out, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char e = escape_class[(unsigned char)s[i]];
		if (!e)
			continue;
		buf_add(out, s + run, i - run);
		buf_add(out, escape_text[e], escape_len[e]);
		run = i + 1;
	}
	buf_add(out, s + run, n - run);
}

/* The shortest %g form that reads back as the same double: 1.21 stays "1.21",
 * 0.1 + 0.2 needs all 17 digits. */
static size_t format_double(char *tmp, size_t size, double d)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, size, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return n > 0 ? (size_t)n : 0;
}

const char tmpl_markup_tag = 'M';

struct json_object *tmpl_markup_new(const char *html, size_t len)
{
	struct json_object *o = json_object_new_string_len(html, (int)len);
	json_object_set_userdata(o, (void *)&tmpl_markup_tag, NULL);
	return o;
}

static void emit_value(struct render *r, struct json_object *v, int escape)
{
	char tmp[40];
	const char *s = tmp;
	size_t n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		break;
	case json_type_int: {
		int64_t i = json_object_get_int64(v);
		if (i == INT64_MAX) /* json-c clamps; the value may be a larger uint64 */
			n = (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, json_object_get_uint64(v));
		else
			n = (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, i);
		break;
	}
	case json_type_double:
		n = format_double(tmp, sizeof(tmp), json_object_get_double(v));
		break;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "true" : "false";
		n = strlen(s);
		break;
	default:
		return; /* null, objects, arrays */
	}
	if (!n)
		return;
	begin_output(r);
	/* markup made by C code (tmpl_markup_new), e.g. an SVG plot, is already safe */
	if (escape && json_object_get_userdata(v) == &tmpl_markup_tag)
		escape = 0;
	if (escape)
		add_escaped(r->out, s, n);
	else
		buf_add(r->out, s, n);
}

/* Spec name resolution: the first segment walks the context stack, the rest
 * must resolve inside that value.  Missing and null both come back NULL. */
static struct json_object *lookup(const struct ctx *c, const char *path, unsigned nseg)
{
	if (!nseg)
		return c->v;
	struct json_object *v = NULL;
	for (; c; c = c->up)
		if (json_object_is_type(c->v, json_type_object) &&
		    json_object_object_get_ex(c->v, path, &v))
			break;
	if (!c)
		return NULL;
	for (unsigned k = 1; k < nseg; k++) {
		path += strlen(path) + 1;
		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, path, &v))
			return NULL;
	}
	return v;
}

static int truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	default:
		return 1;
	}
}

/* Partials and parents: same template expansion, with caps on depth and on
 * the total count so that self-including templates stop. */
static void expand(struct render *r, const struct tmpl *t, const struct node *n,
		   const struct frame *parents, const struct ctx *c)
{
	if (r->depth >= TMPL_MAX_PARTIAL_DEPTH || r->expansions >= TMPL_MAX_EXPANSIONS)
		return;
	const struct tmpl *p = set_find(r->set, t->pool + n->str, n->hash);
	if (!p)
		return;
	r->expansions++;
	size_t saved_indent = r->indent_len;
	const struct frame *saved_parents = r->parents;
	if (n->standalone) {
		push_indent(r, t->pool + n->ind, n->ind_len);
		r->need_indent = 1;
	}
	r->parents = parents;
	r->depth++;
	render_range(r, p, 0, p->nnodes, c);
	r->depth--;
	r->parents = saved_parents;
	r->indent_len = saved_indent;
}

static void render_block(struct render *r, const struct tmpl *t, size_t i, const struct ctx *c)
{
	const struct node *n = &t->nodes[i];
	const char *name = t->pool + n->str;
	const struct tmpl *bt = t;
	size_t bi = i;

	/* Outermost override wins: keep the last match walking outwards.  All
	 * children of a parent node are blocks (build() drops the rest). */
	for (const struct frame *f = r->parents; f; f = f->up) {
		const struct node *pn = &f->t->nodes[f->node];
		for (size_t k = f->node + 1; k < pn->end; k = f->t->nodes[k].end) {
			const struct node *b = &f->t->nodes[k];
			if (b->len == n->len && !strcmp(f->t->pool + b->str, name)) {
				bt = f->t;
				bi = k;
				break;
			}
		}
	}
	int override = bt != t || bi != i;
	if (override) {
		/* an override may contain its own block: count it like a partial */
		if (r->depth >= TMPL_MAX_PARTIAL_DEPTH || r->expansions >= TMPL_MAX_EXPANSIONS)
			return;
		r->depth++;
		r->expansions++;
	}
	size_t saved_indent = r->indent_len;
	push_indent(r, t->pool + n->ind, n->ind_len);
	if (n->standalone)
		r->need_indent = 1;
	render_range(r, bt, bi + 1, bt->nodes[bi].end, c);
	r->indent_len = saved_indent;
	if (override)
		r->depth--;
}

static void render_range(struct render *r, const struct tmpl *t, size_t i, size_t end,
			 const struct ctx *c)
{
	while (i < end) {
		const struct node *n = &t->nodes[i];
		switch (n->kind) {
		case N_TEXT:
			emit_text(r, t->pool + n->str, n->len);
			i++;
			break;
		case N_VAR:
		case N_RAW:
			emit_value(r, lookup(c, t->pool + n->str, n->nseg), n->kind == N_VAR);
			i++;
			break;
		case N_SECTION: {
			struct json_object *v = lookup(c, t->pool + n->str, n->nseg);
			if (json_object_is_type(v, json_type_array)) {
				size_t len = json_object_array_length(v);
				for (size_t k = 0; k < len; k++) {
					struct ctx item = { json_object_array_get_idx(v, k), c };
					render_range(r, t, i + 1, n->end, &item);
				}
			} else if (truthy(v)) {
				struct ctx item = { v, c };
				render_range(r, t, i + 1, n->end, &item);
			}
			i = n->end;
			break;
		}
		case N_INVERTED:
			if (!truthy(lookup(c, t->pool + n->str, n->nseg)))
				render_range(r, t, i + 1, n->end, c);
			i = n->end;
			break;
		case N_PARTIAL:
			expand(r, t, n, r->parents, c);
			i++;
			break;
		case N_PARENT: {
			struct frame f = { t, i, r->parents };
			expand(r, t, n, &f, c);
			i = n->end;
			break;
		}
		case N_BLOCK:
			render_block(r, t, i, c);
			i = n->end;
			break;
		default:
			i++;
			break;
		}
	}
}

int tmpl_render(const struct tmpl_set *s, const char *name, struct json_object *ctx,
		struct buf *out)
{
	const struct tmpl *t = set_find(s, name, hash_name(name));
	if (!t)
		return -1;
	struct render r;
	r.set = s;
	r.out = out;
	r.parents = NULL;
	r.depth = 0;
	r.expansions = 0;
	r.need_indent = 1;
	r.indent_len = 0;
	struct ctx root = { ctx, NULL };
	render_range(&r, t, 0, t->nnodes, &root);
	return 0;
}
