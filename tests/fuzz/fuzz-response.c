// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: RESPONSE frames (PROTOCOL.md §8).  An accepted response
 * is re-encoded: same bytes (apart from the minor) and the same values.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[32];
	struct dp_response a, b;
	size_t n = 0;

	if (dp_response_decode(data, size, &a))
		return 0;
	check(a.result <= DP_RES_LOG_FULL);
	check(dp_response_encode(&a, out, sizeof(out), &n) == DP_OK);
	check(n == size && out[0] == DP_VERSION_BYTE && (data[0] >> 4) == DP_PROTO_MAJOR);
	check(!memcmp(out + 1, data + 1, size - 1));
	check(dp_response_decode(out, n, &b) == DP_OK);
	check(a.opcode == b.opcode && a.result == b.result);
	check(!memcmp(&a.u, &b.u, sizeof(a.u)));
	return 0;
}
