/*
 * failoverctl: control tool for failoverd (the protocol is in control.h).
 *
 * One request per run: the command words are joined into one line, checked
 * with the daemon's own parser (so a typo is reported without a daemon),
 * sent, and the reply is printed line by line until its last line, whose
 * code decides the exit status. Exit 0: done; 1: the daemon refused or
 * could not do it, or could not be reached; 2: usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/mono.h"
#include "common/parse.h"
#include "controller/control.h"

#define EXIT_USAGE		2
#define TIMEOUT_DEFAULT_US	(10ULL * 1000000)
#define TIMEOUT_MAX_US		(3600ULL * 1000000)
/* A reply line longer than this is not from failoverd. */
#define REPLY_LINE_MAX		(16 * 1024 * 1024)

static void
usage(FILE *f)
{
	fprintf(f,
"usage: failoverctl [-s SOCKET] [-t TIMEOUT] [-j] COMMAND [ARGS]\n"
"       failoverctl --help | --version\n"
"\n"
"Control tool for failoverd, the anycast failover controller.\n"
"\n"
"Commands:\n"
"  status [--json]           services, states, checks and announcements\n"
"                            (a table, or JSON with --json or -j)\n"
"  drain SERVICE|--all [--timeout DURATION]\n"
"                            announce with the graceful-shutdown community\n"
"                            until the relay's traffic has moved, then\n"
"                            withdraw; returns at once, `status' shows the\n"
"                            progress. DURATION: 30 (seconds), 30s, 500ms,\n"
"                            2m; 0 to 24h\n"
"  undrain SERVICE|--all     end an admin drain: announce again once healthy\n"
"  weight SERVICE N|auto     set the link-bandwidth weight, N from 1 to 25600;\n"
"                            auto: back to the configured weight (a number,\n"
"                            or derived from capacity and load)\n"
"  check SERVICE             run the service's health checks now\n"
"  reload                    re-read the configuration file\n"
"\n"
"Options:\n"
"  -s SOCKET    control socket; default " CONTROL_SOCKET ",\n"
"               and " CONTROL_STATUS_SOCKET " (read-only) for status\n"
"  -t TIMEOUT   give up when the daemon stays silent this long (default 10s)\n"
"  -j           JSON output: `-j status' is `status --json'\n"
"  -h, --help   this text\n"
"  -V, --version\n"
"\n"
"Data and success lines go to stdout, errors to stderr as\n"
"\"failoverctl: text\".\n"
"\n"
"Exit status:\n"
"  0  done (reply code below 8000)\n"
"  1  the daemon refused the request or could not do it (8xxx, 9xxx),\n"
"     or it could not be reached or did not answer in time\n"
"  2  usage error (unknown command, bad argument), found before sending\n");
}

static void
errx_usage(const char *msg)
{
	fprintf(stderr, "failoverctl: %s\n", msg);
	fprintf(stderr, "Try 'failoverctl --help' for more information.\n");
	exit(EXIT_USAGE);
}

/* Connect with the timeout as the send timeout, which is what bounds a
 * blocking connect on a Unix socket whose backlog is full. */
static int
ctl_connect(const char *path, uint64_t timeout_us)
{
	struct sockaddr_un sun;
	struct timeval tv;
	const char *why, *hint = "";
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "failoverctl: socket path %s is longer than "
		    "%zu bytes\n", path, sizeof(sun.sun_path) - 1);
		exit(EXIT_USAGE);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "failoverctl: socket: %s\n", strerror(errno));
		return -1;
	}
	tv.tv_sec = (time_t)(timeout_us / 1000000);
	tv.tv_usec = (suseconds_t)(timeout_us % 1000000);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	switch (errno) {
	case ENOENT:
		why = "no such file";
		hint = " (is failoverd running?)";
		break;
	case ECONNREFUSED:
		why = "connection refused";
		hint = " (is failoverd running?)";
		break;
	case EACCES:
		why = "permission denied";
		hint = " (run as root or as a member of the socket's group)";
		break;
	case EAGAIN:
		why = "timed out";
		hint = " (failoverd is not accepting connections)";
		break;
	default:
		why = strerror(errno);
		break;
	}
	fprintf(stderr, "failoverctl: cannot connect to %s: %s%s\n", path, why,
	    hint);
	close(fd);
	return -1;
}

static int
ctl_send(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "failoverctl: sending the request: "
			    "%s\n", errno == EAGAIN ? "timed out" :
			    strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

struct reply {
	bool	data_seen;	/* 1xxx lines printed */
	bool	done;
	int	code;		/* of the last line */
};

/* Print one reply line; -1 if it is not a reply line. */
static int
ctl_line(struct reply *r, char *line)
{
	const char *text;
	bool final;
	int code;

	if (control_reply_parse(line, &code, &final, &text) == -1) {
		fprintf(stderr, "failoverctl: bad reply line from the daemon: "
		    "'%.80s'\n", line);
		return -1;
	}
	if (code >= 8000)
		fprintf(stderr, "failoverctl: %s\n", text);
	else if (code >= 1000 && code < 2000) {
		printf("%s\n", text);
		r->data_seen = true;
	} else if (!final || (!r->data_seen && text[0] != '\0'))
		/* A final success line after data only ends the reply. */
		printf("%s\n", text);
	if (final) {
		r->done = true;
		r->code = code;
	}
	return 0;
}

/* Read and print the reply; returns the exit status. */
static int
ctl_reply(int fd, uint64_t timeout_us)
{
	struct reply r = { false, false, 0 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0, cap = 4096, start;
	char *buf, *nl, *p;
	uint64_t deadline = mono_us() + timeout_us, now;
	ssize_t n;
	int ms;

	if ((buf = malloc(cap)) == NULL) {
		fprintf(stderr, "failoverctl: out of memory\n");
		return 1;
	}
	while (!r.done) {
		now = mono_us();
		if (now >= deadline) {
			char d[32];

			fprintf(stderr, "failoverctl: no reply from failoverd "
			    "within %s\n", duration_fmt(timeout_us, d,
			    sizeof(d)));
			goto fail;
		}
		ms = (int)((deadline - now + 999) / 1000);
		if ((n = poll(&pfd, 1, ms)) == -1 && errno != EINTR) {
			fprintf(stderr, "failoverctl: poll: %s\n",
			    strerror(errno));
			goto fail;
		}
		if (n <= 0)
			continue;
		if (len == cap) {
			if (cap >= REPLY_LINE_MAX) {
				fprintf(stderr, "failoverctl: reply line "
				    "longer than %d bytes\n", REPLY_LINE_MAX);
				goto fail;
			}
			if ((p = realloc(buf, cap * 2)) == NULL) {
				fprintf(stderr, "failoverctl: out of memory\n");
				goto fail;
			}
			buf = p;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "failoverctl: reading the reply: %s\n",
			    strerror(errno));
			goto fail;
		}
		if (n == 0) {
			fprintf(stderr, "failoverctl: failoverd closed the "
			    "connection before the end of the reply\n");
			goto fail;
		}
		/* Silence is what times out, not a long reply. */
		deadline = mono_us() + timeout_us;
		start = 0;
		while (!r.done && (nl = memchr(buf + start, '\n',
		    len + (size_t)n - start)) != NULL) {
			*nl = '\0';
			if (ctl_line(&r, buf + start) == -1)
				goto fail;
			start = (size_t)(nl - buf) + 1;
		}
		len += (size_t)n;
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	free(buf);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "failoverctl: stdout: %s\n", strerror(errno));
		return 1;
	}
	return control_exit_status(r.code);
fail:
	free(buf);
	fflush(stdout);
	return 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct control_cmd cmd;
	const char *path = NULL;
	char line[CONTROL_LINE_MAX + 16], err[256];
	uint64_t timeout_us = TIMEOUT_DEFAULT_US;
	bool json = false, has_json = false;
	size_t len = 0;
	int ch, i, fd, rc;

	/* '+': options end at the command, whose own options pass through. */
	while ((ch = getopt_long(argc, argv, "+hjs:t:V", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("failoverctl %s\n", VERSION);
			return 0;
		case 'j':
			json = true;
			break;
		case 's':
			path = optarg;
			break;
		case 't': {
			char tmp[64];

			/* A bare number is seconds, as for drain. */
			snprintf(tmp, sizeof(tmp), "%s%s", optarg,
			    optarg[0] != '\0' && strspn(optarg, "0123456789") ==
			    strlen(optarg) ? "s" : "");
			if (parse_duration_us(tmp, 1000, TIMEOUT_MAX_US,
			    &timeout_us, err, sizeof(err)) == -1) {
				char m[300];

				snprintf(m, sizeof(m), "-t: %s", err);
				errx_usage(m);
			}
			break;
		}
		default:
			fprintf(stderr, "Try 'failoverctl --help' for more "
			    "information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		errx_usage("no command given");

	for (i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (strcmp(argv[i], "--json") == 0)
			has_json = true;
		if (len + n + 1 >= CONTROL_LINE_MAX) {
			snprintf(err, sizeof(err), "request longer than %d "
			    "bytes", CONTROL_LINE_MAX - 1);
			errx_usage(err);
		}
		if (len > 0)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len] = '\0';
	if (json) {
		if (strcmp(argv[optind], "status") != 0)
			errx_usage("-j applies to status only");
		if (!has_json && len + 7 < CONTROL_LINE_MAX) {
			memcpy(line + len, " --json", 8);
			len += 7;
		}
	}
	if (control_parse(line, &cmd, err, sizeof(err)) != 0)
		errx_usage(err);
	if (path == NULL)
		path = cmd.op == CONTROL_OP_STATUS ? CONTROL_STATUS_SOCKET :
		    CONTROL_SOCKET;

	if ((fd = ctl_connect(path, timeout_us)) == -1)
		return 1;
	line[len++] = '\n';
	if (ctl_send(fd, line, len) == -1) {
		close(fd);
		return 1;
	}
	rc = ctl_reply(fd, timeout_us);
	close(fd);
	return rc;
}
