/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Byte vectors written as hex, so test data reads like PROTOCOL.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* Hex with optional spaces into out; returns the byte count. */
static inline size_t hex_to(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;

	for (const char *p = hex; *p; ) {
		if (*p == ' ') {
			p++;
			continue;
		}
		g_assert_true(g_ascii_isxdigit(p[0]) && g_ascii_isxdigit(p[1]));
		g_assert_cmpuint(n, <, cap);
		out[n++] = (uint8_t)(g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]));
		p += 2;
	}
	return n;
}
