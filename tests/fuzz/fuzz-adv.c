// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: advertising service data (PROTOCOL.md §9).  Extra bytes
 * are ignored, so the re-encoded form is the first two bytes.
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
	uint8_t out[DP_ADV_SIZE];
	struct dp_adv a, b;
	size_t n = 0;

	if (dp_adv_decode(data, size, &a))
		return 0;
	check(a.proto_major >= 1);
	check(dp_adv_encode(&a, out, sizeof(out), &n) == DP_OK);
	check(n == DP_ADV_SIZE && size >= n && !memcmp(out, data, n));
	check(dp_adv_decode(out, n, &b) == DP_OK);
	check(a.flags == b.flags && a.proto_major == b.proto_major);
	return 0;
}
