// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: INFO frames (PROTOCOL.md §7).  An accepted frame is
 * re-encoded and must decode to the same values; at our own minor the bytes
 * must be the same too.
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
	uint8_t out[128];
	struct dp_info a, b;
	struct dp_header hdr;
	size_t n = 0;

	if (dp_info_decode(data, size, &a))
		return 0;
	check(dp_header_decode(data, size, &hdr) == DP_OK);
	check(strlen(a.firmware) >= 1 && strlen(a.serial) >= 1 && strlen(a.head_serial) >= 1);
	check(dp_info_encode(&a, out, sizeof(out), &n) == DP_OK);
	check(n <= size);
	if (hdr.minor == DP_PROTO_MINOR)
		check(n == size && !memcmp(out, data, size));
	check(dp_info_decode(out, n, &b) == DP_OK);
	check(!strcmp(a.firmware, b.firmware));
	check(!strcmp(a.serial, b.serial));
	check(a.needle_um == b.needle_um);
	check(!strcmp(a.head_serial, b.head_serial));
	check(a.head_uses == b.head_uses);
	check(a.head_fitted_ms == b.head_fitted_ms);
	check(a.force_offset_cn == b.force_offset_cn);
	check(a.force_scale_pm == b.force_scale_pm);
	check(a.ticks_per_10mm == b.ticks_per_10mm);
	check(a.warn_force_cn == b.warn_force_cn);
	check(a.clock_ms == b.clock_ms);
	check(a.clock_flags == b.clock_flags);
	return 0;
}
