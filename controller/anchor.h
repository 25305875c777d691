/*
 * Fail closed (DESIGN.md decision 6): tie each VIP's presence in zebra's
 * RIB to a kernel object that lives exactly as long as failoverd.
 *
 * failoverd opens a non-persistent TUN device and routes every VIP over
 * it (`VIP/32 dev fo-anchor` in the main table). bgpd's `network`
 * statement only announces a prefix that is in zebra's RIB (import check),
 * and that route is the only way the VIP gets there: relay hosts make the
 * VIP local with a route in the local table, which zebra does not read,
 * never with an interface address (docs/controller.md, "Fail closed").
 * When failoverd dies, SIGKILL included, the kernel closes the descriptor,
 * deletes the device and its routes, zebra drops the prefix and bgpd
 * withdraws it: no helper process, no timer.
 *
 * The routes carry no traffic: the local table wins for the VIP itself.
 */
#ifndef CONTROLLER_ANCHOR_H
#define CONTROLLER_ANCHOR_H

#include <net/if.h>
#include <stddef.h>

#include "common/addr.h"

struct anchor {
	int	fd;		/* TUN descriptor: the device lives with it */
	int	ifindex;
	char	name[IF_NAMESIZE];
};

/* Create the device (it must not exist yet) and bring it up. */
int	anchor_open(struct anchor *a, const char *name, char *err,
	    size_t errlen);
/* Route vip over the device (replacing an existing route to vip). */
int	anchor_route_add(struct anchor *a, const struct prefix *vip,
	    char *err, size_t errlen);
/* Close the descriptor: the kernel removes the device and its routes. */
void	anchor_close(struct anchor *a);

#endif
