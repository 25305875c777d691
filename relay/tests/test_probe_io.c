/*
 * Loopback test of the probe mirror's socket side (relay/probe.c): echo of
 * exact payloads up to the size limit, ACL and rate drops with no reply,
 * a burst larger than one recvmmsg batch, reconfiguration, FREEBIND and the
 * bind error text. Only 127.0.0.1 carries traffic; every wait polls with a
 * deadline, none sleeps for a fixed time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mono.h"
#include "relay/probe.h"

#define DEADLINE_MS	2000

struct fixture {
	struct ev_loop		*loop;
	struct relay_config	 cfg;
	struct probe		*probe;
	union sockaddr_any	 addr;		/* the mirror */
	int			 client;
};

static void
set_allow(struct relay_config *cfg, const char *prefix)
{
	char err[128];

	assert_int_equal(prefix_parse(prefix, &cfg->probe_allow[0], err,
	    sizeof(err)), 0);
	cfg->nprobe_allow = 1;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	union sockaddr_any any;
	char err[256];

	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	relay_config_defaults(&f->cfg);
	f->cfg.probe_enabled = true;
	assert_int_equal(hostport_parse("127.0.0.1:1", &f->cfg.probe_listen,
	    err, sizeof(err)), 0);
	sa_set_port(&f->cfg.probe_listen, 0);	/* ephemeral */
	set_allow(&f->cfg, "127.0.0.0/8");
	f->cfg.probe_rate = 100000;
	f->probe = probe_open(f->loop, &f->cfg, err, sizeof(err));
	if (f->probe == NULL)
		fail_msg("probe_open: %s", err);
	probe_local_addr(f->probe, &f->addr);
	assert_int_not_equal(sa_port(&f->addr), 0);

	f->client = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->client >= 0);
	assert_int_equal(hostport_parse("127.0.0.1:1", &any, err,
	    sizeof(err)), 0);
	sa_set_port(&any, 0);
	assert_int_equal(bind(f->client, &any.sa, sa_len(&any)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	probe_close(f->probe);
	close(f->client);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void
send_to_probe(struct fixture *f, const void *buf, size_t len)
{
	assert_int_equal(sendto(f->client, buf, len, 0, &f->addr.sa,
	    sa_len(&f->addr)), (ssize_t)len);
}

/* Sum of every counter: it moves once per datagram handled. */
static uint64_t
handled(struct fixture *f)
{
	struct probe_stats st;

	probe_stats(f->probe, &st);
	return st.replied + st.dropped_acl + st.dropped_size +
	    st.dropped_rate + st.send_errors;
}

/* Run the loop until the mirror has handled `want` datagrams in total. */
static void
pump_until_handled(struct fixture *f, uint64_t want)
{
	uint64_t deadline = mono_ms() + DEADLINE_MS;

	while (handled(f) < want) {
		if (mono_ms() > deadline)
			fail_msg("mirror handled %llu datagrams, expected %llu",
			    (unsigned long long)handled(f),
			    (unsigned long long)want);
		ev_run(f->loop, EVRUN_NOWAIT);
		poll(NULL, 0, 1);
	}
}

/* Next datagram for the client, -1 if none arrives before the deadline. */
static ssize_t
recv_reply(struct fixture *f, void *buf, size_t len, int wait_ms,
    union sockaddr_any *from)
{
	uint64_t deadline = mono_ms() + (uint64_t)wait_ms;
	socklen_t fl = sizeof(*from);
	ssize_t n;

	for (;;) {
		ev_run(f->loop, EVRUN_NOWAIT);
		fl = sizeof(*from);
		n = recvfrom(f->client, buf, len, MSG_TRUNC, &from->sa, &fl);
		if (n >= 0)
			return n;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		if (mono_ms() > deadline)
			return -1;
		poll(NULL, 0, 1);
	}
}

static void
test_echo(void **state)
{
	struct fixture *f = *state;
	union sockaddr_any from;
	struct probe_stats st;
	uint8_t out[PROBE_MAX_PAYLOAD], in[2048];
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	send_to_probe(f, "ping", 4);
	assert_int_equal(recv_reply(f, in, sizeof(in), DEADLINE_MS, &from), 4);
	assert_memory_equal(in, "ping", 4);
	assert_true(sa_eq(&from, &f->addr));

	/* The largest echo, and an empty datagram. */
	send_to_probe(f, out, sizeof(out));
	assert_int_equal(recv_reply(f, in, sizeof(in), DEADLINE_MS, &from),
	    PROBE_MAX_PAYLOAD);
	assert_memory_equal(in, out, sizeof(out));
	send_to_probe(f, out, 0);
	assert_int_equal(recv_reply(f, in, sizeof(in), DEADLINE_MS, &from), 0);

	probe_stats(f->probe, &st);
	assert_int_equal(st.replied, 3);
	assert_int_equal(st.dropped_acl + st.dropped_size + st.dropped_rate +
	    st.send_errors + st.recv_errors, 0);
}

static void
test_oversize(void **state)
{
	struct fixture *f = *state;
	union sockaddr_any from;
	struct probe_stats st;
	uint8_t out[1500], in[2048];

	memset(out, 0xab, sizeof(out));
	send_to_probe(f, out, PROBE_MAX_PAYLOAD + 1);
	send_to_probe(f, out, sizeof(out));
	pump_until_handled(f, 2);
	/* Then a good one: the only reply must be its echo. */
	send_to_probe(f, "ok", 2);
	assert_int_equal(recv_reply(f, in, sizeof(in), DEADLINE_MS, &from), 2);
	assert_memory_equal(in, "ok", 2);
	probe_stats(f->probe, &st);
	assert_int_equal(st.dropped_size, 2);
	assert_int_equal(st.replied, 1);
}

static void
test_acl_reconfigure(void **state)
{
	struct fixture *f = *state;
	union sockaddr_any from;
	struct probe_stats st;
	uint8_t in[64];

	/* Loopback is no longer allowed: dropped, never answered. */
	set_allow(&f->cfg, "198.51.100.0/24");
	probe_reconfigure(f->probe, &f->cfg);
	send_to_probe(f, "x", 1);
	pump_until_handled(f, 1);
	probe_stats(f->probe, &st);
	assert_int_equal(st.dropped_acl, 1);
	assert_int_equal(recv_reply(f, in, sizeof(in), 50, &from), -1);

	set_allow(&f->cfg, "127.0.0.1/32");
	probe_reconfigure(f->probe, &f->cfg);
	send_to_probe(f, "y", 1);
	assert_int_equal(recv_reply(f, in, sizeof(in), DEADLINE_MS, &from), 1);
	probe_stats(f->probe, &st);
	assert_int_equal(st.replied, 1);
}

static void
test_rate(void **state)
{
	struct fixture *f = *state;
	union sockaddr_any from;
	struct probe_stats st;
	uint8_t in[64];
	int i, got = 0;

	/* 1/s with a burst of 1: of five back-to-back probes, one passes
	 * (unless this test stalls for a whole second). */
	f->cfg.probe_rate = 1;
	probe_reconfigure(f->probe, &f->cfg);
	for (i = 0; i < 5; i++)
		send_to_probe(f, "r", 1);
	pump_until_handled(f, 5);
	while (recv_reply(f, in, sizeof(in), 50, &from) >= 0)
		got++;
	probe_stats(f->probe, &st);
	assert_int_equal(st.replied, 1);
	assert_int_equal(st.dropped_rate, 4);
	assert_int_equal(got, 1);

	/* Reconfiguring the same rate keeps the (empty) bucket. */
	probe_reconfigure(f->probe, &f->cfg);
	send_to_probe(f, "r", 1);
	pump_until_handled(f, 6);
	probe_stats(f->probe, &st);
	assert_int_equal(st.dropped_rate, 5);
}

static void
test_many(void **state)
{
	struct fixture *f = *state;
	union sockaddr_any from;
	uint8_t in[64];
	int i, seen[200] = { 0 }, got = 0;
	ssize_t n;

	/* More than three batches: every one comes back, once. */
	for (i = 0; i < 200; i++) {
		uint8_t b[2] = { (uint8_t)(i >> 8), (uint8_t)i };

		send_to_probe(f, b, 2);
	}
	while (got < 200 && (n = recv_reply(f, in, sizeof(in), DEADLINE_MS,
	    &from)) >= 0) {
		assert_int_equal(n, 2);
		i = in[0] << 8 | in[1];
		assert_true(i < 200);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		got++;
	}
	assert_int_equal(got, 200);
}

static void
test_bind_error(void **state)
{
	struct fixture *f = *state;
	struct relay_config cfg = f->cfg;
	char err[256], want[256], where[ADDR_STRLEN];

	cfg.probe_listen = f->addr;
	assert_null(probe_open(f->loop, &cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "probe mirror %s: bind: Address already "
	    "in use", sa_fmt(&f->addr, where, sizeof(where)));
	assert_string_equal(err, want);

	cfg.probe_listen.sa.sa_family = AF_UNSPEC;
	assert_null(probe_open(f->loop, &cfg, err, sizeof(err)));
	assert_string_equal(err, "probe mirror: no listen address");
}

static void
test_freebind(void **state)
{
	struct fixture *f = *state;
	struct relay_config cfg = f->cfg;
	struct probe *p;
	char err[256];

	/* Binding an address no interface has yet needs IP_FREEBIND; no
	 * datagram is sent to or from it. */
	assert_int_equal(hostport_parse("198.51.100.254:1", &cfg.probe_listen,
	    err, sizeof(err)), 0);
	sa_set_port(&cfg.probe_listen, 0);
	p = probe_open(f->loop, &cfg, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s", err);
	probe_close(p);
	probe_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acl_reconfigure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_freebind, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
