/*
 * Unit tests for app/clientip.c: lists of trusted proxies (addresses
 * and CIDR blocks, IPv4 and IPv6), reading one node of a forwarding
 * header, and the walk from the right of Forwarded and X-Forwarded-For
 * that finds the client behind trusted proxies without believing what
 * the client wrote itself.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clientip.h"

#define PROXIES	"127.0.0.1, 10.0.0.0/8, 2001:db8:ff::/48"

/* The client resolve finds, in a static buffer. */
static const char *
resolve(const char *trusted, const char *peer, const char *fwd,
    const char *xff)
{
	static char	 out[CLIENTIP_MAX];

	memset(out, 'x', sizeof(out));
	clientip_resolve(trusted, peer, fwd, xff, out, sizeof(out));
	return out;
}

static const char *
shown(const char *header)
{
	return header != NULL ? header : "(none)";
}

#define ck_client(trusted, peer, fwd, xff, want) do {			\
	const char *got_ = resolve(trusted, peer, fwd, xff);		\
	ck_assert_msg(strcmp(got_, want) == 0, "peer %s, Forwarded %s, "\
	    "X-Forwarded-For %s: got \"%s\", want \"%s\"", peer,	\
	    shown(fwd), shown(xff), got_, want);			\
} while (0)

START_TEST(list_valid_accepts_addresses_and_cidrs_of_both_families)
{
	ck_assert(clientip_list_valid(""));
	ck_assert(clientip_list_valid(PROXIES));
	ck_assert(clientip_list_valid(" ::1 ,192.168.0.0/16,"));
	ck_assert(clientip_list_valid("0.0.0.0/0, ::/0"));
	ck_assert(!clientip_list_valid("10.0.0.0/33"));
	ck_assert(!clientip_list_valid("::/129"));
	ck_assert(!clientip_list_valid("10.0.0.0/"));
	ck_assert(!clientip_list_valid("10.0.0.0/-1"));
	ck_assert(!clientip_list_valid("10.0.0.0/8x"));
	ck_assert(!clientip_list_valid("localhost"));
	ck_assert(!clientip_list_valid("127.0.0.1, proxy.example"));
	ck_assert(!clientip_list_valid("10.0.0.256"));
}
END_TEST

START_TEST(in_list_matches_prefixes_and_nothing_else)
{
	ck_assert(clientip_in_list(PROXIES, "127.0.0.1"));
	ck_assert(!clientip_in_list(PROXIES, "127.0.0.2"));
	ck_assert(clientip_in_list(PROXIES, "10.255.1.2"));
	ck_assert(!clientip_in_list(PROXIES, "11.0.0.1"));
	ck_assert(clientip_in_list(PROXIES, "2001:db8:ff:1::5"));
	ck_assert(!clientip_in_list(PROXIES, "2001:db8:fe::5"));
	/* An IPv4-mapped IPv6 peer is its IPv4 address. */
	ck_assert(clientip_in_list(PROXIES, "::ffff:10.1.2.3"));
	ck_assert(!clientip_in_list(PROXIES, "::1"));
	ck_assert(!clientip_in_list(PROXIES, "unknown"));
	ck_assert(!clientip_in_list(PROXIES, ""));
	ck_assert(clientip_in_list("192.168.1.128/25", "192.168.1.200"));
	ck_assert(!clientip_in_list("192.168.1.128/25", "192.168.1.127"));
	ck_assert(clientip_in_list("0.0.0.0/0", "203.0.113.9"));
}
END_TEST

START_TEST(normalize_reads_ports_brackets_and_refuses_names)
{
	char	 out[CLIENTIP_MAX];

#define NORM(s) clientip_normalize(s, strlen(s), out, sizeof(out))
	ck_assert(NORM("192.0.2.1") && strcmp(out, "192.0.2.1") == 0);
	ck_assert(NORM(" 192.0.2.1:8080 ") && strcmp(out, "192.0.2.1") == 0);
	ck_assert(NORM("[2001:DB8::1]") && strcmp(out, "2001:db8::1") == 0);
	ck_assert(NORM("[2001:db8::1]:4711") &&
	    strcmp(out, "2001:db8::1") == 0);
	ck_assert(NORM("2001:db8:0:0::1") && strcmp(out, "2001:db8::1") == 0);
	ck_assert(NORM("192.0.2.1:_port") && strcmp(out, "192.0.2.1") == 0);
	ck_assert(NORM("::ffff:192.0.2.7") && strcmp(out, "192.0.2.7") == 0);
	ck_assert(!NORM("unknown"));
	ck_assert(!NORM("_hidden"));
	ck_assert(!NORM(""));
	ck_assert(!NORM("[192.0.2.1]"));
	ck_assert(!NORM("[2001:db8::1"));
	ck_assert(!NORM("[2001:db8::1]x"));
	ck_assert(!NORM("[2001:db8::1]:"));
	ck_assert(!NORM("192.0.2.1:80:80"));
	ck_assert(!NORM("192.0.2.1:8 0"));
	ck_assert(!NORM("192.0.2"));
	ck_assert(!NORM("fe80::1%eth0"));
	ck_assert(!NORM("1.2.3.4.example.com"));
#undef NORM
}
END_TEST

START_TEST(untrusted_peer_is_the_client_whatever_the_headers_say)
{
	ck_client("", "203.0.113.5", "for=198.51.100.1", "198.51.100.2",
	    "203.0.113.5");
	ck_client(PROXIES, "203.0.113.5", "for=198.51.100.1",
	    "198.51.100.2", "203.0.113.5");
	ck_client(PROXIES, "::FFFF:203.0.113.5", NULL, "10.0.0.1",
	    "203.0.113.5");
	/* A peer that is no address at all is kept as the server gave it. */
	ck_client(PROXIES, "/run/sock", NULL, "198.51.100.2", "/run/sock");
	ck_client(PROXIES, "", NULL, "198.51.100.2", "");
}
END_TEST

START_TEST(trusted_peer_without_headers_is_the_client)
{
	ck_client(PROXIES, "127.0.0.1", NULL, NULL, "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "", "", "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "  ", NULL, "127.0.0.1");
}
END_TEST

START_TEST(xff_walk_skips_trusted_hops_from_the_right)
{
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7", "198.51.100.7");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7, 10.1.1.1",
	    "198.51.100.7");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7,10.1.1.1 , "
	    "10.2.2.2", "198.51.100.7");
	/* Everything trusted: the left-most hop is as far as it goes. */
	ck_client(PROXIES, "127.0.0.1", NULL, "10.3.3.3, 10.1.1.1",
	    "10.3.3.3");
	ck_client(PROXIES, "127.0.0.1", NULL, "2001:db8::9",
	    "2001:db8::9");
	ck_client(PROXIES, "127.0.0.1", NULL, "[2001:db8::9]:1234, "
	    "2001:db8:ff::2", "2001:db8::9");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7:5555",
	    "198.51.100.7");
}
END_TEST

START_TEST(xff_spoofed_left_entries_are_not_believed)
{
	/* The client wrote "1.1.1.1, 10.9.9.9"; the proxy appended. */
	ck_client(PROXIES, "127.0.0.1", NULL,
	    "1.1.1.1, 10.9.9.9, 198.51.100.7", "198.51.100.7");
	ck_client(PROXIES, "127.0.0.1", NULL, "127.0.0.1, 198.51.100.7",
	    "198.51.100.7");
}
END_TEST

START_TEST(xff_unnamed_or_garbage_hop_stops_at_the_proxy_reporting_it)
{
	ck_client(PROXIES, "127.0.0.1", NULL, "unknown", "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7, garbage",
	    "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7, junk, 10.1.1.1",
	    "10.1.1.1");
	ck_client(PROXIES, "127.0.0.1", NULL, "\"198.51.100.7\"",
	    "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.7 10.1.1.1",
	    "127.0.0.1");
}
END_TEST

START_TEST(forwarded_for_is_read_with_quotes_ports_and_other_params)
{
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1", NULL,
	    "198.51.100.1");
	ck_client(PROXIES, "127.0.0.1", "For=\"[2001:db8:cafe::17]:4711\"",
	    NULL, "2001:db8:cafe::17");
	ck_client(PROXIES, "127.0.0.1", "for=192.0.2.60;proto=http;"
	    "by=203.0.113.43", NULL, "192.0.2.60");
	ck_client(PROXIES, "127.0.0.1", "proto=https; for=\"192.0.2.60:80\"",
	    NULL, "192.0.2.60");
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1, for=10.0.0.5",
	    NULL, "198.51.100.1");
	ck_client(PROXIES, "127.0.0.1", "for=\"[2001:db8::1]\", "
	    "for=\"[2001:db8:ff::1]\"", NULL, "2001:db8::1");
	/* A quoted comma does not split the list. */
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1;x=\"a,b\"", NULL,
	    "198.51.100.1");
}
END_TEST

START_TEST(forwarded_is_preferred_to_xff)
{
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1", "198.51.100.2",
	    "198.51.100.1");
	ck_client(PROXIES, "127.0.0.1", NULL, "198.51.100.2",
	    "198.51.100.2");
}
END_TEST

START_TEST(forwarded_spoofed_left_elements_are_not_believed)
{
	ck_client(PROXIES, "127.0.0.1", "for=1.1.1.1, for=10.7.7.7, "
	    "for=198.51.100.3", NULL, "198.51.100.3");
	ck_client(PROXIES, "127.0.0.1", "for=127.0.0.1, for=198.51.100.3",
	    NULL, "198.51.100.3");
}
END_TEST

START_TEST(forwarded_obfuscated_or_unknown_stops_the_walk)
{
	ck_client(PROXIES, "127.0.0.1", "for=unknown", NULL, "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "for=_hidden", NULL, "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1, for=_gateway, "
	    "for=10.0.0.8", NULL, "10.0.0.8");
	/* An element without "for" names no hop either. */
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1, proto=https",
	    NULL, "127.0.0.1");
}
END_TEST

START_TEST(forwarded_malformed_is_not_guessed_at)
{
	/* An open quote swallows what follows: nothing to the right holds. */
	ck_client(PROXIES, "127.0.0.1", "for=\"198.51.100.1, for=10.0.0.1",
	    NULL, "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1, garbage", NULL,
	    "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "for=198.51.100.1 for=1.2.3.4", NULL,
	    "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "for=", NULL, "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "=198.51.100.1", NULL, "127.0.0.1");
	ck_client(PROXIES, "127.0.0.1", "for=[2001:db8::1]", NULL,
	    "2001:db8::1");
}
END_TEST

START_TEST(long_headers_keep_the_right_most_hops)
{
	char	 xff[4096];
	size_t	 i;

	/* A client padding the header cannot push the proxies' part out. */
	xff[0] = '\0';
	for (i = 0; i < 100; i++)
		strcat(xff, "10.0.0.1, ");
	strcat(xff, "198.51.100.9, 10.0.0.2");
	ck_client(PROXIES, "127.0.0.1", NULL, xff, "198.51.100.9");
	ck_client(PROXIES, "127.0.0.1", NULL, "10.0.0.1, 10.0.0.1, "
	    "10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, "
	    "10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, "
	    "10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, "
	    "10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, "
	    "10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, 10.0.0.1, "
	    "10.0.0.1, 10.0.0.3", "10.0.0.1");
}
END_TEST

static Suite *
clientip_suite(void)
{
	Suite	*s = suite_create("clientip");
	TCase	*tc = tcase_create("clientip");

	tcase_add_test(tc,
	    list_valid_accepts_addresses_and_cidrs_of_both_families);
	tcase_add_test(tc, in_list_matches_prefixes_and_nothing_else);
	tcase_add_test(tc, normalize_reads_ports_brackets_and_refuses_names);
	tcase_add_test(tc,
	    untrusted_peer_is_the_client_whatever_the_headers_say);
	tcase_add_test(tc, trusted_peer_without_headers_is_the_client);
	tcase_add_test(tc, xff_walk_skips_trusted_hops_from_the_right);
	tcase_add_test(tc, xff_spoofed_left_entries_are_not_believed);
	tcase_add_test(tc,
	    xff_unnamed_or_garbage_hop_stops_at_the_proxy_reporting_it);
	tcase_add_test(tc,
	    forwarded_for_is_read_with_quotes_ports_and_other_params);
	tcase_add_test(tc, forwarded_is_preferred_to_xff);
	tcase_add_test(tc, forwarded_spoofed_left_elements_are_not_believed);
	tcase_add_test(tc, forwarded_obfuscated_or_unknown_stops_the_walk);
	tcase_add_test(tc, forwarded_malformed_is_not_guessed_at);
	tcase_add_test(tc, long_headers_keep_the_right_most_hops);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(clientip_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
