/*
 * ng request options: every spelling of a name the proxies send, flags and
 * keys honoured, accepted and refused (with the option named in the
 * error), malformed values, unknown names collected for the log, and a
 * delete that never fails over an option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/bencode.h"
#include "common/tests/testutil.h"
#include "relay/ngopts.h"

static struct bnode nodes[256];
static char err[640], benc[4096];

/* Decode a request written as jb() text (common/tests/testutil.h). */
static struct bnode *
dict(const char *desc)
{
	struct bnode *root;
	size_t n = jb(desc, benc, sizeof(benc));

	if (bencode_decode(benc, n, nodes, 256, &root, err, sizeof(err)) != 0)
		fail_msg("test request does not decode: %s", err);
	return root;
}

static void
parse_ok(const char *desc, enum ng_cmd cmd, struct ng_opts *o)
{
	err[0] = '\0';
	if (ngopts_parse(dict(desc), cmd, o, err, sizeof(err)) != 0)
		fail_msg("ngopts_parse: %s", err);
}

/* The request fails, and the error contains every one of the words. */
static void
parse_fails(const char *desc, enum ng_cmd cmd, const char *w1,
    const char *w2)
{
	struct ng_opts o;

	assert_int_equal(ngopts_parse(dict(desc), cmd, &o, err, sizeof(err)),
	    -1);
	if (strstr(err, w1) == NULL || (w2 != NULL && strstr(err, w2) ==
	    NULL))
		fail_msg("error '%s' lacks '%s' / '%s'", err, w1,
		    w2 != NULL ? w2 : "");
}

static void
test_name_folding(void **state)
{
	(void)state;
	assert_true(ngopts_name_eq("SIP source address", 18,
	    "sip-source-address"));
	assert_true(ngopts_name_eq("SIP-source-address", 18,
	    "sip-source-address"));
	assert_true(ngopts_name_eq("sip_source_address", 18,
	    "sip-source-address"));
	assert_false(ngopts_name_eq("SIP-source-addres", 17,
	    "sip-source-address"));
	assert_false(ngopts_name_eq("SIP-source-addresss", 19,
	    "sip-source-address"));
	assert_false(ngopts_name_eq("", 0, "x"));
}

/* What Kamailio's module sends for rtpengine_manage("SIP-source-address
 * replace-origin replace-session-connection ICE=remove address-family=IP4
 * rtcp-mux-demux RTP/AVP direction=pub direction=priv"), and what
 * rtpengine-ng-client sends for the same. */
static void
test_both_spellings(void **state)
{
	struct ng_opts o;

	(void)state;
	parse_ok("{'supports':['load limit'],'sdp':'v=0','call-id':'c',"
	    "'direction':['pub','priv'],'flags':['SIP-source-address'],"
	    "'replace':['origin','session-connection'],'rtcp-mux':['demux'],"
	    "'transport-protocol':'RTP/AVP','ICE':'remove',"
	    "'address-family':'IP4','received-from':['IP4','198.51.100.7'],"
	    "'from-tag':'f','command':'offer'}", NG_CMD_OFFER, &o);
	assert_true(o.sip_source);
	assert_true(o.replace_origin);
	assert_true(o.rtcp_mux_demux);
	assert_false(o.rtcp_mux_offer);
	assert_string_equal(o.transport, "RTP/AVP");
	assert_int_equal(o.ice, NGO_ICE_REMOVE);
	assert_int_equal(o.af, AF_INET);
	assert_true(o.has_received_from);
	assert_int_equal(o.received_from.af, AF_INET);
	assert_true(o.load_limit);
	assert_int_equal(o.nunknown, 0);

	parse_ok("{'command':'offer','flags':['SIP source address'],"
	    "'replace':['origin'],'address family':'IP6',"
	    "'received from':['IP6','2001:db8::1'],"
	    "'transport protocol':'RTP/AVPF'}", NG_CMD_OFFER, &o);
	assert_true(o.sip_source);
	assert_true(o.replace_origin);
	assert_int_equal(o.af, AF_INET6);
	assert_int_equal(o.received_from.af, AF_INET6);
	assert_string_equal(o.transport, "RTP/AVPF");
	assert_int_equal(o.ice, NGO_ICE_UNSET);
}

static void
test_prefixed_flags(void **state)
{
	struct ng_opts o;

	(void)state;
	parse_ok("{'flags':['replace-origin','replace-zero-address',"
	    "'rtcp-mux-offer','rtcp-mux-reject','codec-strip-PCMU',"
	    "'codec-except-opus','codec-offer-G722','strict-source',"
	    "'loop-protect','strip-extmap','no-rtcp-attribute',"
	    "'trust-address','SDES-off']}", NG_CMD_OFFER, &o);
	assert_true(o.replace_origin);
	assert_true(o.replace_zero_address);
	assert_true(o.rtcp_mux_offer);
	assert_true(o.rtcp_mux_reject);
	assert_int_equal(o.codec_strip.n, 1);
	assert_string_equal(o.codec_strip.name[0], "PCMU");
	assert_string_equal(o.codec_except.name[0], "opus");
	assert_string_equal(o.codec_offer.name[0], "G722");
	assert_true(o.strict_source);
	assert_true(o.loop_protect);
	assert_true(o.strip_extmap);
	assert_true(o.no_rtcp_attr);
	assert_false(o.sip_source);

	/* The last of SIP-source-address and trust-address wins. */
	parse_ok("{'flags':['trust-address','SIP-source-address']}",
	    NG_CMD_OFFER, &o);
	assert_true(o.sip_source);

	/* Kamailio's codec dictionary. */
	parse_ok("{'codec':{'strip':['all','PCMA'],'except':['PCMA'],"
	    "'offer':['opus','PCMA']}}", NG_CMD_OFFER, &o);
	assert_int_equal(o.codec_strip.n, 2);
	assert_string_equal(o.codec_strip.name[0], "all");
	assert_int_equal(o.codec_offer.n, 2);
	assert_string_equal(o.codec_offer.name[1], "PCMA");

	/* ICE as a list, and the "reject ICE" flag. */
	parse_ok("{'ICE':['remove']}", NG_CMD_OFFER, &o);
	assert_int_equal(o.ice, NGO_ICE_REMOVE);
	parse_ok("{'flags':['reject ICE']}", NG_CMD_OFFER, &o);
	assert_int_equal(o.ice, NGO_ICE_REMOVE);
	parse_ok("{'ICE':'default'}", NG_CMD_OFFER, &o);
	assert_int_equal(o.ice, NGO_ICE_DEFAULT);
	parse_ok("{'extmap':{'strip':['all']}}", NG_CMD_OFFER, &o);
	assert_true(o.strip_extmap);
	parse_ok("{'media address':'2001:db8::7'}", NG_CMD_OFFER, &o);
	assert_true(o.has_media_address);
	assert_int_equal(o.media_address.af, AF_INET6);
}

/* What a pass-through relay already does, or what concerns something it
 * does not have: accepted without a word. */
static void
test_accepted(void **state)
{
	struct ng_opts o;

	(void)state;
	parse_ok("{'flags':['symmetric','trust-address','force',"
	    "'unidirectional','no-redis-update','original-sendrecv',"
	    "'port-latching','reset','provisional',"
	    "'replace-session-connection'],'DTLS':'off','SDES':['off'],"
	    "'TOS':-1,'label':'alice','via-branch':'z9hG',"
	    "'record call':'no','delete delay':0,'generate RTCP':'off',"
	    "'T.38':[],'ICE-lite':'off','interface':'pub'}", NG_CMD_OFFER,
	    &o);
	assert_int_equal(o.nunknown, 0);
}

static void
test_refused(void **state)
{
	(void)state;
	parse_fails("{'ICE':'force'}", NG_CMD_OFFER, "ICE=force",
	    "use ICE=remove");
	parse_fails("{'ICE':['remove','force-relay']}", NG_CMD_OFFER,
	    "ICE=force-relay", NULL);
	parse_fails("{'flags':['always transcode']}", NG_CMD_OFFER,
	    "flag 'always transcode'", "transcode");
	parse_fails("{'flags':['record-call']}", NG_CMD_OFFER,
	    "flag 'record-call'", "record");
	parse_fails("{'record call':'yes'}", NG_CMD_ANSWER, "'record call'",
	    "record");
	parse_fails("{'codec':{'transcode':['G729']}}", NG_CMD_OFFER,
	    "codec 'transcode'", "transcode");
	parse_fails("{'flags':['codec-transcode-G729']}", NG_CMD_OFFER,
	    "flag 'codec-transcode-G729'", "transcode");
	parse_fails("{'codec':{'mask':['all']}}", NG_CMD_OFFER,
	    "codec 'mask'", NULL);
	parse_fails("{'DTLS':'passive'}", NG_CMD_OFFER, "'DTLS'", "SRTP");
	parse_fails("{'SDES':['no-NULL_HMAC_SHA1_32']}", NG_CMD_OFFER,
	    "SDES 'no-NULL_HMAC_SHA1_32'", NULL);
	parse_fails("{'flags':['WebRTC']}", NG_CMD_OFFER, "flag 'WebRTC'",
	    NULL);
	parse_fails("{'flags':['asymmetric']}", NG_CMD_OFFER,
	    "flag 'asymmetric'", "latches");
	parse_fails("{'flags':['media handover']}", NG_CMD_OFFER,
	    "flag 'media handover'", "RTPBleed");
	parse_fails("{'ptime':30}", NG_CMD_OFFER, "'ptime'", "transcode");
	parse_fails("{'repacketize':60}", NG_CMD_OFFER, "'repacketize'",
	    NULL);
	parse_fails("{'T.38':['decode']}", NG_CMD_OFFER, "'T.38'", NULL);
	parse_fails("{'TOS':184}", NG_CMD_OFFER, "'TOS'", "TOS");
	parse_fails("{'media echo':'both'}", NG_CMD_OFFER, "'media echo'",
	    NULL);
	parse_fails("{'replace':['origin-full']}", NG_CMD_OFFER,
	    "replace 'origin-full'", NULL);
	parse_fails("{'flags':['trickle ICE']}", NG_CMD_OFFER,
	    "flag 'trickle ICE'", "ICE");
	parse_fails("{'rtpp_flags':'replace-origin'}", NG_CMD_OFFER,
	    "'rtpp_flags'", NULL);
	parse_fails("{'OSRTP':['offer']}", NG_CMD_OFFER, "OSRTP 'offer'",
	    NULL);
	parse_fails("{'extmap':{'mask':['all']}}", NG_CMD_OFFER, "'extmap'",
	    NULL);
	parse_fails("{'ICE-lite':'forward'}", NG_CMD_OFFER, "'ICE-lite'",
	    NULL);
}

static void
test_malformed(void **state)
{
	(void)state;
	parse_fails("{'flags':'fast'}", NG_CMD_OFFER,
	    "'flags' must be a list", NULL);
	parse_fails("{'flags':[3]}", NG_CMD_OFFER, "'flags' must be a list",
	    NULL);
	parse_fails("{'received from':['IP4','1.2.3.4x']}", NG_CMD_OFFER,
	    "'received from': '1.2.3.4x'", NULL);
	parse_fails("{'received from':['IP4']}", NG_CMD_OFFER,
	    "'received from'", "[family, address]");
	parse_fails("{'received from':['IP4','1.2.3.4','foo']}", NG_CMD_OFFER,
	    "[family, address]", NULL);
	parse_fails("{'received from':['IP6','1.2.3.4']}", NG_CMD_OFFER,
	    "family must be IP4 or IP6 and match", NULL);
	parse_fails("{'received from':7}", NG_CMD_OFFER,
	    "[family, address]", NULL);
	parse_fails("{'address family':'IPX4'}", NG_CMD_OFFER,
	    "'address family' must be IP4 or IP6", NULL);
	parse_fails("{'media address':'not-an-ip'}", NG_CMD_OFFER,
	    "'media address': 'not-an-ip'", NULL);
	parse_fails("{'transport protocol':1}", NG_CMD_OFFER,
	    "'transport protocol' must be", NULL);
	parse_fails("{'codec':'strip'}", NG_CMD_OFFER,
	    "'codec' must be a dictionary", NULL);
	parse_fails("{'codec':{'strip':['']}}", NG_CMD_OFFER,
	    "empty codec name", NULL);
	parse_fails("{'codec':{'strip':['PC\x01M']}}", NG_CMD_OFFER,
	    "not printable", NULL);
	parse_fails("{'codec':{'strip':[['PCMA']]}}", NG_CMD_OFFER,
	    "must be a list of strings", NULL);
	parse_fails("{'codec':{'strip':['" "0123456789012345678901234"
	    "5678901234567890123456789']}}", NG_CMD_OFFER,
	    "longer than 47 bytes", NULL);
	parse_fails("{'supports':'load limit'}", NG_CMD_OFFER,
	    "'supports' must be a list", NULL);
	parse_fails("{'ICE':1}", NG_CMD_OFFER, "'ICE' must be", NULL);
	parse_fails("['ping']", NG_CMD_OFFER, "not a dictionary", NULL);
}

static void
test_too_many_codecs(void **state)
{
	char req[1024];
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(req, sizeof(req), "{'codec':{'strip':[");
	for (i = 0; i <= NGO_CODECS_MAX; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "%s'C%03d'",
		    i > 0 ? "," : "", i);
	snprintf(req + n, sizeof(req) - n, "]}}");
	parse_fails(req, NG_CMD_OFFER, "more than 16 codecs", NULL);
}

/* Names nobody knows are ignored, as rtpengine ignores them, and kept (a
 * few) for the log; a hostile name is shown printable. */
static void
test_unknown(void **state)
{
	struct ng_opts o;

	(void)state;
	parse_ok("{'flags':['frobb','fu\x01z','frob-2'],'zap':1,"
	    "'replace':['whatev'],'extra1':'extra'}", NG_CMD_OFFER, &o);
	assert_int_equal(o.nunknown, NGO_UNKNOWN_MAX);
	assert_string_equal(o.unknown[0], "flag frobb");
	assert_string_equal(o.unknown[1], "flag fu?z");
	assert_string_equal(o.unknown[2], "flag frob-2");
	assert_string_equal(o.unknown[3], "key zap");
}

/* rtpengine_manage() sends the offer's flags with the delete of a BYE:
 * a delete never fails over them, and reads only fatal and fast. */
static void
test_delete_never_refused(void **state)
{
	struct ng_opts o;

	(void)state;
	parse_ok("{'flags':['always-transcode','fatal','fast'],"
	    "'ICE':'force'}", NG_CMD_DELETE, &o);
	assert_true(o.fatal);
	assert_true(o.fast);
	assert_int_equal(o.ice, NGO_ICE_UNSET);
	parse_ok("{'flags':['fatal']}", NG_CMD_DELETE, &o);
	assert_true(o.fatal);
	assert_false(o.fast);
}

static void
test_unsupported_commands(void **state)
{
	(void)state;
	assert_non_null(ngopts_unsupported_command("start recording", 15));
	assert_non_null(ngopts_unsupported_command("block DTMF", 10));
	assert_non_null(ngopts_unsupported_command("play media", 10));
	assert_non_null(ngopts_unsupported_command("subscribe request", 17));
	assert_null(ngopts_unsupported_command("offer", 5));
	assert_null(ngopts_unsupported_command("fly", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_folding),
		cmocka_unit_test(test_both_spellings),
		cmocka_unit_test(test_prefixed_flags),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many_codecs),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_delete_never_refused),
		cmocka_unit_test(test_unsupported_commands),
	};

	return cmocka_run_group_tests_name("ngopts", tests, NULL, NULL);
}
