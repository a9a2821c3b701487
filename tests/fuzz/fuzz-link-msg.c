// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: local link messages (PROTOCOL.md §10).  Each message
 * has exactly one encoding, so an accepted one re-encodes to the same bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/link-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[DP_MSG_MAX];
	struct dp_msg a, b;
	size_t n = 0;

	if (dp_msg_decode(data, size, &a))
		return 0;
	check(a.value_len <= DP_MAX_FRAME);
	check(!a.value_len || (a.value >= data && a.value + a.value_len == data + size));
	check(strlen(a.name) <= DP_NAME_MAX);
	check(dp_msg_encode(&a, out, sizeof(out), &n) == DP_OK);
	check(n == size && !memcmp(out, data, size));
	check(dp_msg_decode(out, n, &b) == DP_OK);
	check(a.op == b.op && a.chr == b.chr && a.status == b.status);
	check(a.value_len == b.value_len);
	check(!a.value_len || !memcmp(a.value, b.value, a.value_len));
	check(a.att_mtu == b.att_mtu && a.adv.flags == b.adv.flags &&
	      a.adv.proto_major == b.adv.proto_major);
	check(!strcmp(a.name, b.name));
	return 0;
}
