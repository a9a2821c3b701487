// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the Current Time characteristic (0x2A2B) and the civil
 * date conversion.  A decoded value re-encodes to the same bytes; a real
 * date converts to device ms and back; and any input's first 8 bytes, read
 * as device ms, survive from_ms -> to_ms to within the 1/256 s rounding.
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

/* Same date and time, fractions256 equal or one step lower: to_ms floors
 * the 1/256 s to whole ms (PROTOCOL.md §2.2.3). */
static void check_same_time(const struct dp_current_time *a, const struct dp_current_time *b)
{
	check(a->year == b->year && a->month == b->month && a->day == b->day);
	check(a->hours == b->hours && a->minutes == b->minutes && a->seconds == b->seconds);
	check(b->fractions256 == a->fractions256 || b->fractions256 + 1 == a->fractions256);
}

static void check_ms(uint64_t ms)
{
	struct dp_current_time ct, ct2;
	uint64_t back = 0;

	dp_current_time_from_ms(ms, &ct);
	if (ct.year == 0) {
		/* Only past 9999-12-31 is the time "unknown". */
		check(ms >= 251824464000000ULL);
		return;
	}
	check(ct.year >= 2020 && ct.day_of_week >= 1 && ct.day_of_week <= 7);
	check(dp_current_time_to_ms(&ct, &back) == DP_OK);
	check(back <= ms && ms - back < 8);
	dp_current_time_from_ms(back, &ct2);
	check_same_time(&ct, &ct2);
	check(ct.day_of_week == ct2.day_of_week);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[DP_CURRENT_TIME_SIZE];
	struct dp_current_time a, b, c;
	uint64_t ms = 0;
	size_t n = 0;

	for (size_t i = 0; i < size && i < 8; i++)
		ms |= (uint64_t)data[i] << (8 * i);
	check_ms(ms);

	if (dp_current_time_decode(data, size, &a))
		return 0;
	check(dp_current_time_encode(&a, out, sizeof(out), &n) == DP_OK);
	check(n == size && !memcmp(out, data, n));
	check(dp_current_time_decode(out, n, &b) == DP_OK);
	check(!memcmp(&a, &b, sizeof(a)));

	if (dp_current_time_to_ms(&a, &ms))
		return 0;
	check_ms(ms);
	dp_current_time_from_ms(ms, &c);
	/* The date and time come back; the weekday is recomputed. */
	check_same_time(&a, &c);
	check(c.adjust_reason == 0 && c.day_of_week >= 1 && c.day_of_week <= 7);
	return 0;
}
