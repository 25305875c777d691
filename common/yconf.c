/*
 * libyaml wrapper that collects every configuration error with its position.
 */
#include "common/yconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

/* Largest configuration file read; anything bigger is a mistake. */
#define YCONF_MAX_FILE	(1024 * 1024)

void
yconf_init(struct yconf *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%s", file);
}

static void
yconf_add(struct yconf *c, const char *msg)
{
	if (c->nerrors >= YCONF_MAX_ERRORS) {
		c->dropped++;
		return;
	}
	c->errors[c->nerrors] = strdup(msg);
	if (c->errors[c->nerrors] != NULL)
		c->nerrors++;
}

static void
yconf_vat(struct yconf *c, size_t line, size_t col, bool pos,
    const char *fmt, va_list ap)
{
	char msg[512];
	int n;

	if (pos)
		n = snprintf(msg, sizeof(msg), "%s:%zu:%zu: ", c->file,
		    line + 1, col + 1);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", c->file);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	yconf_add(c, msg);
}

void
yconf_errorf(struct yconf *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (n != NULL)
		yconf_vat(c, n->start_mark.line, n->start_mark.column, true,
		    fmt, ap);
	else
		yconf_vat(c, 0, 0, false, fmt, ap);
	va_end(ap);
}

static void
yconf_errat(struct yconf *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	yconf_vat(c, line, col, true, fmt, ap);
	va_end(ap);
}

int
yconf_load_buf(struct yconf *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	int rc = 0;

	if (!yaml_parser_initialize(&parser)) {
		yconf_errorf(c, NULL, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &c->doc)) {
		const char *problem = parser.problem != NULL ?
		    parser.problem : "invalid YAML";

		if (parser.context != NULL)
			yconf_errat(c, parser.problem_mark.line,
			    parser.problem_mark.column, "%s %s", problem,
			    parser.context);
		else
			yconf_errat(c, parser.problem_mark.line,
			    parser.problem_mark.column, "%s", problem);
		rc = -1;
	} else
		c->loaded = true;
	yaml_parser_delete(&parser);
	return rc;
}

int
yconf_load_file(struct yconf *c)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	if ((f = fopen(c->file, "r")) == NULL) {
		yconf_errorf(c, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	if ((buf = malloc(YCONF_MAX_FILE + 1)) == NULL) {
		fclose(f);
		yconf_errorf(c, NULL, "out of memory");
		return -1;
	}
	n = fread(buf, 1, YCONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		yconf_errorf(c, NULL, "cannot read: %s", strerror(errno));
		rc = -1;
	} else if (n > YCONF_MAX_FILE) {
		yconf_errorf(c, NULL, "file larger than %d bytes",
		    YCONF_MAX_FILE);
		rc = -1;
	} else
		rc = yconf_load_buf(c, buf, n);
	free(buf);
	fclose(f);
	return rc;
}

void
yconf_free(struct yconf *c)
{
	int i;

	if (c->loaded)
		yaml_document_delete(&c->doc);
	c->loaded = false;
	for (i = 0; i < c->nerrors; i++)
		free(c->errors[i]);
	c->nerrors = 0;
}

int
yconf_nerrors(const struct yconf *c)
{
	return c->nerrors + c->dropped;
}

const char *
yconf_error(const struct yconf *c, int i)
{
	if (i < 0 || i >= c->nerrors)
		return "(more errors not shown)";
	return c->errors[i];
}

yaml_node_t *
yconf_root(struct yconf *c)
{
	yaml_node_t *n;

	if (!c->loaded)
		return NULL;
	n = yaml_document_get_root_node(&c->doc);
	if (n == NULL || (n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.length == 0)) {
		yconf_errorf(c, NULL, "empty configuration");
		return NULL;
	}
	return n;
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

int
yconf_map(struct yconf *c, yaml_node_t *n, const char *what)
{
	if (n == NULL)
		return -1;
	if (n->type != YAML_MAPPING_NODE) {
		yconf_errorf(c, n, "%s: expected a mapping, found %s", what,
		    node_kind(n));
		return -1;
	}
	return 0;
}

static const char *
scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

int
yconf_map_len(struct yconf *c, yaml_node_t *map)
{
	(void)c;
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return 0;
	return (int)(map->data.mapping.pairs.top -
	    map->data.mapping.pairs.start);
}

const char *
yconf_map_key(struct yconf *c, yaml_node_t *map, int i,
    yaml_node_t **keynode, yaml_node_t **value)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (i < 0 || i >= yconf_map_len(c, map))
		return NULL;
	p = map->data.mapping.pairs.start + i;
	k = yaml_document_get_node(&c->doc, p->key);
	if (keynode != NULL)
		*keynode = k;
	if (value != NULL)
		*value = yaml_document_get_node(&c->doc, p->value);
	return scalar(k);
}

void
yconf_check_keys(struct yconf *c, yaml_node_t *map,
    const char *const allowed[])
{
	char list[512];
	yaml_node_t *kn;
	const char *k, *k2;
	int i, j, n = yconf_map_len(c, map);
	size_t a, used;

	for (i = 0; i < n; i++) {
		k = yconf_map_key(c, map, i, &kn, NULL);
		if (k == NULL) {
			yconf_errorf(c, kn, "keys must be plain strings");
			continue;
		}
		for (j = 0; j < i; j++) {
			k2 = yconf_map_key(c, map, j, NULL, NULL);
			if (k2 != NULL && strcmp(k, k2) == 0) {
				yconf_errorf(c, kn, "duplicate key '%s'", k);
				break;
			}
		}
		for (a = 0; allowed[a] != NULL; a++)
			if (strcmp(k, allowed[a]) == 0)
				break;
		if (allowed[a] != NULL)
			continue;
		list[0] = '\0';
		used = 0;
		for (a = 0; allowed[a] != NULL && used < sizeof(list); a++)
			used += snprintf(list + used, sizeof(list) - used,
			    "%s%s", a ? ", " : "", allowed[a]);
		yconf_errorf(c, kn, "unknown key '%s' (expected one of: %s)",
		    k, list);
	}
}

yaml_node_t *
yconf_get(struct yconf *c, yaml_node_t *map, const char *key)
{
	yaml_node_t *v;
	const char *k;
	int i, n = yconf_map_len(c, map);

	for (i = 0; i < n; i++) {
		k = yconf_map_key(c, map, i, NULL, &v);
		if (k != NULL && strcmp(k, key) == 0)
			return v;
	}
	return NULL;
}

int
yconf_list(struct yconf *c, yaml_node_t *n, const char *what,
    yaml_node_t **items, int max)
{
	yaml_node_item_t *it;
	int count = 0;

	if (n == NULL)
		return -1;
	if (n->type == YAML_SCALAR_NODE) {
		if (max < 1)
			return -1;
		items[0] = n;
		return 1;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		yconf_errorf(c, n, "%s: expected a list, found %s", what,
		    node_kind(n));
		return -1;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if (count == max) {
			yconf_errorf(c, n, "%s: more than %d entries", what,
			    max);
			return -1;
		}
		items[count++] = yaml_document_get_node(&c->doc, *it);
	}
	return count;
}

int
yconf_str(struct yconf *c, yaml_node_t *n, const char *what,
    const char **out)
{
	const char *s = scalar(n);

	if (n == NULL)
		return -1;
	if (s == NULL) {
		yconf_errorf(c, n, "%s: expected a value, found %s", what,
		    node_kind(n));
		return -1;
	}
	if (*s == '\0') {
		yconf_errorf(c, n, "%s: empty value", what);
		return -1;
	}
	*out = s;
	return 0;
}

int
yconf_strcpy(struct yconf *c, yaml_node_t *n, const char *what, char *buf,
    size_t len)
{
	const char *s;

	if (yconf_str(c, n, what, &s) == -1)
		return -1;
	if (strlen(s) >= len) {
		yconf_errorf(c, n, "%s: longer than %zu characters", what,
		    len - 1);
		return -1;
	}
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* Runs a parse.h/addr.h parser on a scalar and turns its error into a
 * positioned one. */
#define YCONF_PARSE(c, n, what, call) do {				\
	const char *s;							\
	char err[256];							\
									\
	if (yconf_str(c, n, what, &s) == -1)				\
		return -1;						\
	if ((call) == -1) {						\
		yconf_errorf(c, n, "%s: %s", what, err);		\
		return -1;						\
	}								\
	return 0;							\
} while (0)

int
yconf_u64(struct yconf *c, yaml_node_t *n, const char *what, uint64_t min,
    uint64_t max, uint64_t *out)
{
	YCONF_PARSE(c, n, what, parse_u64(s, min, max, out, err, sizeof(err)));
}

int
yconf_duration_us(struct yconf *c, yaml_node_t *n, const char *what,
    uint64_t min_us, uint64_t max_us, uint64_t *out)
{
	YCONF_PARSE(c, n, what, parse_duration_us(s, min_us, max_us, out, err,
	    sizeof(err)));
}

int
yconf_bool(struct yconf *c, yaml_node_t *n, const char *what, bool *out)
{
	int v = 0, rc;
	const char *s;
	char err[256];

	if (yconf_str(c, n, what, &s) == -1)
		return -1;
	rc = parse_bool(s, &v, err, sizeof(err));
	if (rc == -1) {
		yconf_errorf(c, n, "%s: %s", what, err);
		return -1;
	}
	*out = v != 0;
	return 0;
}

int
yconf_range(struct yconf *c, yaml_node_t *n, const char *what, uint64_t min,
    uint64_t max, uint64_t *lo, uint64_t *hi)
{
	YCONF_PARSE(c, n, what, parse_range(s, min, max, lo, hi, err,
	    sizeof(err)));
}

int
yconf_addr(struct yconf *c, yaml_node_t *n, const char *what,
    struct addr *out)
{
	YCONF_PARSE(c, n, what, addr_parse(s, out, err, sizeof(err)));
}

int
yconf_prefix(struct yconf *c, yaml_node_t *n, const char *what,
    struct prefix *out)
{
	YCONF_PARSE(c, n, what, prefix_parse(s, out, err, sizeof(err)));
}

int
yconf_hostport(struct yconf *c, yaml_node_t *n, const char *what,
    union sockaddr_any *out)
{
	YCONF_PARSE(c, n, what, hostport_parse(s, out, err, sizeof(err)));
}

int
yconf_enum(struct yconf *c, yaml_node_t *n, const char *what,
    const char *const choices[])
{
	char list[256];
	const char *s;
	size_t used = 0;
	int i;

	if (yconf_str(c, n, what, &s) == -1)
		return -1;
	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(s, choices[i]) == 0)
			return i;
	list[0] = '\0';
	for (i = 0; choices[i] != NULL && used < sizeof(list); i++)
		used += snprintf(list + used, sizeof(list) - used, "%s%s",
		    i ? ", " : "", choices[i]);
	yconf_errorf(c, n, "%s: '%s' is not one of: %s", what, s, list);
	return -1;
}
