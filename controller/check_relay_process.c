/*
 * relay-process: is the relay process alive? The fastest failure signal
 * failoverd has: the relay's pid is held as a pidfd (pidfd_open(2)) watched
 * by an ev_io, and the kernel makes it readable the moment the process
 * exits, so a crash is reported at once, as a definite failure, without
 * waiting for the next attempt or for `fall' (DESIGN.md decision 5).
 *
 * Each attempt: with no pidfd, read the pid file, open a pidfd for that
 * pid, check /proc/PID/comm names the configured process (a stale pid
 * file must never make us watch a stranger that reused the pid), then
 * check the pidfd is still not readable: the pidfd pins the process, so
 * the comm read in between was that process's. With a pidfd open, the
 * attempt only confirms it is not readable.
 *
 * Nothing here needs privileges: pidfd_open and /proc/PID/comm work on
 * other users' processes, and exit is seen by poll, not by signals.
 */
#include "controller/check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/pidfile.h"

struct relay_proc {
	struct check	*c;
	ev_io		 io;
	int		 pidfd;
	int		 pid;
};

static const char *const relay_proc_keys[] = { "pidfile", "process", NULL };

static int
relay_proc_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	yaml_node_t *n;
	int rc = 0;

	if ((n = check_parse_need(yc, map, cc, "pidfile")) == NULL ||
	    yconf_strcpy(yc, n, "pidfile", cc->pidfile,
	    sizeof(cc->pidfile)) == -1)
		rc = -1;
	else if (cc->pidfile[0] != '/') {
		yconf_errorf(yc, n, "pidfile: '%s' is not an absolute path",
		    cc->pidfile);
		rc = -1;
	}
	/* The kernel keeps 15 bytes of a process name: longer never
	 * matches. */
	if ((n = yconf_get(yc, map, "process")) != NULL &&
	    yconf_strcpy(yc, n, "process", cc->process,
	    sizeof(cc->process)) == -1)
		rc = -1;
	return rc;
}

static void
relay_proc_close(struct relay_proc *p)
{
	if (p->pidfd == -1)
		return;
	ev_io_stop(p->c->loop, &p->io);
	close(p->pidfd);
	p->pidfd = -1;
}

/* The pidfd turns readable when the process has exited. */
static bool
relay_proc_exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

static void
relay_proc_dead_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_proc *p = w->data;
	int pid = p->pid;

	(void)loop;
	(void)revents;
	relay_proc_close(p);
	check_done(p->c, false, true, "pid %d exited", pid);
}

/* /proc/PID/comm into buf, without the newline; -1 if it cannot be read. */
static int
relay_proc_comm(int pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	if (buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

/* Open and validate a pidfd; on failure the reason is in err. */
static int
relay_proc_open(struct relay_proc *p, char *err, size_t errlen)
{
	const struct check_config *cfg = p->c->cfg;
	char comm[32], text[32];
	int pid, fd;

	if ((pid = pidfile_read(cfg->pidfile, err, errlen)) == -1)
		return -1;
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		if (errno == ESRCH)
			snprintf(err, errlen, "pid %d is not running", pid);
		else
			snprintf(err, errlen, "pidfd_open %d: %s", pid,
			    strerror(errno));
		return -1;
	}
	if (relay_proc_comm(pid, comm, sizeof(comm)) == -1) {
		close(fd);
		snprintf(err, errlen, "pid %d is not running", pid);
		return -1;
	}
	if (relay_proc_exited(fd)) {
		close(fd);
		snprintf(err, errlen, "pid %d is not running", pid);
		return -1;
	}
	if (strcmp(comm, cfg->process) != 0) {
		close(fd);
		check_printable(text, sizeof(text), comm, strlen(comm));
		snprintf(err, errlen, "pid %d is '%s', not '%s' (stale pid "
		    "file?)", pid, text, cfg->process);
		return -1;
	}
	p->pid = pid;
	p->pidfd = fd;
	ev_io_set(&p->io, fd, EV_READ);
	ev_io_start(p->c->loop, &p->io);
	return 0;
}

static int
relay_proc_start(struct check *c)
{
	struct relay_proc *p = check_priv_new(c, sizeof(*p));

	p->c = c;
	p->pidfd = -1;
	ev_init(&p->io, relay_proc_dead_cb);
	p->io.data = p;
	return 0;
}

static void
relay_proc_stop(struct check *c)
{
	struct relay_proc *p = c->priv;

	relay_proc_close(p);
	free(p);
	c->priv = NULL;
}

static void
relay_proc_attempt(struct check *c)
{
	struct relay_proc *p = c->priv;
	char err[CHECK_PATH_MAX + 128];	/* the detail keeps what fits */
	int pid;

	if (p->pidfd != -1) {
		/* Died in this loop iteration, before the watcher's turn. */
		if (relay_proc_exited(p->pidfd)) {
			pid = p->pid;
			relay_proc_close(p);
			check_done(c, false, true, "pid %d exited", pid);
			return;
		}
		check_done(c, true, false, "pid %d", p->pid);
		return;
	}
	if (relay_proc_open(p, err, sizeof(err)) == -1) {
		check_done(c, false, false, "%s", err);
		return;
	}
	check_done(c, true, false, "pid %d", p->pid);
}

/* Attempts finish inside attempt(): nothing is ever in flight. */
static void
relay_proc_cancel(struct check *c)
{
	(void)c;
}

const struct check_kind_ops check_relay_process_ops = {
	.keys = relay_proc_keys,
	.parse = relay_proc_parse,
	.start = relay_proc_start,
	.stop = relay_proc_stop,
	.attempt = relay_proc_attempt,
	.cancel = relay_proc_cancel,
};
