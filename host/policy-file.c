/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict key file reading with line numbers, for the safety table and plan
 * files (see policy-file.h for why GKeyFile alone is not enough).
 */
#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "policy.h"
#include "policy-file.h"

/* Both files are a few kilobytes; anything this large is not one of them. */
#define POLICY_FILE_MAX_BYTES (256 * 1024)

static char *line_key(const char *group, const char *key)
{
	return g_strconcat(group, "\x1f", key ? key : "", NULL);
}

unsigned int policy_file_line(const struct policy_file *pf, const char *group,
			      const char *key)
{
	g_autofree char *k = NULL;

	if (!pf->lines || !group)
		return 0;

	k = line_key(group, key);
	return GPOINTER_TO_UINT(g_hash_table_lookup(pf->lines, k));
}

static void set_error_va(GError **error, int code, const char *path,
			 unsigned int line, const char *group, const char *key,
			 const char *fmt, va_list ap) G_GNUC_PRINTF(7, 0);

static void set_error_va(GError **error, int code, const char *path,
			 unsigned int line, const char *group, const char *key,
			 const char *fmt, va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	GString *s = g_string_new(path);

	if (line)
		g_string_append_printf(s, ":%u", line);
	g_string_append(s, ": ");
	if (group) {
		g_string_append_printf(s, "[%s]", group);
		if (key)
			g_string_append_printf(s, " %s", key);
		g_string_append(s, ": ");
	}
	g_string_append(s, msg);

	g_set_error_literal(error, POLICY_ERROR, code, s->str);
	g_string_free(s, TRUE);
}

void policy_file_error(const struct policy_file *pf, GError **error, int code,
		       const char *group, const char *key, const char *fmt,
		       ...)
{
	unsigned int line = policy_file_line(pf, group, key);
	va_list ap;

	if (!line && key)
		line = policy_file_line(pf, group, NULL);

	va_start(ap, fmt);
	set_error_va(error, code, pf->path, line, group, key, fmt, ap);
	va_end(ap);
}

static void scan_error(GError **error, int code, const char *path,
		       unsigned int line, const char *fmt, ...)
	G_GNUC_PRINTF(5, 6);

/* A line of the file as a message may quote it: control characters shown
 * as '?', cut after 60 characters. */
static char *shown(const char *line)
{
	GString *s = g_string_new(NULL);
	unsigned int n = 0;

	for (const char *p = line; *p; p = g_utf8_next_char(p), n++) {
		gunichar c = g_utf8_get_char(p);

		if (n == 60) {
			g_string_append(s, "…");
			break;
		}
		if (g_unichar_iscntrl(c))
			g_string_append_c(s, '?');
		else
			g_string_append_unichar(s, c);
	}

	return g_string_free(s, FALSE);
}

static void scan_error(GError **error, int code, const char *path,
		       unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_va(error, code, path, line, NULL, NULL, fmt, ap);
	va_end(ap);
}

/*
 * One pass over the text before GKeyFile sees it: every line must be blank,
 * a comment, a [group] header or a key=value inside a group, and no group
 * or key may repeat.  Records the line of each group and key.
 */
static bool scan_lines(struct policy_file *pf, const char *text,
		       GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *group = NULL;

	for (unsigned int i = 0; lines[i]; i++) {
		unsigned int lineno = i + 1;
		char *line = g_strstrip(lines[i]);
		char *eq;

		if (!*line || *line == '#')
			continue;

		if (*line == '[') {
			size_t len = strlen(line);
			g_autofree char *k = NULL;

			if (line[len - 1] != ']' || len < 3 ||
			    strpbrk(line + 1, "[]") != line + len - 1) {
				g_autofree char *q = shown(line);

				scan_error(error, POLICY_ERROR_SYNTAX, pf->path,
					   lineno,
					   "“%s” is not a valid [group] line.",
					   q);
				return false;
			}
			g_free(group);
			group = g_strndup(line + 1, len - 2);
			k = line_key(group, NULL);
			if (g_hash_table_contains(pf->lines, k)) {
				scan_error(error, POLICY_ERROR_SYNTAX, pf->path,
					   lineno,
					   "the group [%s] appears twice.",
					   group);
				return false;
			}
			g_hash_table_insert(pf->lines, g_steal_pointer(&k),
					    GUINT_TO_POINTER(lineno));
			continue;
		}

		eq = strchr(line, '=');
		if (!eq || eq == line) {
			g_autofree char *q = shown(line);

			scan_error(error, POLICY_ERROR_SYNTAX, pf->path, lineno,
				   "“%s” is not a key = value line, a [group] or a # comment.",
				   q);
			return false;
		}
		if (!group) {
			scan_error(error, POLICY_ERROR_SYNTAX, pf->path, lineno,
				   "a key comes before the first [group].");
			return false;
		}

		*eq = '\0';
		g_strstrip(line);
		{
			g_autofree char *k = line_key(group, line);

			if (g_hash_table_contains(pf->lines, k)) {
				scan_error(error, POLICY_ERROR_SYNTAX, pf->path,
					   lineno,
					   "[%s] %s: the key appears twice in this group.",
					   group, line);
				return false;
			}
			g_hash_table_insert(pf->lines, g_steal_pointer(&k),
					    GUINT_TO_POINTER(lineno));
		}
	}

	return true;
}

static unsigned int line_of_offset(const char *text, size_t offset)
{
	unsigned int line = 1;

	for (size_t i = 0; i < offset; i++)
		if (text[i] == '\n')
			line++;

	return line;
}

bool policy_file_load(struct policy_file *pf, const char *path,
		      GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;
	const char *bad;
	size_t len;
	char *w;

	memset(pf, 0, sizeof(*pf));

	if (!g_file_get_contents(path, &text, &len, &local)) {
		g_set_error(error, POLICY_ERROR, POLICY_ERROR_READ,
			    "%s: cannot be read: %s", path, local->message);
		return false;
	}

	pf->path = g_strdup(path);

	if (len > POLICY_FILE_MAX_BYTES) {
		scan_error(error, POLICY_ERROR_SYNTAX, path, 0,
			   "the file is %zu bytes, more than the %u a table or plan may have.",
			   len, POLICY_FILE_MAX_BYTES);
		goto fail;
	}
	if (strlen(text) != len) {
		scan_error(error, POLICY_ERROR_SYNTAX, path,
			   line_of_offset(text, strlen(text)),
			   "the file contains a NUL byte, so it is not text.");
		goto fail;
	}
	if (!g_utf8_validate(text, (gssize)len, &bad)) {
		scan_error(error, POLICY_ERROR_SYNTAX, path,
			   line_of_offset(text, (size_t)(bad - text)),
			   "the text is not valid UTF-8.");
		goto fail;
	}

	/* CRLF files (edited on another system) read like LF ones. */
	w = text;
	for (const char *r = text; *r; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	len = (size_t)(w - text);

	pf->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	{
		g_autofree char *copy = g_strdup(text);

		if (!scan_lines(pf, copy, error))
			goto fail;
	}

	pf->kf = g_key_file_new();
	if (!g_key_file_load_from_data(pf->kf, text, len, G_KEY_FILE_NONE,
				       &local)) {
		scan_error(error, POLICY_ERROR_SYNTAX, path, 0,
			   "not a valid key file: %s", local->message);
		goto fail;
	}

	return true;

fail:
	policy_file_clear(pf);
	return false;
}

void policy_file_clear(struct policy_file *pf)
{
	g_clear_pointer(&pf->path, g_free);
	g_clear_pointer(&pf->kf, g_key_file_free);
	g_clear_pointer(&pf->lines, g_hash_table_destroy);
}

bool policy_file_has_group(const struct policy_file *pf, const char *group)
{
	return g_key_file_has_group(pf->kf, group);
}

bool policy_file_require_group(const struct policy_file *pf, const char *group,
			       GError **error)
{
	if (policy_file_has_group(pf, group))
		return true;

	scan_error(error, POLICY_ERROR_MISSING, pf->path, 0,
		   "the group [%s] is missing.", group);
	return false;
}

bool policy_file_check_keys(const struct policy_file *pf, const char *group,
			    const char *const *allowed, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(pf->kf, group, NULL, NULL);

	for (size_t i = 0; keys && keys[i]; i++) {
		if (!g_strv_contains(allowed, keys[i])) {
			policy_file_error(pf, error, POLICY_ERROR_UNKNOWN,
					  group, keys[i],
					  "this key is not part of the format.");
			return false;
		}
	}

	return true;
}

static char *get_raw(const struct policy_file *pf, const char *group,
		     const char *key, GError **error)
{
	char *value = g_key_file_get_value(pf->kf, group, key, NULL);

	if (value)
		return value;

	policy_file_error(pf, error, POLICY_ERROR_MISSING, group, NULL,
			  "the key “%s” is missing.", key);
	return NULL;
}

bool policy_file_get_text(const struct policy_file *pf, const char *group,
			  const char *key, size_t max_bytes, char **out,
			  GError **error)
{
	g_autofree char *raw = get_raw(pf, group, key, error);
	g_autofree char *text = NULL;

	if (!raw)
		return false;

	text = g_key_file_get_string(pf->kf, group, key, NULL);
	if (!text) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, group, key,
				  "“%s” has an invalid escape sequence.", raw);
		return false;
	}
	g_strstrip(text);
	if (!*text) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, group, key,
				  "the text is empty.");
		return false;
	}
	if (strlen(text) > max_bytes) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, group, key,
				  "the text is longer than %zu bytes.",
				  max_bytes);
		return false;
	}
	for (const char *p = text; *p; p = g_utf8_next_char(p)) {
		if (g_unichar_iscntrl(g_utf8_get_char(p))) {
			policy_file_error(pf, error, POLICY_ERROR_VALUE, group,
					  key,
					  "the text contains a control character.");
			return false;
		}
	}

	*out = g_steal_pointer(&text);
	return true;
}

/* Digits only, no sign, no spaces, at most 9 of them (fits 32 bits). */
static bool parse_digits(const char *s, size_t n, unsigned int *out)
{
	unsigned int v = 0;

	if (n == 0 || n > 9)
		return false;

	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}

	*out = v;
	return true;
}

bool policy_file_get_uint(const struct policy_file *pf, const char *group,
			  const char *key, unsigned int min, unsigned int max,
			  unsigned int *out, GError **error)
{
	g_autofree char *raw = get_raw(pf, group, key, error);
	unsigned int v;

	if (!raw)
		return false;

	if (!parse_digits(raw, strlen(raw), &v) || v < min || v > max) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, group, key,
				  "“%s” is not a whole number from %u to %u.",
				  raw, min, max);
		return false;
	}

	*out = v;
	return true;
}

/* @v / 10^@digits as a short decimal: 1500, 3 -> "1.5"; 100, 2 -> "1.0". */
static char *format_fixed(unsigned int v, unsigned int digits)
{
	unsigned int scale = 1;
	unsigned int frac;
	char buf[16];
	size_t n;

	for (unsigned int i = 0; i < digits; i++)
		scale *= 10;

	frac = v % scale;
	g_snprintf(buf, sizeof(buf), "%u.%0*u", v / scale, (int)digits, frac);
	n = strlen(buf);
	while (buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = '\0';

	return g_strdup(buf);
}

bool policy_file_get_decimal(const struct policy_file *pf, const char *group,
			     const char *key, unsigned int scale_digits,
			     unsigned int min, unsigned int max,
			     const char *unit, unsigned int *out,
			     GError **error)
{
	g_autofree char *raw = get_raw(pf, group, key, error);
	unsigned int whole = 0, frac = 0;
	size_t nfrac = 0;
	bool ok;
	const char *dot;

	if (!raw)
		return false;

	dot = strchr(raw, '.');
	if (dot) {
		nfrac = strlen(dot + 1);
		ok = parse_digits(raw, (size_t)(dot - raw), &whole) &&
		     whole <= 100000 && nfrac <= scale_digits &&
		     parse_digits(dot + 1, nfrac, &frac);
	} else {
		ok = parse_digits(raw, strlen(raw), &whole) && whole <= 100000;
	}

	if (ok) {
		unsigned int v = whole;

		for (unsigned int i = 0; i < scale_digits; i++)
			v *= 10;
		for (size_t i = nfrac; i < scale_digits; i++)
			frac *= 10;
		v += frac;

		if (v >= min && v <= max) {
			*out = v;
			return true;
		}
	}

	{
		g_autofree char *lo = format_fixed(min, scale_digits);
		g_autofree char *hi = format_fixed(max, scale_digits);

		policy_file_error(pf, error, POLICY_ERROR_VALUE, group, key,
				  "“%s” is not a number of %s from %s to %s (at most %u decimals).",
				  raw, unit, lo, hi, scale_digits);
	}
	return false;
}

bool policy_file_get_date(const struct policy_file *pf, const char *group,
			  const char *key, char **out, GError **error)
{
	g_autofree char *raw = get_raw(pf, group, key, error);
	unsigned int y, m, d;

	if (!raw)
		return false;

	if (strlen(raw) == 10 && raw[4] == '-' && raw[7] == '-' &&
	    parse_digits(raw, 4, &y) && parse_digits(raw + 5, 2, &m) &&
	    parse_digits(raw + 8, 2, &d) && y >= 1 && m >= 1 && m <= 12 &&
	    g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
		*out = g_steal_pointer(&raw);
		return true;
	}

	policy_file_error(pf, error, POLICY_ERROR_VALUE, group, key,
			  "“%s” is not a date written YYYY-MM-DD.", raw);
	return false;
}

bool policy_file_get_interval(const struct policy_file *pf, const char *group,
			      gint64 *seconds, bool *in_days, GError **error)
{
	bool days = g_key_file_has_key(pf->kf, group, "interval_days", NULL);
	bool hours = g_key_file_has_key(pf->kf, group, "interval_hours", NULL);
	unsigned int v;

	if (days && hours) {
		policy_file_error(pf, error, POLICY_ERROR_VALUE, group,
				  "interval_hours",
				  "give interval_days or interval_hours, not both.");
		return false;
	}
	if (!days && !hours) {
		policy_file_error(pf, error, POLICY_ERROR_MISSING, group, NULL,
				  "the key “interval_days” (or “interval_hours”) is missing.");
		return false;
	}

	if (days) {
		if (!policy_file_get_uint(pf, group, "interval_days", 1, 3650,
					  &v, error))
			return false;
		*seconds = (gint64)v * 86400;
	} else {
		if (!policy_file_get_uint(pf, group, "interval_hours", 1,
					  87600, &v, error))
			return false;
		*seconds = (gint64)v * 3600;
	}

	*in_days = days;
	return true;
}
