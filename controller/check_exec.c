/*
 * exec: run a program (argv[0] absolute, no shell, no PATH lookup); exit
 * status 0 is ok. For what the built-in kinds cannot see: a disk, a
 * license, a dependency.
 *
 * posix_spawn (a vfork-like clone: cheap, and exec errors come back
 * as its return value) with stdin on /dev/null, stdout and stderr on one
 * pipe, every other descriptor closed, the signal mask and dispositions
 * reset and the child in its own process group. The pipe is read
 * non-blocking by an ev_io; the first CHECK_EXEC_OUTPUT_MAX bytes are kept
 * and the rest is read and dropped, so a chatty program never blocks on a
 * full pipe. The verdict comes from an ev_child watcher (libev watches
 * children only on the default loop, which failoverd uses). The output
 * goes to the log, one line per output line prefixed with the check name:
 * at info level for a failure, debug for a success.
 *
 * On timeout the child is killed (SIGKILL, through a pidfd so a reused pid
 * can never be hit) together with its process group, so a shell script's
 * own children die with it. The killed run stays on an orphan list until
 * its ev_child watcher has reaped it: no zombies. Stopping the check kills
 * and reaps the orphans synchronously (SIGKILL cannot be ignored, so that
 * wait is short).
 */
#include "controller/check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

#define EXEC_DRAIN_READS	64	/* up to 256 KiB per wakeup */

struct exec_run {
	struct exec_check	*x;
	struct check		*c;	/* NULL once cancelled: an orphan */
	struct exec_run		*next;	/* on the orphan list */
	pid_t			 pid;
	int			 pidfd;	/* -1 if the kernel has none */
	int			 out;	/* pipe from stdout+stderr, or -1 */
	ev_child		 child;
	ev_io			 io;
	size_t			 len;
	unsigned long long	 dropped;
	char			 buf[CHECK_EXEC_OUTPUT_MAX];
};

struct exec_check {
	struct check		*c;
	struct exec_run		*run;	/* in flight */
	struct exec_run		*orphans;
};

static const char *const exec_keys[] = { "command", NULL };

static int
exec_parse(struct yconf *yc, yaml_node_t *map, struct check_config *cc)
{
	yaml_node_t *n, *items[CHECK_ARGV_MAX];
	const char *s;
	size_t used = 0, len;
	int i, count, rc = 0;

	if ((n = check_parse_need(yc, map, cc, "command")) == NULL)
		return -1;
	if ((count = yconf_list(yc, n, "command", items,
	    CHECK_ARGV_MAX)) == -1)
		return -1;
	if (count == 0) {
		yconf_errorf(yc, n, "command: empty list");
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (yconf_str(yc, items[i], "command", &s) == -1) {
			rc = -1;
			continue;
		}
		if (i == 0 && s[0] != '/') {
			yconf_errorf(yc, items[i], "command: '%s' is not an "
			    "absolute path (no shell, no PATH search)", s);
			rc = -1;
			continue;
		}
		len = strlen(s) + 1;
		if (used + len > sizeof(cc->argv_buf)) {
			yconf_errorf(yc, items[i], "command: longer than %zu "
			    "bytes in all", sizeof(cc->argv_buf) - 1);
			return -1;
		}
		memcpy(cc->argv_buf + used, s, len);
		cc->argv[cc->argc++] = cc->argv_buf + used;
		used += len;
	}
	cc->argv[cc->argc] = NULL;
	return rc;
}

/* Log what the program printed: one line per line, never raw bytes. */
static void
exec_log_output(const struct exec_run *r, const char *name, bool failed)
{
	void (*say)(const char *, ...) = failed ? log_info : log_debug;
	char line[CHECK_EXEC_OUTPUT_MAX + 1];
	const char *nl;
	size_t i, end;

	for (i = 0; i < r->len; i = end + 1) {
		nl = memchr(r->buf + i, '\n', r->len - i);
		end = nl != NULL ? (size_t)(nl - r->buf) : r->len;
		if (end == i)
			continue;
		check_printable(line, sizeof(line), r->buf + i, end - i);
		say("check %s: %s", name, line);
	}
	if (r->dropped > 0)
		say("check %s: (%llu more bytes of output not kept)", name,
		    r->dropped);
}

/*
 * Read what the pipe holds now; close it at EOF or error. Bounded per
 * call: a program (or a child it left behind) that writes without end
 * must not hold the loop; the watcher brings us back.
 */
static void
exec_drain(struct exec_run *r, struct ev_loop *loop)
{
	char sink[4096];
	ssize_t n;
	int reads;

	for (reads = 0; r->out != -1 && reads < EXEC_DRAIN_READS; reads++) {
		if (r->len < sizeof(r->buf))
			n = read(r->out, r->buf + r->len,
			    sizeof(r->buf) - r->len);
		else
			n = read(r->out, sink, sizeof(sink));
		if (n > 0) {
			if (r->len < sizeof(r->buf))
				r->len += (size_t)n;
			else
				r->dropped += (unsigned long long)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		ev_io_stop(loop, &r->io);
		close(r->out);
		r->out = -1;
	}
}

static void
exec_close_out(struct exec_run *r, struct ev_loop *loop)
{
	if (r->out == -1)
		return;
	ev_io_stop(loop, &r->io);
	close(r->out);
	r->out = -1;
}

static void
exec_run_free(struct exec_run *r, struct ev_loop *loop)
{
	exec_close_out(r, loop);
	ev_child_stop(loop, &r->child);
	if (r->pidfd != -1)
		close(r->pidfd);
	free(r);
}

static void
exec_out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	exec_drain(w->data, loop);
}

static void
exec_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status 0x%x", (unsigned int)status);
}

static void
exec_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct exec_run *r = w->data, **pp;
	struct exec_check *x = r->x;
	struct check *c = r->c;
	char detail[64];
	int status = w->rstatus;
	bool ok;

	(void)revents;
	ev_child_stop(loop, w);
	if (c == NULL) {
		/* A cancelled run, now reaped. */
		for (pp = &x->orphans; *pp != NULL; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		exec_run_free(r, loop);
		return;
	}
	/* Whatever it wrote before exiting is in the pipe already. */
	exec_drain(r, loop);
	x->run = NULL;
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	exec_status(status, detail, sizeof(detail));
	exec_log_output(r, c->cfg->name, !ok);
	exec_run_free(r, loop);
	check_done(c, ok, false, "%s", detail);
}

static void	exec_cancel(struct check *);

static int
exec_start(struct check *c)
{
	struct exec_check *x;

	if (!ev_is_default_loop(c->loop)) {
		snprintf(c->start_err, sizeof(c->start_err),
		    "exec checks need the default loop");
		log_warnx("check %s: %s", c->cfg->name, c->start_err);
		return -1;
	}
	x = check_priv_new(c, sizeof(*x));
	x->c = c;
	return 0;
}

/*
 * SIGKILL the child and its process group. The pidfd refers to exactly
 * our child: if it can still be signalled, the child is not reaped, so
 * its pid (which is also its process group id) cannot have been reused
 * and the group kill reaches only what it started.
 */
static void
exec_kill(struct exec_run *r)
{
	if (r->pidfd != -1) {
		if (syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL,
		    0) == -1)
			return;
	} else if (kill(r->pid, SIGKILL) == -1)
		return;
	kill(-r->pid, SIGKILL);
}

/* At stop only: wait for a killed child so nothing is left behind. */
static void
exec_reap_now(struct exec_run *r)
{
	siginfo_t si;
	int rc;

	do {
		if (r->pidfd != -1)
			rc = waitid(P_PIDFD, (id_t)r->pidfd, &si, WEXITED);
		else
			rc = waitid(P_PID, (id_t)r->pid, &si, WEXITED);
	} while (rc == -1 && errno == EINTR);
	/* ECHILD: libev reaped it already; its event dies with the watcher. */
}

static void
exec_stop(struct check *c)
{
	struct exec_check *x = c->priv;
	struct exec_run *r;

	if (x->run != NULL)
		exec_cancel(c);
	while ((r = x->orphans) != NULL) {
		x->orphans = r->next;
		exec_kill(r);
		exec_reap_now(r);
		exec_run_free(r, c->loop);
	}
	free(x);
	c->priv = NULL;
}

static void
exec_attempt(struct check *c)
{
	struct exec_check *x = c->priv;
	const struct check_config *cfg = c->cfg;
	char *argv[CHECK_ARGV_MAX + 1], *argbuf;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct exec_run *r;
	sigset_t none, all;
	size_t off = 0;
	int pfd[2], i, rc;
	pid_t pid;

	/* From argv_buf, not cfg->argv: a copied config stays usable. */
	argbuf = (char *)(uintptr_t)cfg->argv_buf;
	for (i = 0; i < cfg->argc && i < CHECK_ARGV_MAX; i++) {
		argv[i] = argbuf + off;
		off += strlen(argv[i]) + 1;
	}
	argv[i] = NULL;
	if (i == 0) {
		check_done(c, false, false, "no command");
		return;
	}
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		check_done(c, false, false, "pipe: %s", strerror(errno));
		return;
	}
	/* Only our end: the program gets an ordinary blocking pipe. */
	if (fcntl(pfd[0], F_SETFL, O_NONBLOCK) == -1) {
		rc = errno;
		close(pfd[0]);
		close(pfd[1]);
		check_done(c, false, false, "pipe: %s", strerror(rc));
		return;
	}
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		check_done(c, false, false, "cannot run %s: %s", argv[0],
		    strerror(rc));
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("check %s", cfg->name);
	r->x = x;
	r->c = c;
	r->pid = pid;
	r->out = pfd[0];
	/* Before the loop runs again nobody can reap it: the pid is ours. */
	r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ev_child_init(&r->child, exec_child_cb, pid, 0);
	r->child.data = r;
	ev_child_start(c->loop, &r->child);
	ev_io_init(&r->io, exec_out_cb, r->out, EV_READ);
	r->io.data = r;
	ev_io_start(c->loop, &r->io);
	x->run = r;
}

static void
exec_cancel(struct check *c)
{
	struct exec_check *x = c->priv;
	struct exec_run *r = x->run;

	if (r == NULL)
		return;
	x->run = NULL;
	exec_kill(r);
	exec_drain(r, c->loop);
	exec_log_output(r, c->cfg->name, true);
	exec_close_out(r, c->loop);
	r->c = NULL;
	r->next = x->orphans;
	x->orphans = r;
}

const struct check_kind_ops check_exec_ops = {
	.keys = exec_keys,
	.parse = exec_parse,
	.start = exec_start,
	.stop = exec_stop,
	.attempt = exec_attempt,
	.cancel = exec_cancel,
};
