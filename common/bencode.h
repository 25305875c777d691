/*
 * Bencode, as spoken by the rtpengine "ng" control protocol (the relay serves
 * it; failoverd, rtpmeter and the benchmark speak it as clients).
 *
 * Decoding builds a tree in a caller-supplied node array (no allocation):
 * strings point into the input buffer, which must outlive the tree. Limits
 * (nesting depth, node count, integer range) turn hostile input into an error,
 * never into a crash. Encoding appends to a fixed buffer and remembers
 * overflow instead of writing past it.
 */
#ifndef COMMON_BENCODE_H
#define COMMON_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCODE_MAX_DEPTH	32

enum bnode_type {
	BNODE_INT,
	BNODE_STR,
	BNODE_LIST,
	BNODE_DICT,
};

struct bnode {
	enum bnode_type	 type;
	const char	*s;		/* BNODE_STR: bytes (not NUL-terminated) */
	size_t		 len;		/* BNODE_STR: length */
	int64_t		 i;		/* BNODE_INT */
	const char	*key;		/* set on children of a dict */
	size_t		 keylen;
	struct bnode	*child;		/* LIST/DICT: first element */
	struct bnode	*next;		/* next sibling */
};

/*
 * Decode exactly one value from buf[0..len). Trailing bytes after the value
 * are an error. On success *root points into nodes[] and 0 is returned; on
 * failure -1 with a message naming the byte offset, such as
 * "offset 7: string length 99 runs past the end of the input".
 */
int	bencode_decode(const char *buf, size_t len, struct bnode *nodes,
	    size_t nnodes, struct bnode **root, char *err, size_t errlen);

/* Dictionary lookup by key; NULL if absent or d is not a dict. */
struct bnode *bnode_get(const struct bnode *d, const char *key);
/* The string value of key in d, or NULL (with *len untouched) if absent or
 * not a string. */
const char *bnode_get_str(const struct bnode *d, const char *key, size_t *len);
/* True if n is a string equal to s. */
bool	bnode_str_eq(const struct bnode *n, const char *s);
/* Copy a string node into buf as a C string; -1 if not a string, if it holds
 * a NUL byte or if it does not fit. */
int	bnode_strcpy(const struct bnode *n, char *buf, size_t len);

struct bencoder {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	bool	 overflow;	/* a write did not fit; buf holds a prefix */
};

void	benc_init(struct bencoder *b, char *buf, size_t cap);
void	benc_str(struct bencoder *b, const char *s);
void	benc_strn(struct bencoder *b, const char *s, size_t len);
void	benc_int(struct bencoder *b, int64_t v);
void	benc_dict(struct bencoder *b);	/* opens a dict: keys then values */
void	benc_list(struct bencoder *b);	/* opens a list */
void	benc_end(struct bencoder *b);	/* closes the innermost dict/list */
/* Shorthands for a dict entry: key then value. */
void	benc_kv_str(struct bencoder *b, const char *key, const char *val);
void	benc_kv_strn(struct bencoder *b, const char *key, const char *val,
	    size_t len);
void	benc_kv_int(struct bencoder *b, const char *key, int64_t val);

#endif
