#include "controller/anchor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
anchor_open(struct anchor *a, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "anchor %s: name too long", name);
		return -1;
	}
	/* An existing device of that name would be another daemon's (or a
	 * persistent one nobody owns): taking it over would break the
	 * "dies with us" guarantee, so refuse. */
	if (if_nametoindex(name) != 0) {
		snprintf(err, errlen, "anchor %s: an interface of that name "
		    "exists already (another failoverd?)", name);
		return -1;
	}
	a->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (a->fd == -1) {
		snprintf(err, errlen, "anchor %s: /dev/net/tun: %s", name,
		    strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(a->fd, TUNSETIFF, &ifr) == -1) {
		snprintf(err, errlen, "anchor %s: TUNSETIFF: %s", name,
		    strerror(errno));
		goto fail;
	}
	snprintf(a->name, sizeof(a->name), "%s", ifr.ifr_name);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "anchor %s: socket: %s", name,
		    strerror(errno));
		goto fail;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) == -1) {
		snprintf(err, errlen, "anchor %s: cannot bring it up: %s",
		    name, strerror(errno));
		close(s);
		goto fail;
	}
	close(s);
	a->ifindex = (int)if_nametoindex(a->name);
	if (a->ifindex == 0) {
		snprintf(err, errlen, "anchor %s: no ifindex: %s", name,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(a->fd);
	a->fd = -1;
	return -1;
}

static void
anchor_rta(struct nlmsghdr *nh, size_t cap, int type, const void *data,
    size_t len)
{
	struct rtattr *rta;

	rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	if (NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len) > cap)
		return;		/* cannot happen: the buffer is sized */
	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = (uint32_t)(NLMSG_ALIGN(nh->nlmsg_len) +
	    RTA_SPACE(len));
}

int
anchor_route_add(struct anchor *a, const struct prefix *vip, char *err,
    size_t errlen)
{
	union {
		struct nlmsghdr	nh;
		char		buf[256];
	} req, ans;
	struct rtmsg *rtm;
	struct nlmsgerr *ne;
	struct sockaddr_nl sa;
	char pbuf[ADDR_STRLEN];
	uint32_t oif;
	ssize_t n;
	int s;

	prefix_fmt(vip, pbuf, sizeof(pbuf));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_NEWROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
	    NLM_F_REPLACE;
	req.nh.nlmsg_seq = 1;
	rtm = NLMSG_DATA(&req.nh);
	rtm->rtm_family = (unsigned char)vip->addr.af;
	rtm->rtm_dst_len = (unsigned char)vip->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* "boot", as `ip route add' does: zebra takes it for a kernel
	 * route it must not touch (its own protocols it would delete). */
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (vip->addr.af == AF_INET)
		anchor_rta(&req.nh, sizeof(req), RTA_DST, &vip->addr.v4, 4);
	else
		anchor_rta(&req.nh, sizeof(req), RTA_DST, &vip->addr.v6, 16);
	oif = (uint32_t)a->ifindex;
	anchor_rta(&req.nh, sizeof(req), RTA_OIF, &oif, sizeof(oif));

	if ((s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1) {
		snprintf(err, errlen, "anchor route %s: netlink: %s", pbuf,
		    strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(s, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1) {
		snprintf(err, errlen, "anchor route %s: send: %s", pbuf,
		    strerror(errno));
		close(s);
		return -1;
	}
	/* The kernel answers synchronously with an ack (error 0) or an
	 * error; the socket is blocking and the answer immediate. */
	n = recv(s, &ans, sizeof(ans), 0);
	close(s);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*ne)) ||
	    ans.nh.nlmsg_type != NLMSG_ERROR) {
		snprintf(err, errlen, "anchor route %s: no netlink ack", pbuf);
		return -1;
	}
	ne = NLMSG_DATA(&ans.nh);
	if (ne->error != 0) {
		snprintf(err, errlen, "anchor route %s dev %s: %s", pbuf,
		    a->name, strerror(-ne->error));
		return -1;
	}
	return 0;
}

void
anchor_close(struct anchor *a)
{
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
}
