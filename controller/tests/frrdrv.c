/*
 * frrdrv: the FRR driver (controller/frr.c) on its own, driven line by line
 * from stdin, for the tests against a real bgpd (controller/tests/topo/).
 *
 *   frrdrv -a ASN [-s vty_path] [-N pathspace] [-V vtysh] [-t timeout]
 *          [-r reconnect_max] [-v] VIP...
 *
 * stdin, one command a line:
 *   set VIP withdrawn|normal|gshut WEIGHT   -> "set ok" | "set error"
 *   status     -> "status connected=0|1 synced=0|1 conn=STATE commands=N
 *                  errors=N connects=N disconnects=N fallback=N"
 *   lat        -> "lat count=N sum_us=N le_250=N ... le_inf=N"
 *   error      -> "error TEXT" (frr_last_error)
 *   withdraw-all MS -> "withdraw-all rc=0|-1"
 *   quit (or EOF)
 * stdout also gets "event connected=0|1 synced=0|1" on every change.
 * Logs (debug with -v) go to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/parse.h"
#include "controller/frr.h"

struct drv {
	struct frr	*frr;
	struct ev_loop	*loop;
	ev_io		 in_w;
	char		 line[1024];
	size_t		 len;
};

static void
drv_event(struct frr *f, void *arg)
{
	(void)arg;
	printf("event connected=%d synced=%d\n", frr_connected(f),
	    frr_synced(f));
}

static void
drv_status(struct frr *f)
{
	const struct frr_stats *st = frr_stats(f);

	printf("status connected=%d synced=%d conn=%s commands=%llu "
	    "errors=%llu connects=%llu disconnects=%llu fallback=%llu\n",
	    frr_connected(f), frr_synced(f), frr_conn_state(f),
	    (unsigned long long)st->commands, (unsigned long long)st->errors,
	    (unsigned long long)st->connects,
	    (unsigned long long)st->disconnects,
	    (unsigned long long)st->fallback_runs);
}

static void
drv_lat(struct frr *f)
{
	const struct frr_stats *st = frr_stats(f);
	int i;

	printf("lat count=%llu sum_us=%llu", (unsigned long long)st->lat_count,
	    (unsigned long long)st->lat_sum_us);
	for (i = 0; i < FRR_LAT_BUCKETS; i++) {
		if (frr_lat_bounds_us[i] == UINT64_MAX)
			printf(" le_inf=%llu",
			    (unsigned long long)st->lat_bucket[i]);
		else
			printf(" le_%llu=%llu",
			    (unsigned long long)frr_lat_bounds_us[i],
			    (unsigned long long)st->lat_bucket[i]);
	}
	printf("\n");
}

static void
drv_cmd(struct drv *d, char *line)
{
	char *argv[8], *save = NULL, err[128];
	struct prefix p;
	enum frr_ann ann;
	uint64_t v;
	int argc = 0;

	for (char *t = strtok_r(line, " \t", &save); t != NULL && argc < 8;
	    t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	if (argc == 0)
		return;
	if (strcmp(argv[0], "set") == 0 && argc == 4) {
		if (strcmp(argv[2], "withdrawn") == 0)
			ann = FRR_WITHDRAWN;
		else if (strcmp(argv[2], "normal") == 0)
			ann = FRR_NORMAL;
		else if (strcmp(argv[2], "gshut") == 0)
			ann = FRR_GSHUT;
		else {
			printf("set error\n");
			return;
		}
		if (prefix_parse(argv[1], &p, err, sizeof(err)) == -1 ||
		    parse_u64(argv[3], 0, UINT32_MAX, &v, err,
		    sizeof(err)) == -1 ||
		    frr_set(d->frr, &p, ann, (uint32_t)v) == -1) {
			printf("set error\n");
			return;
		}
		printf("set ok\n");
	} else if (strcmp(argv[0], "status") == 0)
		drv_status(d->frr);
	else if (strcmp(argv[0], "lat") == 0)
		drv_lat(d->frr);
	else if (strcmp(argv[0], "error") == 0)
		printf("error %s\n", frr_last_error(d->frr));
	else if (strcmp(argv[0], "withdraw-all") == 0 && argc == 2 &&
	    parse_u64(argv[1], 0, 60000, &v, err, sizeof(err)) == 0)
		printf("withdraw-all rc=%d\n",
		    frr_withdraw_all_sync(d->frr, v * 1000));
	else if (strcmp(argv[0], "quit") == 0)
		ev_break(d->loop, EVBREAK_ALL);
	else
		printf("unknown command\n");
}

static void
drv_in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct drv *d = w->data;
	ssize_t n;
	char *nl;

	(void)revents;
	n = read(STDIN_FILENO, d->line + d->len, sizeof(d->line) - 1 - d->len);
	if (n == -1 && errno == EINTR)
		return;
	if (n <= 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	d->len += (size_t)n;
	d->line[d->len] = '\0';
	while ((nl = strchr(d->line, '\n')) != NULL) {
		*nl = '\0';
		drv_cmd(d, d->line);
		d->len -= (size_t)(nl + 1 - d->line);
		memmove(d->line, nl + 1, d->len + 1);
	}
	if (d->len == sizeof(d->line) - 1)
		d->len = 0;	/* a line too long: drop it */
}

static void
drv_usage(void)
{
	fprintf(stderr, "usage: frrdrv -a ASN [-s vty_path] [-N pathspace] "
	    "[-V vtysh] [-t timeout] [-r reconnect_max] [-v] VIP...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct frr_config cfg;
	struct drv d;
	struct prefix p;
	char err[128];
	bool verbose = false;
	int ch, i;

	memset(&cfg, 0, sizeof(cfg));
	memset(&d, 0, sizeof(d));
	while ((ch = getopt(argc, argv, "a:s:N:V:t:r:v")) != -1) {
		switch (ch) {
		case 'a':
			if (parse_u64(optarg, 1, UINT32_MAX, &cfg.asn, err,
			    sizeof(err)) == -1)
				fatalx("-a: %s", err);
			break;
		case 's':
			snprintf(cfg.vty_path, sizeof(cfg.vty_path), "%s",
			    optarg);
			break;
		case 'N':
			snprintf(cfg.pathspace, sizeof(cfg.pathspace), "%s",
			    optarg);
			break;
		case 'V':
			snprintf(cfg.vtysh, sizeof(cfg.vtysh), "%s", optarg);
			break;
		case 't':
			if (parse_duration_us(optarg, 1000, 60000000,
			    &cfg.cmd_timeout_us, err, sizeof(err)) == -1)
				fatalx("-t: %s", err);
			break;
		case 'r':
			if (parse_duration_us(optarg, 1000, 60000000,
			    &cfg.reconnect_max_us, err, sizeof(err)) == -1)
				fatalx("-r: %s", err);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			drv_usage();
		}
	}
	if (cfg.asn == 0 || optind == argc)
		drv_usage();
	log_init("frrdrv", true, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	setvbuf(stdout, NULL, _IOLBF, 0);

	d.loop = ev_default_loop(EVFLAG_AUTO);
	if ((d.frr = frr_new(d.loop, &cfg, drv_event, &d)) == NULL)
		fatalx("bad FRR configuration");
	for (i = optind; i < argc; i++) {
		if (prefix_parse(argv[i], &p, err, sizeof(err)) == -1)
			fatalx("%s", err);
		if (frr_add_vip(d.frr, &p) == -1)
			fatalx("cannot add VIP %s", argv[i]);
	}
	ev_io_init(&d.in_w, drv_in_cb, STDIN_FILENO, EV_READ);
	d.in_w.data = &d;
	ev_io_start(d.loop, &d.in_w);
	frr_start(d.frr);
	ev_run(d.loop, 0);
	frr_free(d.frr);
	return 0;
}
