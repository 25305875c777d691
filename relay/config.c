/*
 * rtprelay configuration: the schema of relay.yaml on top of common/yconf.
 * Each reader records its problems in the yconf with their position and
 * parsing goes on, so one run of `rtprelay -n` lists every error of a file.
 * Checks that involve two keys run last, and only when both keys parsed
 * cleanly, so one typo does not cascade into several messages.
 */
#include "relay/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "relay/latch.h"

#define RELAY_DEFAULT_MEDIA_TIMEOUT_US	(60 * 1000000ULL)
#define RELAY_DEFAULT_MAX_CALLS		20000
#define RELAY_DEFAULT_PROBE_RATE	200
#define RELAY_MIN_PORTS			4
#define RELAY_DEFAULT_PORT_BLOCK	64
#define RELAY_DEFAULT_LEASE_US		(30 * 1000000ULL)
#define RELAY_DEFAULT_REDIS_TIMEOUT_US	1000000ULL

static const char *const relay_keys[] = {
	"service-address", "control", "ports", "media-timeout", "max-calls",
	"latch-seq-window", "probe", "metrics", "log-level", "redis", NULL
};
static const char *const relay_redis_keys[] = {
	"server", "node", "key-prefix", "port-block", "lease", "timeout", NULL
};
static const char *const relay_probe_keys[] = {
	"listen", "allow", "rate", NULL
};
static const char *const relay_metrics_keys[] = { "listen", NULL };

/* Which keys parsed cleanly, for the cross-checks at the end. */
struct config_ok {
	bool	vips;
	bool	control;
	bool	ports;
	bool	probe_listen;
	bool	port_block;
};

void
relay_config_defaults(struct relay_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->media_timeout_us = RELAY_DEFAULT_MEDIA_TIMEOUT_US;
	cfg->max_calls = RELAY_DEFAULT_MAX_CALLS;
	cfg->latch_seq_window = LATCH_SEQ_WINDOW;
	cfg->probe_rate = RELAY_DEFAULT_PROBE_RATE;
	cfg->log_level = LOG_LEVEL_INFO;
	snprintf(cfg->redis_prefix, sizeof(cfg->redis_prefix), "raf");
	cfg->redis_port_block = RELAY_DEFAULT_PORT_BLOCK;
	cfg->redis_lease_us = RELAY_DEFAULT_LEASE_US;
	cfg->redis_timeout_us = RELAY_DEFAULT_REDIS_TIMEOUT_US;
}

const struct addr *
relay_config_vip(const struct relay_config *cfg, int af)
{
	int i;

	for (i = 0; i < cfg->nvip; i++)
		if (cfg->vip[i].af == af)
			return &cfg->vip[i];
	return NULL;
}

/*
 * A service address is advertised in SDP and announced as a /32 or /128:
 * wildcard, multicast, broadcast and v4-mapped forms can never work.
 */
static const char *
config_vip_problem(const struct addr *a)
{
	if (a->af == AF_INET) {
		uint32_t v = ntohl(a->v4.s_addr);

		if (v == 0)
			return "is the wildcard address";
		if ((v >> 28) == 0xe)
			return "is a multicast address";
		if (v == 0xffffffff)
			return "is the broadcast address";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&a->v6))
		return "is the wildcard address";
	if (IN6_IS_ADDR_MULTICAST(&a->v6))
		return "is a multicast address";
	if (IN6_IS_ADDR_V4MAPPED(&a->v6))
		return "is IPv4-mapped (write the IPv4 address itself)";
	return NULL;
}

static bool
config_vips(struct relay_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	yaml_node_t *items[RELAY_MAX_VIPS];
	const char *problem;
	char buf[ADDR_STRLEN];
	struct addr a;
	bool ok = true;
	int i, count;

	count = yconf_list(yc, n, "service-address", items, RELAY_MAX_VIPS);
	if (count == -1)
		return false;
	if (count == 0) {
		yconf_errorf(yc, n, "service-address: empty list");
		return false;
	}
	for (i = 0; i < count; i++) {
		if (yconf_addr(yc, items[i], "service-address", &a) == -1) {
			ok = false;
			continue;
		}
		addr_fmt(&a, buf, sizeof(buf));
		if ((problem = config_vip_problem(&a)) != NULL) {
			yconf_errorf(yc, items[i], "service-address: %s %s",
			    buf, problem);
			ok = false;
			continue;
		}
		if (relay_config_vip(cfg, a.af) != NULL) {
			yconf_errorf(yc, items[i], "service-address: second "
			    "%s address %s (at most one IPv4 and one IPv6)",
			    a.af == AF_INET ? "IPv4" : "IPv6", buf);
			ok = false;
			continue;
		}
		cfg->vip[cfg->nvip++] = a;
	}
	return ok;
}

static bool
config_control(struct relay_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	yaml_node_t *items[RELAY_MAX_CONTROL];
	union sockaddr_any sa;
	char buf[ADDR_STRLEN];
	bool ok = true;
	int i, j, count;

	count = yconf_list(yc, n, "control", items, RELAY_MAX_CONTROL);
	if (count == -1)
		return false;
	if (count == 0) {
		yconf_errorf(yc, n, "control: empty list");
		return false;
	}
	for (i = 0; i < count; i++) {
		if (yconf_hostport(yc, items[i], "control", &sa) == -1) {
			ok = false;
			continue;
		}
		for (j = 0; j < cfg->ncontrol; j++)
			if (sa_eq(&cfg->control[j], &sa))
				break;
		if (j < cfg->ncontrol) {
			yconf_errorf(yc, items[i], "control: %s listed twice",
			    sa_fmt(&sa, buf, sizeof(buf)));
			ok = false;
			continue;
		}
		cfg->control[cfg->ncontrol++] = sa;
	}
	return ok;
}

static bool
config_ports(struct relay_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	uint64_t lo, hi;

	if (yconf_range(yc, n, "ports", 1024, 65535, &lo, &hi) == -1)
		return false;
	/* RTP takes the even port of each pair and RTCP the odd one above. */
	if (lo % 2 != 0) {
		yconf_errorf(yc, n, "ports: low end %llu is odd (RTP uses "
		    "the even port of each pair)", (unsigned long long)lo);
		return false;
	}
	if (hi - lo + 1 < RELAY_MIN_PORTS) {
		yconf_errorf(yc, n, "ports: %llu-%llu has %llu ports, at "
		    "least %d needed", (unsigned long long)lo,
		    (unsigned long long)hi, (unsigned long long)(hi - lo + 1),
		    RELAY_MIN_PORTS);
		return false;
	}
	cfg->port_min = (uint16_t)lo;
	cfg->port_max = (uint16_t)hi;
	return true;
}

static void
config_probe(struct relay_config *cfg, struct yconf *yc, yaml_node_t *map,
    struct config_ok *ok)
{
	yaml_node_t *n, *items[RELAY_MAX_PROBE_ALLOW];
	uint64_t v;
	int i, count;

	if (yconf_map(yc, map, "probe") == -1)
		return;
	cfg->probe_enabled = true;
	yconf_check_keys(yc, map, relay_probe_keys);

	if ((n = yconf_get(yc, map, "listen")) == NULL)
		yconf_errorf(yc, map, "probe: missing required key 'listen'");
	else if (yconf_hostport(yc, n, "probe.listen",
	    &cfg->probe_listen) == 0)
		ok->probe_listen = true;

	/* No default: an open mirror would answer the whole Internet. */
	if ((n = yconf_get(yc, map, "allow")) == NULL)
		yconf_errorf(yc, map, "probe: missing required key 'allow'");
	else if ((count = yconf_list(yc, n, "probe.allow", items,
	    RELAY_MAX_PROBE_ALLOW)) == 0)
		yconf_errorf(yc, n, "probe.allow: empty list");
	else
		for (i = 0; i < count; i++)
			if (yconf_prefix(yc, items[i], "probe.allow",
			    &cfg->probe_allow[cfg->nprobe_allow]) == 0)
				cfg->nprobe_allow++;

	if ((n = yconf_get(yc, map, "rate")) != NULL &&
	    yconf_u64(yc, n, "probe.rate", 1, 100000, &v) == 0)
		cfg->probe_rate = (uint32_t)v;
}

static void
config_metrics(struct relay_config *cfg, struct yconf *yc, yaml_node_t *map)
{
	yaml_node_t *n;

	if (yconf_map(yc, map, "metrics") == -1)
		return;
	cfg->metrics_enabled = true;
	yconf_check_keys(yc, map, relay_metrics_keys);
	if ((n = yconf_get(yc, map, "listen")) == NULL)
		yconf_errorf(yc, map, "metrics: missing required key 'listen'");
	else
		yconf_hostport(yc, n, "metrics.listen", &cfg->metrics_listen);
}

/* Names end up in Redis keys and values and in logs: keep them plain. */
static int
config_name(struct yconf *yc, yaml_node_t *n, const char *what, char *buf,
    size_t len, const char *extra)
{
	const char *p;

	if (yconf_strcpy(yc, n, what, buf, len) == -1)
		return -1;
	if (buf[0] == '\0') {
		yconf_errorf(yc, n, "%s: empty", what);
		return -1;
	}
	for (p = buf; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || strchr(extra, *p) != NULL)) {
			yconf_errorf(yc, n, "%s: '%s' has the character '%c'; "
			    "use letters, digits, '-', '_', '.'%s", what, buf,
			    *p, extra[0] != '\0' ? " and ':'" : "");
			buf[0] = '\0';
			return -1;
		}
	return 0;
}

static void
config_redis(struct relay_config *cfg, struct yconf *yc, yaml_node_t *map,
    struct config_ok *ok)
{
	yaml_node_t *n;
	uint64_t v;

	if (yconf_map(yc, map, "redis") == -1)
		return;
	cfg->redis_enabled = true;
	yconf_check_keys(yc, map, relay_redis_keys);
	if ((n = yconf_get(yc, map, "server")) == NULL)
		yconf_errorf(yc, map, "redis: missing required key 'server'");
	else
		yconf_hostport(yc, n, "redis.server", &cfg->redis_server);
	if ((n = yconf_get(yc, map, "node")) != NULL)
		config_name(yc, n, "redis.node", cfg->redis_node,
		    sizeof(cfg->redis_node), "");
	if ((n = yconf_get(yc, map, "key-prefix")) != NULL)
		config_name(yc, n, "redis.key-prefix", cfg->redis_prefix,
		    sizeof(cfg->redis_prefix), ":");
	if ((n = yconf_get(yc, map, "port-block")) != NULL) {
		if (yconf_u64(yc, n, "redis.port-block", 1, 4096, &v) == 0)
			cfg->redis_port_block = (uint32_t)v;
		else
			ok->port_block = false;
	}
	if ((n = yconf_get(yc, map, "lease")) != NULL)
		yconf_duration_us(yc, n, "redis.lease", 3000000,
		    3600 * 1000000ULL, &cfg->redis_lease_us);
	if ((n = yconf_get(yc, map, "timeout")) != NULL)
		yconf_duration_us(yc, n, "redis.timeout", 10000, 60000000,
		    &cfg->redis_timeout_us);
}

static void
config_log_level(struct relay_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	const char *choices[LOG_LEVEL_DEBUG + 2];
	int i;

	for (i = LOG_LEVEL_ERR; i <= LOG_LEVEL_DEBUG; i++)
		choices[i] = log_level_names[i];
	choices[i] = NULL;
	if ((i = yconf_enum(yc, n, "log-level", choices)) != -1)
		cfg->log_level = (enum log_level)i;
}

/* sa would receive what is sent to addr a, port p (same port, and the same
 * address or a wildcard of a's family). */
static bool
config_sa_covers(const union sockaddr_any *sa, const struct addr *a,
    uint16_t p)
{
	struct addr sa_addr;

	if (sa_port(sa) != p)
		return false;
	sa_to_addr(sa, &sa_addr);
	if (sa_addr.af != a->af)
		return false;
	if (addr_eq(&sa_addr, a))
		return true;
	if (sa_addr.af == AF_INET)
		return sa_addr.v4.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sa_addr.v6);
}

static bool
config_in_media_range(const struct relay_config *cfg, uint16_t p)
{
	return p >= cfg->port_min && p <= cfg->port_max;
}

/*
 * Checks across keys. The nodes are looked up again only to give the
 * message a position; each check runs only if its keys parsed cleanly.
 */
static void
config_cross_checks(struct relay_config *cfg, struct yconf *yc,
    yaml_node_t *root, const struct config_ok *ok)
{
	yaml_node_t *items[RELAY_MAX_CONTROL], *probe, *listen, *redis;
	char buf[ADDR_STRLEN];
	struct addr a;
	uint16_t p;
	int i, j;

	if (ok->vips && ok->control && ok->ports &&
	    yconf_list(yc, yconf_get(yc, root, "control"), "control", items,
	    RELAY_MAX_CONTROL) == cfg->ncontrol) {
		for (i = 0; i < cfg->ncontrol; i++) {
			p = sa_port(&cfg->control[i]);
			if (!config_in_media_range(cfg, p))
				continue;
			for (j = 0; j < cfg->nvip; j++)
				if (config_sa_covers(&cfg->control[i],
				    &cfg->vip[j], p))
					break;
			if (j < cfg->nvip)
				yconf_errorf(yc, items[i], "control: port %u "
				    "is inside the media port range %u-%u",
				    p, cfg->port_min, cfg->port_max);
		}
	}

	/* Every relay allocates from blocks of the shared range. */
	if (cfg->redis_enabled && ok->ports && ok->port_block &&
	    ((uint32_t)cfg->port_max - cfg->port_min + 1) / 2 <
	    cfg->redis_port_block) {
		redis = yconf_get(yc, root, "redis");
		if ((listen = yconf_get(yc, redis, "port-block")) == NULL)
			listen = redis;
		yconf_errorf(yc, listen, "redis.port-block: %u pairs, but "
		    "ports %u-%u hold only %u pairs", cfg->redis_port_block,
		    cfg->port_min, cfg->port_max,
		    ((uint32_t)cfg->port_max - cfg->port_min + 1) / 2);
	}

	if (!ok->probe_listen)
		return;
	probe = yconf_get(yc, root, "probe");
	listen = yconf_get(yc, probe, "listen");
	sa_to_addr(&cfg->probe_listen, &a);
	p = sa_port(&cfg->probe_listen);
	/* Probes are only worth something if they take the VIP's path. */
	if (ok->vips) {
		for (i = 0; i < cfg->nvip; i++)
			if (addr_eq(&cfg->vip[i], &a))
				break;
		if (i == cfg->nvip) {
			yconf_errorf(yc, listen, "probe.listen: %s is not a "
			    "service address (the mirror must answer on the "
			    "VIP)", addr_fmt(&a, buf, sizeof(buf)));
			return;
		}
	}
	if (ok->ports && config_in_media_range(cfg, p))
		yconf_errorf(yc, listen, "probe.listen: port %u is inside the "
		    "media port range %u-%u", p, cfg->port_min,
		    cfg->port_max);
	if (ok->control)
		for (i = 0; i < cfg->ncontrol; i++)
			if (config_sa_covers(&cfg->control[i], &a, p)) {
				yconf_errorf(yc, listen, "probe.listen: %s is "
				    "also a control address",
				    sa_fmt(&cfg->probe_listen, buf,
				    sizeof(buf)));
				break;
			}
}

int
relay_config_parse(struct relay_config *cfg, struct yconf *yc)
{
	static const char *const required[] = {
		"service-address", "control", "ports", NULL
	};
	struct config_ok ok = { false, false, false, false, true };
	int before = yconf_nerrors(yc), i;
	yaml_node_t *root, *n;
	uint64_t v;

	relay_config_defaults(cfg);
	if ((root = yconf_root(yc)) == NULL ||
	    yconf_map(yc, root, "configuration") == -1)
		return -1;
	yconf_check_keys(yc, root, relay_keys);
	for (i = 0; required[i] != NULL; i++)
		if (yconf_get(yc, root, required[i]) == NULL)
			yconf_errorf(yc, root, "missing required key '%s'",
			    required[i]);

	if ((n = yconf_get(yc, root, "service-address")) != NULL)
		ok.vips = config_vips(cfg, yc, n);
	if ((n = yconf_get(yc, root, "control")) != NULL)
		ok.control = config_control(cfg, yc, n);
	if ((n = yconf_get(yc, root, "ports")) != NULL)
		ok.ports = config_ports(cfg, yc, n);
	if ((n = yconf_get(yc, root, "media-timeout")) != NULL)
		yconf_duration_us(yc, n, "media-timeout", 1000000,
		    3600 * 1000000ULL, &cfg->media_timeout_us);
	if ((n = yconf_get(yc, root, "max-calls")) != NULL &&
	    yconf_u64(yc, n, "max-calls", 1, 100000, &v) == 0)
		cfg->max_calls = (uint32_t)v;
	if ((n = yconf_get(yc, root, "latch-seq-window")) != NULL &&
	    yconf_u64(yc, n, "latch-seq-window", 0, 1000, &v) == 0)
		cfg->latch_seq_window = (uint16_t)v;
	if ((n = yconf_get(yc, root, "probe")) != NULL)
		config_probe(cfg, yc, n, &ok);
	if ((n = yconf_get(yc, root, "metrics")) != NULL)
		config_metrics(cfg, yc, n);
	if ((n = yconf_get(yc, root, "log-level")) != NULL)
		config_log_level(cfg, yc, n);
	if ((n = yconf_get(yc, root, "redis")) != NULL)
		config_redis(cfg, yc, n, &ok);

	config_cross_checks(cfg, yc, root, &ok);
	return yconf_nerrors(yc) == before ? 0 : -1;
}

static bool
config_same_vips(const struct relay_config *a, const struct relay_config *b)
{
	const struct addr *v;
	int i;

	if (a->nvip != b->nvip)
		return false;
	for (i = 0; i < a->nvip; i++)
		if ((v = relay_config_vip(b, a->vip[i].af)) == NULL ||
		    !addr_eq(v, &a->vip[i]))
			return false;
	return true;
}

static bool
config_same_control(const struct relay_config *a,
    const struct relay_config *b)
{
	int i, j;

	if (a->ncontrol != b->ncontrol)
		return false;
	for (i = 0; i < a->ncontrol; i++) {
		for (j = 0; j < b->ncontrol; j++)
			if (sa_eq(&a->control[i], &b->control[j]))
				break;
		if (j == b->ncontrol)
			return false;
	}
	return true;
}

static bool
config_same_listen(bool ea, const union sockaddr_any *a, bool eb,
    const union sockaddr_any *b)
{
	if (ea != eb)
		return false;
	return !ea || sa_eq(a, b);
}

static void
config_list_add(char *buf, size_t len, size_t *used, const char *key)
{
	int n;

	if (*used >= len)
		return;
	n = snprintf(buf + *used, len - *used, "%s%s", *used ? ", " : "",
	    key);
	if (n > 0)
		*used += (size_t)n;
}

int
relay_config_fixed_changes(const struct relay_config *cur,
    const struct relay_config *next, char *buf, size_t len)
{
	size_t used = 0;
	int count = 0;

	if (len > 0)
		buf[0] = '\0';
	if (!config_same_vips(cur, next)) {
		config_list_add(buf, len, &used, "service-address");
		count++;
	}
	if (!config_same_control(cur, next)) {
		config_list_add(buf, len, &used, "control");
		count++;
	}
	if (cur->port_min != next->port_min ||
	    cur->port_max != next->port_max) {
		config_list_add(buf, len, &used, "ports");
		count++;
	}
	if (!config_same_listen(cur->probe_enabled, &cur->probe_listen,
	    next->probe_enabled, &next->probe_listen)) {
		config_list_add(buf, len, &used, "probe.listen");
		count++;
	}
	if (!config_same_listen(cur->metrics_enabled, &cur->metrics_listen,
	    next->metrics_enabled, &next->metrics_listen)) {
		config_list_add(buf, len, &used, "metrics.listen");
		count++;
	}
	if (cur->redis_enabled != next->redis_enabled ||
	    (cur->redis_enabled && (!sa_eq(&cur->redis_server,
	    &next->redis_server) || strcmp(cur->redis_node,
	    next->redis_node) != 0 || strcmp(cur->redis_prefix,
	    next->redis_prefix) != 0 || cur->redis_port_block !=
	    next->redis_port_block || cur->redis_lease_us !=
	    next->redis_lease_us || cur->redis_timeout_us !=
	    next->redis_timeout_us))) {
		config_list_add(buf, len, &used, "redis");
		count++;
	}
	return count;
}
