#include "controller/state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/parse.h"
#include "controller/vty.h"

static struct state_entry *
state_find(struct state_entry *e, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(e[i].service, name) == 0)
			return &e[i];
	return NULL;
}

static bool
state_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > STATE_SERVICE_MAX)
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

int
state_parse(const char *text, size_t len, struct state_entry *out, int max,
    char *err, size_t errlen)
{
	char line[256], *words[4], *save, *w, perr[128];
	const char *p = text, *end = text + len, *nl;
	struct state_entry *e;
	int n = 0, lineno = 0, nw;
	uint64_t v;
	size_t l;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl != NULL ? nl : end) - p);
		if (l >= sizeof(line)) {
			snprintf(err, errlen, "line %d: too long", lineno);
			return -1;
		}
		memcpy(line, p, l);
		line[l] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (memchr(line, '\0', l) != NULL) {
			snprintf(err, errlen, "line %d: NUL byte", lineno);
			return -1;
		}
		w = line + strspn(line, " \t\r");
		if (*w == '#' || *w == '\0')
			continue;
		for (nw = 0, w = strtok_r(line, " \t\r", &save); w != NULL;
		    w = strtok_r(NULL, " \t\r", &save)) {
			if (nw == 3) {
				snprintf(err, errlen, "line %d: too many "
				    "words", lineno);
				return -1;
			}
			words[nw++] = w;
		}
		if (strcmp(words[0], "drained") != 0 &&
		    strcmp(words[0], "weight") != 0) {
			snprintf(err, errlen, "line %d: unknown entry '%s'",
			    lineno, words[0]);
			return -1;
		}
		if (nw != (strcmp(words[0], "weight") == 0 ? 3 : 2) ||
		    !state_name_ok(words[1], strlen(words[1]))) {
			snprintf(err, errlen, "line %d: expected '%s "
			    "SERVICE%s'", lineno, words[0],
			    strcmp(words[0], "weight") == 0 ? " N" : "");
			return -1;
		}
		if ((e = state_find(out, n, words[1])) == NULL) {
			if (n == max) {
				snprintf(err, errlen, "line %d: more than %d "
				    "services", lineno, max);
				return -1;
			}
			e = &out[n++];
			memset(e, 0, sizeof(*e));
			snprintf(e->service, sizeof(e->service), "%s",
			    words[1]);
		}
		if (strcmp(words[0], "drained") == 0)
			e->drained = true;
		else {
			if (parse_u64(words[2], VTY_BW_MIN, VTY_BW_MAX, &v,
			    perr, sizeof(perr)) == -1) {
				snprintf(err, errlen, "line %d: weight: %s",
				    lineno, perr);
				return -1;
			}
			e->has_weight = true;
			e->weight = (uint32_t)v;
		}
	}
	return n;
}

int
state_format(char *buf, size_t len, const struct state_entry *e, int n)
{
	size_t used = 0;
	int i, r;

	r = snprintf(buf, len, "# failoverd state: drains and run-time "
	    "weights; rewritten on every change\n");
	if (r < 0 || (size_t)r >= len)
		return -1;
	used = (size_t)r;
	for (i = 0; i < n; i++) {
		if (e[i].drained) {
			r = snprintf(buf + used, len - used, "drained %s\n",
			    e[i].service);
			if (r < 0 || (size_t)r >= len - used)
				return -1;
			used += (size_t)r;
		}
		if (e[i].has_weight) {
			r = snprintf(buf + used, len - used, "weight %s %u\n",
			    e[i].service, e[i].weight);
			if (r < 0 || (size_t)r >= len - used)
				return -1;
			used += (size_t)r;
		}
	}
	return (int)used;
}

int
state_load(const char *path, struct state_entry *out, int max, char *err,
    size_t errlen)
{
	char buf[STATE_FILE_MAX], perr[160];
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (n == (ssize_t)sizeof(buf)) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    STATE_FILE_MAX);
		return -1;
	}
	rc = state_parse(buf, (size_t)n, out, max, perr, sizeof(perr));
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, perr);
	return rc;
}

int
state_save(const char *path, const struct state_entry *e, int n, char *err,
    size_t errlen)
{
	char buf[STATE_FILE_MAX], tmp[512], dir[512];
	int fd, len;

	if ((len = state_format(buf, sizeof(buf), e, n)) == -1) {
		snprintf(err, errlen, "%s: state too large", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, buf, (size_t)len) != len || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
