#include "common/json.h"

#include <string.h>

void
json_str(struct mbuf *mb, const char *s)
{
	const char *run = s;
	unsigned char c;

	mbuf_append(mb, "\"", 1);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mbuf_append(mb, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"':
			mbuf_append(mb, "\\\"", 2);
			break;
		case '\\':
			mbuf_append(mb, "\\\\", 2);
			break;
		case '\n':
			mbuf_append(mb, "\\n", 2);
			break;
		case '\t':
			mbuf_append(mb, "\\t", 2);
			break;
		default:
			mbuf_printf(mb, "\\u%04x", c);
			break;
		}
	}
	mbuf_append(mb, run, (size_t)(s - run));
	mbuf_append(mb, "\"", 1);
}
