/*
 * PID files, so a supervisor (failoverd's relay-process check, an init
 * script) can find a daemon. Written after daemon() and removed on a clean
 * stop; a crash leaves the file, so readers must check that the PID still
 * names the right program (failoverd compares /proc/PID/comm).
 */
#ifndef COMMON_PIDFILE_H
#define COMMON_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Write "PID\n" to path atomically (temporary file, then rename), so a
 * reader never sees a half-written number. 0, or -1 with err set. */
int	pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);
/* Remove path if it still holds pid (a newer instance may own it now). */
void	pidfile_remove(const char *path, pid_t pid);
/* Read the PID in path: > 0, or -1 with err naming the problem. */
pid_t	pidfile_read(const char *path, char *err, size_t errlen);

#endif
