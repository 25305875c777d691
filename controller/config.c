/*
 * failoverd configuration: the schema of failoverd.yaml on top of
 * common/yconf. Every reader records its problems with their position and
 * parsing goes on, so one `failoverd -n` run lists every error. Each check
 * kind parses its own keys (check.c and check_<kind>.c); this file holds
 * the daemon-wide keys and the services, and the cross-checks that need
 * both (a service naming a check that does not exist, a VIP in two
 * services).
 */
#include "controller/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "controller/vty.h"

_Static_assert(WEIGHT_MIN == VTY_BW_MIN && WEIGHT_MAX == VTY_BW_MAX,
    "a weight is a link bandwidth FRR accepts");

#define CONFIG_DEFAULT_HOLD_DOWN_US	(2 * 1000000ULL)
#define CONFIG_DEFAULT_WEIGHT		100
#define CONFIG_DEFAULT_TARGET_LOAD	80	/* percent of capacity */
#define CONFIG_DEFAULT_MIN_WEIGHT	10	/* percent of nominal */
#define CONFIG_DEFAULT_HYSTERESIS	10	/* percent */
#define CONFIG_DEFAULT_WEIGHT_IVL_US	(10 * 1000000ULL)
#define CONFIG_DEFAULT_WEIGHT_POLL_US	(1000000ULL)
#define CONFIG_DEFAULT_DRAIN_PPS	5
#define CONFIG_DEFAULT_DRAIN_TIMEOUT_US	(60 * 1000000ULL)
#define CONFIG_DEFAULT_DRAIN_POLL_US	(200 * 1000ULL)
#define CONFIG_DEFAULT_CMD_TIMEOUT_US	(2 * 1000000ULL)
#define CONFIG_DEFAULT_RECONNECT_US	(5 * 1000000ULL)
#define CONFIG_DAY_US			(86400 * 1000000ULL)

static const char *const config_keys[] = {
	"frr", "anchor", "control", "status-socket", "socket-mode",
	"state-file", "metrics", "hold-down", "log-level", "checks",
	"services", NULL
};
static const char *const config_frr_keys[] = {
	"vty", "pathspace", "asn", "vtysh", "command-timeout",
	"reconnect-max", "reset-sessions-on-failure", NULL
};
static const char *const config_service_keys[] = {
	"vips", "weight", "capacity", "auto-weight", "checks", "relay-control",
	"drain", NULL
};
static const char *const config_capacity_keys[] = {
	"calls", "packet-rate", NULL
};
static const char *const config_auto_weight_keys[] = {
	"scale-with-load", "target-load", "min-weight", "hysteresis",
	"interval", "poll", NULL
};
static const char *const config_drain_keys[] = {
	"threshold", "timeout", "poll", NULL
};

void
config_defaults(struct fo_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->frr.vty_path, sizeof(cfg->frr.vty_path), "%s",
	    CONFIG_DEFAULT_VTY);
	snprintf(cfg->frr.vtysh, sizeof(cfg->frr.vtysh), "/usr/bin/vtysh");
	cfg->frr.cmd_timeout_us = CONFIG_DEFAULT_CMD_TIMEOUT_US;
	cfg->frr.reconnect_max_us = CONFIG_DEFAULT_RECONNECT_US;
	snprintf(cfg->anchor, sizeof(cfg->anchor), "%s",
	    CONFIG_DEFAULT_ANCHOR);
	snprintf(cfg->control_path, sizeof(cfg->control_path), "%s",
	    CONFIG_DEFAULT_CONTROL);
	snprintf(cfg->status_path, sizeof(cfg->status_path), "%s",
	    CONFIG_DEFAULT_STATUS);
	cfg->socket_mode = 0660;
	snprintf(cfg->state_file, sizeof(cfg->state_file), "%s",
	    CONFIG_DEFAULT_STATE_FILE);
	cfg->hold_down_us = CONFIG_DEFAULT_HOLD_DOWN_US;
	cfg->log_level = LOG_LEVEL_INFO;
}

const struct service_config *
config_service(const struct fo_config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->nservices; i++)
		if (strcmp(cfg->services[i].name, name) == 0)
			return &cfg->services[i];
	return NULL;
}

int
config_check_index(const struct fo_config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->nchecks; i++)
		if (strcmp(cfg->checks[i].name, name) == 0)
			return i;
	return -1;
}

/* Names become log words, metric labels and control arguments. */
static bool
config_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CONFIG_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return false;
	}
	return true;
}

static void
config_path(struct yconf *yc, yaml_node_t *n, const char *what, char *buf,
    size_t len)
{
	char tmp[512];

	if (yconf_strcpy(yc, n, what, tmp, sizeof(tmp)) == -1)
		return;
	if (tmp[0] != '/') {
		yconf_errorf(yc, n, "%s: '%s' is not an absolute path", what,
		    tmp);
		return;
	}
	if (strlen(tmp) >= len) {
		yconf_errorf(yc, n, "%s: path longer than %zu bytes", what,
		    len - 1);
		return;
	}
	snprintf(buf, len, "%s", tmp);
}

static void
config_frr(struct fo_config *cfg, struct yconf *yc, yaml_node_t *map)
{
	yaml_node_t *n, *vty;
	char err[128];
	uint64_t v;

	if (yconf_map(yc, map, "frr") == -1)
		return;
	yconf_check_keys(yc, map, config_frr_keys);

	if ((n = yconf_get(yc, map, "asn")) == NULL)
		yconf_errorf(yc, map, "frr: missing required key 'asn'");
	else if (yconf_u64(yc, n, "frr.asn", 1, UINT32_MAX, &v) == 0) {
		if (vty_check_asn(v, err, sizeof(err)) == -1)
			yconf_errorf(yc, n, "frr.asn: %s", err);
		else
			cfg->frr.asn = v;
	}

	vty = yconf_get(yc, map, "vty");
	if (vty != NULL)
		config_path(yc, vty, "frr.vty", cfg->frr.vty_path,
		    sizeof(cfg->frr.vty_path));
	if ((n = yconf_get(yc, map, "pathspace")) != NULL &&
	    yconf_strcpy(yc, n, "frr.pathspace", cfg->frr.pathspace,
	    sizeof(cfg->frr.pathspace)) == 0) {
		if (!config_name_ok(cfg->frr.pathspace))
			yconf_errorf(yc, n, "frr.pathspace: '%s' is not a "
			    "name ([A-Za-z0-9_.-])", cfg->frr.pathspace);
		else if (vty != NULL)
			yconf_errorf(yc, n, "frr: give either 'vty' or "
			    "'pathspace', not both");
		else
			/* FRR keeps a pathspace's sockets in a
			 * subdirectory of its state directory. */
			snprintf(cfg->frr.vty_path, sizeof(cfg->frr.vty_path),
			    "/var/run/frr/%s/bgpd.vty", cfg->frr.pathspace);
	}
	if ((n = yconf_get(yc, map, "vtysh")) != NULL) {
		char tmp[256];

		if (yconf_strcpy(yc, n, "frr.vtysh", tmp, sizeof(tmp)) == 0) {
			if (strcmp(tmp, "none") == 0)
				cfg->frr.vtysh[0] = '\0';
			else
				config_path(yc, n, "frr.vtysh",
				    cfg->frr.vtysh, sizeof(cfg->frr.vtysh));
		}
	}
	if ((n = yconf_get(yc, map, "command-timeout")) != NULL)
		yconf_duration_us(yc, n, "frr.command-timeout", 10000,
		    60 * 1000000ULL, &cfg->frr.cmd_timeout_us);
	if ((n = yconf_get(yc, map, "reset-sessions-on-failure")) != NULL)
		yconf_bool(yc, n, "frr.reset-sessions-on-failure",
		    &cfg->frr.reset_on_failure);
	if ((n = yconf_get(yc, map, "reconnect-max")) != NULL)
		yconf_duration_us(yc, n, "frr.reconnect-max", 100000,
		    3600 * 1000000ULL, &cfg->frr.reconnect_max_us);
}

static void
config_anchor(struct fo_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	char tmp[64];

	if (yconf_strcpy(yc, n, "anchor", tmp, sizeof(tmp)) == -1)
		return;
	if (strcmp(tmp, "none") == 0) {
		cfg->anchor[0] = '\0';
		return;
	}
	/* A Linux interface name: 1-15 bytes, no '/', no blanks. */
	if (strlen(tmp) >= IF_NAMESIZE || !config_name_ok(tmp)) {
		yconf_errorf(yc, n, "anchor: '%s' is not an interface name "
		    "(1-15 of [A-Za-z0-9_.-]) or 'none'", tmp);
		return;
	}
	memcpy(cfg->anchor, tmp, strlen(tmp) + 1);
}

static void
config_socket_mode(struct fo_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	const char *s;
	char *end;
	unsigned long v;

	if (yconf_str(yc, n, "socket-mode", &s) == -1)
		return;
	v = strtoul(s, &end, 8);
	if (*s == '\0' || *end != '\0' || v > 0777 || (v & 0600) != 0600) {
		yconf_errorf(yc, n, "socket-mode: '%s' is not an octal mode "
		    "from 0600 to 0777 that lets the owner read and write",
		    s);
		return;
	}
	cfg->socket_mode = (unsigned int)v;
}

static void
config_log_level(struct fo_config *cfg, struct yconf *yc, yaml_node_t *n)
{
	const char *choices[LOG_LEVEL_DEBUG + 2];
	int i;

	for (i = LOG_LEVEL_ERR; i <= LOG_LEVEL_DEBUG; i++)
		choices[i] = log_level_names[i];
	choices[i] = NULL;
	if ((i = yconf_enum(yc, n, "log-level", choices)) != -1)
		cfg->log_level = (enum log_level)i;
}

static void
config_checks(struct fo_config *cfg, struct yconf *yc, yaml_node_t *map)
{
	yaml_node_t *key, *val;
	const char *name;
	int i, count;

	if (yconf_map(yc, map, "checks") == -1)
		return;
	count = yconf_map_len(yc, map);
	for (i = 0; i < count; i++) {
		name = yconf_map_key(yc, map, i, &key, &val);
		if (name == NULL)
			continue;	/* yconf_check_keys-style error made */
		if (!config_name_ok(name)) {
			yconf_errorf(yc, key, "checks: '%s' is not a name "
			    "(1-%d of [A-Za-z0-9_.-])", name, CONFIG_NAME_MAX);
			continue;
		}
		if (config_check_index(cfg, name) != -1) {
			yconf_errorf(yc, key, "checks: '%s' defined twice",
			    name);
			continue;
		}
		if (cfg->nchecks == CONFIG_CHECKS_MAX) {
			yconf_errorf(yc, key, "checks: more than %d checks",
			    CONFIG_CHECKS_MAX);
			return;
		}
		if (check_config_parse(yc, name, val,
		    &cfg->checks[cfg->nchecks]) == 0)
			cfg->nchecks++;
		else
			/* Keep the name so services using it do not add
			 * a second, misleading "no such check" error. */
			snprintf(cfg->checks[cfg->nchecks++].name,
			    sizeof(cfg->checks[0].name), "%s", name);
	}
}

static void
config_service_vips(struct fo_config *cfg, struct service_config *svc,
    struct yconf *yc, yaml_node_t *n)
{
	yaml_node_t *items[CONFIG_VIPS_MAX];
	struct prefix p;
	char buf[ADDR_STRLEN];
	int i, j, k, count;

	count = yconf_list(yc, n, "vips", items, CONFIG_VIPS_MAX);
	if (count == -1)
		return;
	if (count == 0) {
		yconf_errorf(yc, n, "vips: empty list");
		return;
	}
	for (i = 0; i < count; i++) {
		if (yconf_prefix(yc, items[i], "vips", &p) == -1)
			continue;
		prefix_fmt(&p, buf, sizeof(buf));
		if (p.len != (p.addr.af == AF_INET ? 32 : 128)) {
			yconf_errorf(yc, items[i], "vips: %s is not a host "
			    "route (/32 or /128): an anycast service address "
			    "is announced alone", buf);
			continue;
		}
		/* Across services too: two services would fight over it. */
		for (j = 0; j <= cfg->nservices; j++) {
			const struct service_config *o = &cfg->services[j];

			for (k = 0; k < o->nvips; k++)
				if (addr_eq(&o->vips[k].addr, &p.addr))
					break;
			if (k < o->nvips)
				break;
		}
		if (j <= cfg->nservices) {
			yconf_errorf(yc, items[i], "vips: %s already belongs "
			    "to service '%s'", buf, cfg->services[j].name);
			continue;
		}
		svc->vips[svc->nvips++] = p;
	}
}

static void
config_service_checks(struct fo_config *cfg, struct service_config *svc,
    struct yconf *yc, yaml_node_t *n)
{
	yaml_node_t *items[FSM_CHECKS_MAX];
	const char *name;
	size_t j;
	int i, idx, count;

	count = yconf_list(yc, n, "checks", items, FSM_CHECKS_MAX);
	if (count == -1)
		return;
	if (count == 0) {
		yconf_errorf(yc, n, "checks: empty list (a service needs at "
		    "least one check)");
		return;
	}
	for (i = 0; i < count; i++) {
		if (yconf_str(yc, items[i], "checks", &name) == -1)
			continue;
		if ((idx = config_check_index(cfg, name)) == -1) {
			yconf_errorf(yc, items[i], "checks: no check named "
			    "'%s' in the checks section", name);
			continue;
		}
		for (j = 0; j < svc->nchecks; j++)
			if (svc->checks[j] == idx)
				break;
		if (j < svc->nchecks) {
			yconf_errorf(yc, items[i], "checks: '%s' listed twice",
			    name);
			continue;
		}
		svc->checks[svc->nchecks++] = idx;
	}
}

static void
config_service_drain(struct service_config *svc, struct yconf *yc,
    yaml_node_t *map)
{
	yaml_node_t *n;

	if (yconf_map(yc, map, "drain") == -1)
		return;
	yconf_check_keys(yc, map, config_drain_keys);
	if ((n = yconf_get(yc, map, "threshold")) != NULL)
		yconf_u64(yc, n, "drain.threshold", 0, 10000000,
		    &svc->drain_threshold_pps);
	if ((n = yconf_get(yc, map, "timeout")) != NULL)
		yconf_duration_us(yc, n, "drain.timeout", 0, CONFIG_DAY_US,
		    &svc->drain_timeout_us);
	if ((n = yconf_get(yc, map, "poll")) != NULL)
		yconf_duration_us(yc, n, "drain.poll", 10000, 60 * 1000000ULL,
		    &svc->drain_poll_us);
}

/* "80%" or "80": a whole percentage in [min, max]. */
static int
config_percent(struct yconf *yc, yaml_node_t *n, const char *what,
    unsigned int min, unsigned int max, unsigned int *out)
{
	const char *s;
	char buf[32], err[128];
	size_t len;
	uint64_t v;

	if (yconf_str(yc, n, what, &s) == -1)
		return -1;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '%')
		len--;
	if (len == 0 || len >= sizeof(buf)) {
		yconf_errorf(yc, n, "%s: '%s' is not a percentage from %u%% to "
		    "%u%%", what, s, min, max);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (parse_u64(buf, min, max, &v, err, sizeof(err)) == -1) {
		yconf_errorf(yc, n, "%s: '%s' is not a percentage from %u%% to "
		    "%u%%", what, s, min, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

/* weight: N or auto. */
static void
config_service_weight(struct service_config *svc, struct yconf *yc,
    yaml_node_t *n)
{
	const char *s;
	uint64_t v;

	if (n->type == YAML_SCALAR_NODE && yconf_str(yc, n, "weight",
	    &s) == 0) {
		if (strcmp(s, "auto") == 0) {
			svc->weight.mode = WEIGHT_AUTO;
			return;
		}
		if (s[0] < '0' || s[0] > '9') {
			yconf_errorf(yc, n, "weight: '%s' is neither a number "
			    "from %d to %d nor 'auto'", s, WEIGHT_MIN,
			    WEIGHT_MAX);
			return;
		}
	}
	if (yconf_u64(yc, n, "weight", WEIGHT_MIN, WEIGHT_MAX, &v) == 0)
		svc->weight.fixed = (uint32_t)v;
}

static void
config_service_capacity(struct service_config *svc, struct yconf *yc,
    yaml_node_t *map)
{
	yaml_node_t *n;

	if (yconf_map(yc, map, "capacity") == -1)
		return;
	yconf_check_keys(yc, map, config_capacity_keys);
	if ((n = yconf_get(yc, map, "calls")) != NULL)
		yconf_u64(yc, n, "capacity.calls", 1, 100000000,
		    &svc->weight.cap_calls);
	if ((n = yconf_get(yc, map, "packet-rate")) != NULL)
		yconf_u64(yc, n, "capacity.packet-rate", 1, 10000000000ULL,
		    &svc->weight.cap_pps);
	if (yconf_get(yc, map, "calls") == NULL &&
	    yconf_get(yc, map, "packet-rate") == NULL)
		yconf_errorf(yc, map, "capacity: give calls, packet-rate or "
		    "both");
}

static void
config_service_auto_weight(struct service_config *svc, struct yconf *yc,
    yaml_node_t *map)
{
	struct weight_config *w = &svc->weight;
	yaml_node_t *n;

	if (yconf_map(yc, map, "auto-weight") == -1)
		return;
	yconf_check_keys(yc, map, config_auto_weight_keys);
	if ((n = yconf_get(yc, map, "scale-with-load")) != NULL)
		yconf_bool(yc, n, "auto-weight.scale-with-load",
		    &w->scale_with_load);
	if ((n = yconf_get(yc, map, "target-load")) != NULL)
		config_percent(yc, n, "auto-weight.target-load", 1, 100,
		    &w->target_pct);
	if ((n = yconf_get(yc, map, "min-weight")) != NULL)
		config_percent(yc, n, "auto-weight.min-weight", 1, 100,
		    &w->min_pct);
	if ((n = yconf_get(yc, map, "hysteresis")) != NULL)
		config_percent(yc, n, "auto-weight.hysteresis", 0, 90,
		    &w->hysteresis_pct);
	if ((n = yconf_get(yc, map, "interval")) != NULL)
		yconf_duration_us(yc, n, "auto-weight.interval", 1000000,
		    3600 * 1000000ULL, &w->interval_us);
	if ((n = yconf_get(yc, map, "poll")) != NULL)
		yconf_duration_us(yc, n, "auto-weight.poll", 100000,
		    60 * 1000000ULL, &svc->weight_poll_us);
}

/* What only makes sense together: auto needs a capacity, the auto keys
 * need auto, load scaling needs the relay's statistics. */
static void
config_service_weight_check(struct service_config *svc, struct yconf *yc,
    yaml_node_t *svcmap)
{
	yaml_node_t *wn = yconf_get(yc, svcmap, "weight");
	yaml_node_t *cap = yconf_get(yc, svcmap, "capacity");
	yaml_node_t *aw = yconf_get(yc, svcmap, "auto-weight");

	if (svc->weight.mode == WEIGHT_AUTO) {
		if (cap == NULL)
			yconf_errorf(yc, wn, "weight: auto needs 'capacity' "
			    "(calls, packet-rate or both)");
		if (svc->weight.scale_with_load && !svc->has_relay_control)
			yconf_errorf(yc, aw, "auto-weight.scale-with-load: "
			    "needs 'relay-control' (the load comes from the "
			    "relay's ng statistics)");
		return;
	}
	if (cap != NULL)
		yconf_errorf(yc, cap, "capacity: only used with 'weight: "
		    "auto'");
	if (aw != NULL)
		yconf_errorf(yc, aw, "auto-weight: only used with 'weight: "
		    "auto'");
}

static void
config_services(struct fo_config *cfg, struct yconf *yc, yaml_node_t *map)
{
	struct service_config *svc;
	yaml_node_t *key, *val, *n;
	const char *name;
	int i, count;

	if (yconf_map(yc, map, "services") == -1)
		return;
	count = yconf_map_len(yc, map);
	if (count == 0)
		yconf_errorf(yc, map, "services: none defined");
	for (i = 0; i < count; i++) {
		name = yconf_map_key(yc, map, i, &key, &val);
		if (name == NULL)
			continue;
		if (!config_name_ok(name)) {
			yconf_errorf(yc, key, "services: '%s' is not a name "
			    "(1-%d of [A-Za-z0-9_.-])", name, CONFIG_NAME_MAX);
			continue;
		}
		if (config_service(cfg, name) != NULL) {
			yconf_errorf(yc, key, "services: '%s' defined twice",
			    name);
			continue;
		}
		if (cfg->nservices == CONFIG_SERVICES_MAX) {
			yconf_errorf(yc, key, "services: more than %d",
			    CONFIG_SERVICES_MAX);
			return;
		}
		svc = &cfg->services[cfg->nservices];
		memset(svc, 0, sizeof(*svc));
		snprintf(svc->name, sizeof(svc->name), "%s", name);
		svc->weight.mode = WEIGHT_FIXED;
		svc->weight.fixed = CONFIG_DEFAULT_WEIGHT;
		svc->weight.target_pct = CONFIG_DEFAULT_TARGET_LOAD;
		svc->weight.min_pct = CONFIG_DEFAULT_MIN_WEIGHT;
		svc->weight.hysteresis_pct = CONFIG_DEFAULT_HYSTERESIS;
		svc->weight.interval_us = CONFIG_DEFAULT_WEIGHT_IVL_US;
		svc->weight_poll_us = CONFIG_DEFAULT_WEIGHT_POLL_US;
		svc->drain_threshold_pps = CONFIG_DEFAULT_DRAIN_PPS;
		svc->drain_timeout_us = CONFIG_DEFAULT_DRAIN_TIMEOUT_US;
		svc->drain_poll_us = CONFIG_DEFAULT_DRAIN_POLL_US;
		if (yconf_map(yc, val, name) == -1)
			continue;
		yconf_check_keys(yc, val, config_service_keys);

		if ((n = yconf_get(yc, val, "vips")) == NULL)
			yconf_errorf(yc, val, "service '%s': missing required "
			    "key 'vips'", name);
		else
			config_service_vips(cfg, svc, yc, n);
		if ((n = yconf_get(yc, val, "checks")) == NULL)
			yconf_errorf(yc, val, "service '%s': missing required "
			    "key 'checks'", name);
		else
			config_service_checks(cfg, svc, yc, n);
		if ((n = yconf_get(yc, val, "weight")) != NULL)
			config_service_weight(svc, yc, n);
		if ((n = yconf_get(yc, val, "capacity")) != NULL)
			config_service_capacity(svc, yc, n);
		if ((n = yconf_get(yc, val, "auto-weight")) != NULL)
			config_service_auto_weight(svc, yc, n);
		if ((n = yconf_get(yc, val, "relay-control")) != NULL &&
		    yconf_hostport(yc, n, "relay-control",
		    &svc->relay_control) == 0)
			svc->has_relay_control = true;
		if ((n = yconf_get(yc, val, "drain")) != NULL)
			config_service_drain(svc, yc, n);
		config_service_weight_check(svc, yc, val);
		cfg->nservices++;
	}
}

int
config_parse(struct fo_config *cfg, struct yconf *yc)
{
	yaml_node_t *root, *n;

	if ((root = yconf_root(yc)) == NULL)
		return -1;
	if (yconf_map(yc, root, "configuration") == -1)
		return -1;
	yconf_check_keys(yc, root, config_keys);

	if ((n = yconf_get(yc, root, "frr")) == NULL)
		yconf_errorf(yc, root, "missing required key 'frr'");
	else
		config_frr(cfg, yc, n);
	if ((n = yconf_get(yc, root, "anchor")) != NULL)
		config_anchor(cfg, yc, n);
	if ((n = yconf_get(yc, root, "control")) != NULL)
		config_path(yc, n, "control", cfg->control_path,
		    sizeof(cfg->control_path));
	if ((n = yconf_get(yc, root, "status-socket")) != NULL)
		config_path(yc, n, "status-socket", cfg->status_path,
		    sizeof(cfg->status_path));
	if (strcmp(cfg->control_path, cfg->status_path) == 0)
		yconf_errorf(yc, n != NULL ? n : root, "status-socket: same "
		    "path as control (%s): the read-only socket needs its "
		    "own", cfg->control_path);
	if ((n = yconf_get(yc, root, "socket-mode")) != NULL)
		config_socket_mode(cfg, yc, n);
	if ((n = yconf_get(yc, root, "state-file")) != NULL)
		config_path(yc, n, "state-file", cfg->state_file,
		    sizeof(cfg->state_file));
	if ((n = yconf_get(yc, root, "metrics")) != NULL &&
	    yconf_hostport(yc, n, "metrics", &cfg->metrics_listen) == 0)
		cfg->metrics_enabled = true;
	if ((n = yconf_get(yc, root, "hold-down")) != NULL)
		yconf_duration_us(yc, n, "hold-down", 0, CONFIG_DAY_US,
		    &cfg->hold_down_us);
	if ((n = yconf_get(yc, root, "log-level")) != NULL)
		config_log_level(cfg, yc, n);

	/* Checks before services: services refer to checks by name. */
	if ((n = yconf_get(yc, root, "checks")) == NULL)
		yconf_errorf(yc, root, "missing required key 'checks'");
	else
		config_checks(cfg, yc, n);
	if ((n = yconf_get(yc, root, "services")) == NULL)
		yconf_errorf(yc, root, "missing required key 'services'");
	else
		config_services(cfg, yc, n);

	return yconf_nerrors(yc) == 0 ? 0 : -1;
}

int
config_load(const char *file, struct fo_config *cfg,
    void (*err_fn)(const char *line, void *arg), void *arg)
{
	struct yconf yc;
	int i, rc;

	config_defaults(cfg);
	yconf_init(&yc, file);
	rc = yconf_load_file(&yc);
	if (rc == 0)
		rc = config_parse(cfg, &yc);
	for (i = 0; i < yconf_nerrors(&yc); i++)
		err_fn(yconf_error(&yc, i), arg);
	yconf_free(&yc);
	return rc == 0 && i == 0 ? 0 : -1;
}

static void
config_problem(char *buf, size_t len, int *n, const char *what)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%s%s", *n > 0 ? ", " : "",
		    what);
	(*n)++;
}

int
config_reload_problems(const struct fo_config *cur,
    const struct fo_config *next, char *buf, size_t len)
{
	const struct service_config *a, *b;
	char what[CONFIG_NAME_MAX + 64];
	int i, n = 0;
	size_t j;

	if (len > 0)
		buf[0] = '\0';
	if (memcmp(&cur->frr, &next->frr, sizeof(cur->frr)) != 0)
		config_problem(buf, len, &n, "frr");
	if (strcmp(cur->anchor, next->anchor) != 0)
		config_problem(buf, len, &n, "anchor");
	if (strcmp(cur->control_path, next->control_path) != 0 ||
	    strcmp(cur->status_path, next->status_path) != 0 ||
	    cur->socket_mode != next->socket_mode)
		config_problem(buf, len, &n, "control sockets");
	if (strcmp(cur->state_file, next->state_file) != 0)
		config_problem(buf, len, &n, "state-file");
	if (cur->metrics_enabled != next->metrics_enabled ||
	    (cur->metrics_enabled && !sa_eq(&cur->metrics_listen,
	    &next->metrics_listen)))
		config_problem(buf, len, &n, "metrics");
	if (cur->nservices != next->nservices) {
		config_problem(buf, len, &n, "the set of services");
		return n;
	}
	for (i = 0; i < cur->nservices; i++) {
		a = &cur->services[i];
		b = &next->services[i];
		if (strcmp(a->name, b->name) != 0) {
			config_problem(buf, len, &n, "the set of services");
			continue;
		}
		if (a->nvips != b->nvips || memcmp(a->vips, b->vips,
		    sizeof(a->vips[0]) * (size_t)a->nvips) != 0) {
			snprintf(what, sizeof(what), "%s vips", a->name);
			config_problem(buf, len, &n, what);
		}
		/* Checks are compared by name: the state machine keeps one
		 * slot per check, in order. */
		for (j = 0; j < a->nchecks && a->nchecks == b->nchecks; j++)
			if (strcmp(cur->checks[a->checks[j]].name,
			    next->checks[b->checks[j]].name) != 0)
				break;
		if (a->nchecks != b->nchecks || j < a->nchecks) {
			snprintf(what, sizeof(what), "%s checks", a->name);
			config_problem(buf, len, &n, what);
		}
	}
	return n;
}
