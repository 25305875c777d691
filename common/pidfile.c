#include "common/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"

/* Linux pid_max can be at most 2^22. */
#define PIDFILE_PID_MAX	4194304

int
pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
	char tmp[4096], line[32];
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "pid file %s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "pid file %s: %s", tmp, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	if (write(fd, line, (size_t)n) != n || close(fd) == -1) {
		snprintf(err, errlen, "pid file %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "pid file %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

pid_t
pidfile_read(const char *path, char *err, size_t errlen)
{
	char buf[32], perr[96];
	uint64_t v;
	ssize_t n, i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == -1) {
		snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	/* "4242\n" as daemons write it; surrounding blanks are tolerated. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "pid file %s is empty", path);
		return -1;
	}
	if (parse_u64(buf, 1, PIDFILE_PID_MAX, &v, perr, sizeof(perr)) == -1) {
		/* The text goes into a log line: nothing unprintable. */
		for (i = 0; i < n; i++)
			if ((unsigned char)buf[i] < 0x20 ||
			    (unsigned char)buf[i] >= 0x7f)
				buf[i] = '?';
		snprintf(err, errlen, "pid file %s: '%s' is not a pid", path,
		    buf);
		return -1;
	}
	return (pid_t)v;
}

void
pidfile_remove(const char *path, pid_t pid)
{
	char err[64];

	if (pidfile_read(path, err, sizeof(err)) == pid)
		unlink(path);
}
