/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the subcommands share: option parsing with the same error shape,
 * opening the history, reading zones, dates and rollers from the command
 * line, and printing dates and aligned columns for people.
 *
 * Exit status of every subcommand: 0 done, 1 failed, 2 usage error.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "store.h"
#include "zones.h"

#define CMD_EXIT_OK 0
#define CMD_EXIT_FAILED 1
#define CMD_EXIT_USAGE 2

/* Pins the clock for the test suite: "YYYY-MM-DDTHH:MM:SSZ" (or with an
 * offset).  Everything else takes the system clock. */
#define CMD_TEST_NOW_ENV "DERMAROLL_TEST_NOW"

/* Parses @argv (argv[0] is the subcommand's name) with @context; on error
 * prints "dermaroll NAME: message" and the --help hint. */
bool cmd_parse(const char *name, GOptionContext *context, int *argc,
	       char ***argv);
/* An option context with the subcommand's parameter string and summary. */
GOptionContext *cmd_context(const char *parameters, const char *summary);

/* "dermaroll NAME: <sentence>" and the hint to run --help; returns 2. */
int cmd_usage(const char *name, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* "dermaroll NAME: <sentence>"; returns 1. */
int cmd_fail(const char *name, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
int cmd_fail_error(const char *name, const GError *error);

/*
 * Opens the history at @path (NULL: the default).  With @create, a missing
 * file is created; a missing folder only for the default path, so that a
 * mistyped --database never makes folders.
 */
struct store *cmd_open_store(const char *path, bool create, GError **error);

/* Now, in Unix ms (CMD_TEST_NOW_ENV aside, the system clock). */
int64_t cmd_now_ms(void);
/* The local time zone, for dates on the command line and in output. */
GTimeZone *cmd_local_tz(void);
/* The UTC offset in force at @ms in @tz, in seconds. */
int32_t cmd_utc_offset(GTimeZone *tz, int64_t ms);

/* A zone by name (zone_lookup()); on failure prints the valid names and
 * returns NULL. */
const struct zone_info *cmd_parse_zone(const char *name, const char *text);
/* "YYYY-MM-DD" to local midnight in @tz, as Unix ms; @next_day gives the
 * midnight that ends that day.  On failure prints the expected form. */
bool cmd_parse_date(const char *name, const char *option, const char *text,
		    GTimeZone *tz, bool next_day, int64_t *ms);

/* "Mon 14 Dec 2026", in @tz. */
char *cmd_format_date(int64_t ms, GTimeZone *tz);
/* "Mon 14 Dec 2026 19:05", in @tz. */
char *cmd_format_date_time(int64_t ms, GTimeZone *tz);
/* ISO 8601 with the offset: "2026-12-14T19:05:00+01:00". */
char *cmd_format_iso(int64_t ms, int32_t utc_offset_s);
/* Needle length for people: 500 -> "0.5", 250 -> "0.25". */
char *cmd_format_mm(unsigned int um);
/* Force for people: 250 cN -> "2.50 N". */
char *cmd_format_newton(unsigned int cn);

/*
 * The roller whose serial is @text (exactly), or else whose name is @text
 * (without case).  @rollers holds struct store_roller *.  NULL if none.
 */
struct store_roller *cmd_find_roller(GPtrArray *rollers, const char *text);
/* "No roller is called X. Known rollers: ..." for the user; returns 1. */
int cmd_fail_no_roller(const char *name, GPtrArray *rollers,
		       const char *text);
/* "Bathroom roller (DR-SIM-0001)", or the serial alone when it is the
 * name too. */
char *cmd_roller_label(const struct store_roller *r);

/* Aligned columns: add rows of strings, then print them padded by their
 * width in characters.  Right-aligned columns are named in @right as a
 * bit per column. */
struct cmd_table;
struct cmd_table *cmd_table_new(unsigned int columns, guint32 right);
/* Takes @columns strings, copied; NULL prints as "". */
void cmd_table_add(struct cmd_table *t, ...);
void cmd_table_free(struct cmd_table *t);
/* Prints every row with @indent spaces in front, then frees @t. */
void cmd_table_print(struct cmd_table *t, unsigned int indent);
