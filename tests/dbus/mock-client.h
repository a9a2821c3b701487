/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the dbus suite's C tests share: starting and stopping the stand-in
 * bluetoothd (mock-bluez.py, named by $MOCK_BLUEZ), the INFO frame it
 * serves, and running the main loop until something holds.
 */
#pragma once

#include <stdint.h>
#include <gio/gio.h>

/* Starts mock-bluez.py with args (NULL-terminated) and waits for READY. */
GSubprocess *mock_bluez_start(const char *const *args);
/* Kills the mock, if any, and waits for it. */
void mock_bluez_stop(GSubprocess **mock);

/* An INFO frame (PROTOCOL.md §5) as hex, for the mock's --info. */
char *mock_info_hex(const char *serial, uint16_t needle_um, uint16_t head_uses,
		    const char *head_serial);

/* A 20 ms ticker, so that MOCK_WAIT_UNTIL's blocking iterations wake up
 * to check the time; g_source_remove() it in the teardown. */
guint mock_ticker_start(void);
/* Runs whatever the main loop has ready, a few rounds. */
void mock_spin(void);

/* Runs the main loop until cond holds, failing after limit_s seconds. */
#define MOCK_WAIT_UNTIL(limit_s, cond) do {					\
	gint64 end_ = g_get_monotonic_time() + (limit_s) * G_USEC_PER_SEC;	\
	while (!(cond)) {							\
		g_assert_cmpint(g_get_monotonic_time(), <, end_);		\
		g_main_context_iteration(NULL, TRUE);				\
	}									\
} while (0)
