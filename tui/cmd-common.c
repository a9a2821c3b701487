/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared parts of the subcommands: errors in one shape, the history,
 * command-line values, and output for people.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "cmd-common.h"

/* Dates are English like every message of dermaroll (policy.c too), and do
 * not follow the locale, so that what a script reads is stable. */
static const char *const day_names[7] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
};
static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* ---- Errors ---- */

static void print_error(const char *name, const char *fmt, va_list ap)
	G_GNUC_PRINTF(2, 0);

static void print_error(const char *name, const char *fmt, va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);

	fprintf(stderr, "dermaroll %s: %s\n", name, msg);
}

int cmd_usage(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_error(name, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Run 'dermaroll %s --help' to see the options.\n", name);
	return CMD_EXIT_USAGE;
}

int cmd_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_error(name, fmt, ap);
	va_end(ap);
	return CMD_EXIT_FAILED;
}

int cmd_fail_error(const char *name, const GError *error)
{
	return cmd_fail(name, "%s", error->message);
}

GOptionContext *cmd_context(const char *parameters, const char *summary)
{
	GOptionContext *context = g_option_context_new(parameters);

	g_option_context_set_summary(context, summary);
	return context;
}

bool cmd_parse(const char *name, GOptionContext *context, int *argc,
	       char ***argv)
{
	g_autoptr(GError) error = NULL;

	if (g_option_context_parse(context, argc, argv, &error))
		return true;
	cmd_usage(name, "%s.", error->message);
	return false;
}

/* ---- The history ---- */

struct store *cmd_open_store(const char *path, bool create, GError **error)
{
	enum store_open_flags flags = STORE_OPEN_DEFAULT;
	g_autofree char *dir = NULL;
	struct stat st;

	if (create && path) {
		dir = g_path_get_dirname(path);
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND,
				    "The folder %s for the history does not exist. "
				    "Create it first, or give another --database path.",
				    dir);
			return NULL;
		}
	}
	if (create)
		flags |= STORE_OPEN_CREATE;
	return store_open(path, flags, error);
}

/* ---- Time ---- */

int64_t cmd_now_ms(void)
{
	const char *pinned = g_getenv(CMD_TEST_NOW_ENV);
	g_autoptr(GDateTime) dt = NULL;

	if (pinned && *pinned) {
		dt = g_date_time_new_from_iso8601(pinned, NULL);
		if (dt)
			return g_date_time_to_unix(dt) * 1000;
		g_warning("%s=%s is not an ISO 8601 time; using the system clock",
			  CMD_TEST_NOW_ENV, pinned);
	}
	return g_get_real_time() / 1000;
}

GTimeZone *cmd_local_tz(void)
{
	return g_time_zone_new_local();
}

int32_t cmd_utc_offset(GTimeZone *tz, int64_t ms)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(ms / 1000);
	g_autoptr(GDateTime) local = NULL;

	if (!dt)
		return 0;
	local = g_date_time_to_timezone(dt, tz);
	return local ? (int32_t)(g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND) : 0;
}

/* ---- Values from the command line ---- */

const struct zone_info *cmd_parse_zone(const char *name, const char *text)
{
	const struct zone_info *zone = zone_lookup(text);
	g_autoptr(GString) names = NULL;

	if (zone)
		return zone;

	names = g_string_new(NULL);
	for (unsigned int i = 0; i < ZONE_COUNT; i++) {
		const struct zone_info *z = zone_by_order(i);

		g_string_append_printf(names, "%s%s", i ? ", " : "", z->name);
	}
	cmd_usage(name, "'%s' is not a zone; the zones are %s.", text, names->str);
	return NULL;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return false;
	return true;
}

bool cmd_parse_date(const char *name, const char *option, const char *text,
		    GTimeZone *tz, bool next_day, int64_t *ms)
{
	g_autoptr(GDateTime) day = NULL;
	int y, m, d;

	if (strlen(text) != 10 || !digits(text, 4) || text[4] != '-' ||
	    !digits(text + 5, 2) || text[7] != '-' || !digits(text + 8, 2))
		goto bad;
	y = atoi(text);
	m = atoi(text + 5);
	d = atoi(text + 8);
	if (y < 1970 || !g_date_valid_dmy(d, m, y))
		goto bad;

	day = g_date_time_new(tz, y, m, d, 0, 0, 0);
	if (day && next_day) {
		GDateTime *next = g_date_time_add_days(day, 1);

		g_date_time_unref(day);
		day = next;
	}
	if (!day)
		goto bad;
	*ms = g_date_time_to_unix(day) * 1000;
	return true;

bad:
	cmd_usage(name, "%s '%s' is not a date; write it as YYYY-MM-DD, for example 2026-12-14.",
		  option, text);
	return false;
}

/* ---- Output ---- */

static GDateTime *local_time(int64_t ms, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(ms / 1000);

	return utc ? g_date_time_to_timezone(utc, tz) : NULL;
}

static char *format_day(GDateTime *dt, bool with_time)
{
	int dow = g_date_time_get_day_of_week(dt);	/* 1 = Monday */
	int month = g_date_time_get_month(dt);
	char *day = g_strdup_printf("%s %d %s %d", day_names[dow - 1],
				    g_date_time_get_day_of_month(dt),
				    month_names[month - 1],
				    g_date_time_get_year(dt));
	char *full;

	if (!with_time)
		return day;
	full = g_strdup_printf("%s %02d:%02d", day, g_date_time_get_hour(dt),
			       g_date_time_get_minute(dt));
	g_free(day);
	return full;
}

char *cmd_format_date(int64_t ms, GTimeZone *tz)
{
	g_autoptr(GDateTime) dt = local_time(ms, tz);

	return dt ? format_day(dt, false) : g_strdup("?");
}

char *cmd_format_date_time(int64_t ms, GTimeZone *tz)
{
	g_autoptr(GDateTime) dt = local_time(ms, tz);

	return dt ? format_day(dt, true) : g_strdup("?");
}

char *cmd_format_iso(int64_t ms, int32_t utc_offset_s)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_offset(utc_offset_s);
	g_autoptr(GDateTime) dt = local_time(ms, tz);

	if (!dt)
		return g_strdup("?");
	/* %:z is "+01:00"; UTC shows as "+00:00", never "Z", so that every
	 * line has the same shape. */
	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S%:z");
}

char *cmd_format_mm(unsigned int um)
{
	char *s = g_strdup_printf("%u.%03u", um / 1000, um % 1000);
	size_t n = strlen(s);

	/* Keep one decimal at least: "0.500" -> "0.5", "1.000" -> "1.0". */
	while (n > 0 && s[n - 1] == '0' && s[n - 2] != '.')
		s[--n] = '\0';
	return s;
}

char *cmd_format_newton(unsigned int cn)
{
	return g_strdup_printf("%u.%02u N", cn / 100, cn % 100);
}

/* ---- Rollers ---- */

struct store_roller *cmd_find_roller(GPtrArray *rollers, const char *text)
{
	g_autofree char *folded = NULL;

	for (guint i = 0; i < rollers->len; i++) {
		struct store_roller *r = rollers->pdata[i];

		if (g_strcmp0(r->serial, text) == 0)
			return r;
	}
	if (!g_utf8_validate(text, -1, NULL))
		return NULL;
	folded = g_utf8_casefold(text, -1);
	for (guint i = 0; i < rollers->len; i++) {
		struct store_roller *r = rollers->pdata[i];
		g_autofree char *name = r->name ? g_utf8_casefold(r->name, -1) : NULL;

		if (g_strcmp0(name, folded) == 0)
			return r;
	}
	return NULL;
}

char *cmd_roller_label(const struct store_roller *r)
{
	if (!r->name || !*r->name || g_strcmp0(r->name, r->serial) == 0)
		return g_strdup(r->serial);
	return g_strdup_printf("%s (%s)", r->name, r->serial);
}

int cmd_fail_no_roller(const char *name, GPtrArray *rollers, const char *text)
{
	g_autoptr(GString) known = g_string_new(NULL);

	for (guint i = 0; i < rollers->len; i++) {
		g_autofree char *label = cmd_roller_label(rollers->pdata[i]);

		g_string_append_printf(known, "%s%s", i ? ", " : "", label);
	}
	if (!rollers->len)
		return cmd_fail(name, "No roller is called '%s': the history knows no rollers yet.",
				text);
	return cmd_fail(name, "No roller is called '%s'; the rollers are %s.",
			text, known->str);
}

/* ---- Columns ---- */

struct cmd_table {
	unsigned int columns;
	guint32 right;
	GPtrArray *rows;	/* char ** of @columns strings */
};

struct cmd_table *cmd_table_new(unsigned int columns, guint32 right)
{
	struct cmd_table *t = g_new0(struct cmd_table, 1);

	t->columns = columns;
	t->right = right;
	t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	return t;
}

void cmd_table_add(struct cmd_table *t, ...)
{
	char **row = g_new0(char *, t->columns + 1);
	va_list ap;

	va_start(ap, t);
	for (unsigned int i = 0; i < t->columns; i++) {
		const char *cell = va_arg(ap, const char *);

		row[i] = g_strdup(cell ? cell : "");
	}
	va_end(ap);
	g_ptr_array_add(t->rows, row);
}

void cmd_table_print(struct cmd_table *t, unsigned int indent)
{
	g_autofree glong *width = g_new0(glong, t->columns);

	for (guint r = 0; r < t->rows->len; r++) {
		char **row = t->rows->pdata[r];

		for (unsigned int c = 0; c < t->columns; c++)
			width[c] = MAX(width[c], g_utf8_strlen(row[c], -1));
	}
	for (guint r = 0; r < t->rows->len; r++) {
		char **row = t->rows->pdata[r];
		g_autoptr(GString) line = g_string_new(NULL);

		g_string_append_printf(line, "%*s", (int)indent, "");
		for (unsigned int c = 0; c < t->columns; c++) {
			glong pad = width[c] - g_utf8_strlen(row[c], -1);

			if (c)
				g_string_append(line, "  ");
			if (t->right & (1u << c)) {
				for (glong i = 0; i < pad; i++)
					g_string_append_c(line, ' ');
				g_string_append(line, row[c]);
			} else {
				g_string_append(line, row[c]);
				for (glong i = 0; i < pad; i++)
					g_string_append_c(line, ' ');
			}
		}
		/* No trailing blanks from an empty last column. */
		while (line->len && line->str[line->len - 1] == ' ')
			g_string_truncate(line, line->len - 1);
		printf("%s\n", line->str);
	}
	cmd_table_free(t);
}

void cmd_table_free(struct cmd_table *t)
{
	g_ptr_array_unref(t->rows);
	g_free(t);
}
