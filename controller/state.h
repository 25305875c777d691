/*
 * The state file: what an operator decided at run time and must survive a
 * failoverd restart: which services are drained, and weights changed with
 * `failoverctl weight'. Health is not saved: it is measured again.
 *
 * Text, one decision per line, written whole on every change (temporary
 * file, fsync, rename), so a crash leaves the old or the new file, never
 * half of one:
 *
 *   # failoverd state
 *   drained media
 *   weight media 50
 *
 * The parser is pure and strict: a line it does not understand is an
 * error naming its number, and the caller then ignores the whole file
 * (logging why) rather than act on half of it.
 */
#ifndef CONTROLLER_STATE_H
#define CONTROLLER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_SERVICE_MAX	63
#define STATE_ENTRIES_MAX	64
#define STATE_FILE_MAX		(64 * 1024)

struct state_entry {
	char		service[STATE_SERVICE_MAX + 1];
	bool		drained;
	bool		has_weight;
	uint32_t	weight;
};

/* Parse text[0..len). Returns the number of entries (one per service), or
 * -1 with "line N: ..." in err. */
int	state_parse(const char *text, size_t len, struct state_entry *out,
	    int max, char *err, size_t errlen);
/* Format entries into buf; returns the length or -1 if it does not fit.
 * Entries with nothing to say (not drained, no weight) are left out. */
int	state_format(char *buf, size_t len, const struct state_entry *e,
	    int n);
/* Load path: entries, 0 when the file does not exist, -1 with err. */
int	state_load(const char *path, struct state_entry *out, int max,
	    char *err, size_t errlen);
/* Save atomically; creates the parent directory if missing. */
int	state_save(const char *path, const struct state_entry *e, int n,
	    char *err, size_t errlen);

#endif
