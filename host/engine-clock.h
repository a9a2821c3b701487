/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wall clock the engine and sync read, injected so that tests pin it
 * (as tig's TEST_TIME_NOW does).  Nothing in the engine calls
 * g_get_real_time() directly.
 */
#pragma once

#include <stdint.h>

struct engine_clock {
	/* Now, in Unix milliseconds (UTC). */
	int64_t (*now_ms)(void *user_data);
	/* The UTC offset in seconds in force at @at_ms, for the sessions'
	 * local times.  May be NULL: UTC. */
	int32_t (*utc_offset_s)(int64_t at_ms, void *user_data);
	void *user_data;
};

/* The system clock and the local time zone. */
const struct engine_clock *engine_clock_system(void);

static inline int64_t engine_clock_now(const struct engine_clock *clock)
{
	return clock->now_ms(clock->user_data);
}

static inline int32_t engine_clock_offset(const struct engine_clock *clock,
					  int64_t at_ms)
{
	return clock->utc_offset_s ? clock->utc_offset_s(at_ms, clock->user_data) : 0;
}
