/*
 * Just enough JSON output for status documents: a string escaper onto an
 * mbuf. Numbers and structure are written with mbuf_printf by the caller.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include "common/metrics.h"

/* Append s as a JSON string, quotes included. Control characters become
 * \uXXXX; bytes >= 0x80 pass through (callers give UTF-8 or ASCII). */
void	json_str(struct mbuf *mb, const char *s);

#endif
