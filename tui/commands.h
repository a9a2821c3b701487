/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subcommands of `dermaroll`.  One list makes the dispatch table and
 * the command list of `dermaroll --help` (dermaroll.c).  Each takes the
 * arguments after `dermaroll`, so argv[0] is its own name, and returns the
 * exit status: 0 done, 1 failed, 2 usage error.
 */
#pragma once

#define DERMAROLL_COMMANDS(X) \
	X(status,  "Next allowed date per zone, head wear and the reminders due") \
	X(history, "Sessions and their passes, filtered by date, zone or roller") \
	X(rollers, "List rollers; rename, forget, or record a new head") \
	X(journal, "Log a skin reaction, or list the reactions logged") \
	X(session, "Run a whole routine without the screens, from a routine file") \
	X(scan,    "Look for rollers nearby: signal, ready to pair or paired") \
	X(pair,    "Pair a roller in pairing mode and record it in the history")

#define DERMAROLL_COMMAND_PROTO(name, summary) \
	int cmd_##name(int argc, char **argv);
DERMAROLL_COMMANDS(DERMAROLL_COMMAND_PROTO)
#undef DERMAROLL_COMMAND_PROTO
