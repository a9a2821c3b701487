// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: COMMAND frames (PROTOCOL.md §8).  An accepted command
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
	struct dp_command a, b;
	size_t n = 0;

	if (dp_command_decode(data, size, &a))
		return 0;
	check(dp_command_encode(&a, out, sizeof(out), &n) == DP_OK);
	/* Parameter sizes are exact at every minor: only byte 0 may differ. */
	check(n == size && out[0] == DP_VERSION_BYTE && (data[0] >> 4) == DP_PROTO_MAJOR);
	check(!memcmp(out + 1, data + 1, size - 1));
	check(dp_command_decode(out, n, &b) == DP_OK);
	check(a.opcode == b.opcode);
	check(!memcmp(&a.u, &b.u, sizeof(a.u)));
	return 0;
}
