/*
 * Logging: stderr in the foreground, syslog otherwise. Every function keeps
 * errno as it found it, so a caller can log and then still inspect errno.
 * log_warn and fatal append strerror(errno); the -x forms do not.
 * fatal/fatalx exit: use them only at start-up or on allocation failure,
 * never inside a packet, probe or control handler.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

extern const char *const log_level_names[];
const char *log_level_name(enum log_level);
/* "err", "warn", "info" or "debug" -> level; -1 if unknown. */
int	log_level_parse(const char *s);

void	log_init(const char *ident, bool foreground, enum log_level level);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Tests capture messages instead of printing them: the sink receives each
 * formatted line (no newline). NULL restores normal output. */
typedef void (*log_sink_fn)(enum log_level, const char *msg, void *arg);
void	log_set_sink(log_sink_fn fn, void *arg);

void	log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_errx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_vmsg(enum log_level level, bool with_errno, const char *fmt,
	    va_list ap) __attribute__((format(printf, 3, 0)));

#endif
