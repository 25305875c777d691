/*
 * A thin layer over libyaml for configuration files.
 *
 * The document is loaded whole; readers walk it and record every problem as
 * "file:line:col: message" (1-based, pointing at the offending node) without
 * stopping, so one run reports all the errors of a file. Nothing is logged:
 * the caller prints yconf_error(c, i) for i < yconf_nerrors(c).
 *
 * Readers take `what`, the key name used in messages
 * ("relay.yaml:4:16: media-timeout: '5x': unknown unit 'x' ...").
 * They return 0 on success and -1 after recording an error.
 */
#ifndef COMMON_YCONF_H
#define COMMON_YCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "common/addr.h"

#define YCONF_MAX_ERRORS	100

struct yconf {
	char		 file[256];	/* name used in messages */
	yaml_document_t	 doc;
	bool		 loaded;
	int		 nerrors;
	int		 dropped;	/* errors past YCONF_MAX_ERRORS */
	char		*errors[YCONF_MAX_ERRORS];
};

void	yconf_init(struct yconf *c, const char *file);
/* Load from a buffer; a YAML syntax error is recorded with its position. */
int	yconf_load_buf(struct yconf *c, const char *buf, size_t len);
/* Read and load c->file. */
int	yconf_load_file(struct yconf *c);
void	yconf_free(struct yconf *c);

int	yconf_nerrors(const struct yconf *c);
const char *yconf_error(const struct yconf *c, int i);
/* Record an error at node n (NULL: no position, just the file name). */
void	yconf_errorf(struct yconf *c, const yaml_node_t *n, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* Root node; records "empty document" and returns NULL when there is none. */
yaml_node_t *yconf_root(struct yconf *c);

/* Mappings. yconf_map checks n is a mapping (error naming `what`). */
int	yconf_map(struct yconf *c, yaml_node_t *n, const char *what);
/* Record an error for every key of map that is not in allowed[] (NULL
 * terminated), for non-scalar keys and for duplicate keys. */
void	yconf_check_keys(struct yconf *c, yaml_node_t *map,
	    const char *const allowed[]);
/* Value of key in map, or NULL if absent. */
yaml_node_t *yconf_get(struct yconf *c, yaml_node_t *map, const char *key);
int	yconf_map_len(struct yconf *c, yaml_node_t *map);
/* i-th key (scalar text or NULL) and value of a mapping. */
const char *yconf_map_key(struct yconf *c, yaml_node_t *map, int i,
	    yaml_node_t **keynode, yaml_node_t **value);

/* A sequence, or a single scalar read as a one-element list: fills up to max
 * items and returns the count, or -1 (also when there are more than max). */
int	yconf_list(struct yconf *c, yaml_node_t *n, const char *what,
	    yaml_node_t **items, int max);

/* Scalars. */
int	yconf_str(struct yconf *c, yaml_node_t *n, const char *what,
	    const char **out);
int	yconf_strcpy(struct yconf *c, yaml_node_t *n, const char *what,
	    char *buf, size_t len);
int	yconf_u64(struct yconf *c, yaml_node_t *n, const char *what,
	    uint64_t min, uint64_t max, uint64_t *out);
int	yconf_duration_us(struct yconf *c, yaml_node_t *n, const char *what,
	    uint64_t min_us, uint64_t max_us, uint64_t *out);
int	yconf_bool(struct yconf *c, yaml_node_t *n, const char *what,
	    bool *out);
int	yconf_range(struct yconf *c, yaml_node_t *n, const char *what,
	    uint64_t min, uint64_t max, uint64_t *lo, uint64_t *hi);
int	yconf_addr(struct yconf *c, yaml_node_t *n, const char *what,
	    struct addr *out);
int	yconf_prefix(struct yconf *c, yaml_node_t *n, const char *what,
	    struct prefix *out);
int	yconf_hostport(struct yconf *c, yaml_node_t *n, const char *what,
	    union sockaddr_any *out);
/* One of choices[] (NULL terminated): returns the index or -1. */
int	yconf_enum(struct yconf *c, yaml_node_t *n, const char *what,
	    const char *const choices[]);

#endif
