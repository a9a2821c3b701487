/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll` with no command: the screens, with a roller.
 */
#pragma once

#include <glib.h>

struct app_options {
	gboolean simulate;           /* a virtual roller in this process */
	const char *socket;          /* or roller-sim on this socket */
	double speed;                /* of the virtual roller */
	/* Neither: the real history, and the paired roller over Bluetooth. */
};

/* Runs the screens until the user quits; returns the exit status. */
int app_run(const struct app_options *opts);
