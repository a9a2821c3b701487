/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks of a history file against what the roller sent (tap.h), read with
 * SQLite directly rather than through the store under test.
 */
#pragma once

#include <glib.h>

struct check_result {
	guint passes;                /* rows in passes */
	guint live, offline;         /* by source */
	guint unassigned;            /* session_id IS NULL */
	guint open_sessions;         /* sessions still open */
	guint sessions;
};

/*
 * Asserts that @db holds each pass of @sent (struct dp_pass, by seq, as
 * tap_passes() gives) exactly once with every figure the roller sent, and
 * nothing else, and that @sent is seq 1..n without a hole.
 */
void check_store(const char *db, const GArray *sent, struct check_result *out);
