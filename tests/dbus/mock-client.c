/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <string.h>

#include "dp/codec.h"
#include "mock-client.h"

GSubprocess *mock_bluez_start(const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *line = NULL;
	GSubprocess *mock;

	g_ptr_array_add(argv, g_strdup("/usr/bin/python3"));
	g_ptr_array_add(argv, g_strdup(g_getenv("MOCK_BLUEZ")));
	for (; args && *args; args++)
		g_ptr_array_add(argv, g_strdup(*args));
	g_ptr_array_add(argv, NULL);
	mock = g_subprocess_newv((const char *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
	g_assert_no_error(error);
	/* A blocking read is fine here: the mock needs nothing from us. */
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(mock));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(line, ==, "READY");
	return mock;
}

void mock_bluez_stop(GSubprocess **mock)
{
	if (!*mock)
		return;
	g_subprocess_send_signal(*mock, SIGKILL);
	g_subprocess_wait(*mock, NULL, NULL);
	g_clear_object(mock);
}

char *mock_info_hex(const char *serial, uint16_t needle_um, uint16_t head_uses,
		    const char *head_serial)
{
	struct dp_info info = {
		.needle_um = needle_um, .head_uses = head_uses, .force_scale_pm = 1000,
		.ticks_per_10mm = 40, .warn_force_cn = 500, .clock_ms = 123456,
	};
	uint8_t buf[DP_MAX_FRAME];
	size_t len;
	GString *hex = g_string_new(NULL);

	strcpy(info.firmware, "1.0.0");
	g_strlcpy(info.serial, serial, sizeof(info.serial));
	g_strlcpy(info.head_serial, head_serial, sizeof(info.head_serial));
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &len), ==, DP_OK);
	for (size_t i = 0; i < len; i++)
		g_string_append_printf(hex, "%02x", buf[i]);
	return g_string_free(hex, FALSE);
}

static gboolean tick(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

guint mock_ticker_start(void)
{
	return g_timeout_add(20, tick, NULL);
}

void mock_spin(void)
{
	for (int i = 0; i < 20; i++)
		while (g_main_context_iteration(NULL, FALSE))
			;
}
