/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The user's settings (settings.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "policy.h"
#include "settings.h"
#include "zones.h"

#define GROUP_ROUTINE "routine"
#define GROUP_DISPLAY "display"
#define GROUP_BLUETOOTH "bluetooth"

static guint32 face_zones(void)
{
	guint32 zones = 0;

	for (int z = 1; z <= ZONE_COUNT; z++)
		if (zone_get(z)->zclass == ZONE_CLASS_FACE)
			zones |= POLICY_ZONE_BIT(z);
	return zones;
}

void settings_init(struct settings *s)
{
	s->zones = face_zones();
	s->auto_advance = true;
	s->colours = SETTINGS_COLOURS_AUTO;
	s->adapter = NULL;
}

void settings_clear(struct settings *s)
{
	g_clear_pointer(&s->adapter, g_free);
}

void settings_copy(struct settings *dst, const struct settings *src)
{
	g_free(dst->adapter);
	*dst = *src;
	dst->adapter = g_strdup(src->adapter);
}

char *settings_default_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "dermaroll", "dermaroll.conf", NULL);
}

bool settings_adapter_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0)
		return true;
	if (n < 4 || n > 6 || strncmp(name, "hci", 3) != 0)
		return false;
	for (size_t i = 3; i < n; i++)
		if (!g_ascii_isdigit(name[i]))
			return false;
	return true;
}

/* The first problem found is the one told; the rest only get defaults. */
static void problem(GString *why, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void problem(GString *why, const char *fmt, ...)
{
	va_list ap;

	if (why->len)
		return;
	va_start(ap, fmt);
	g_string_append_vprintf(why, fmt, ap);
	va_end(ap);
}

static void load_zones(struct settings *s, GKeyFile *kf, GString *why)
{
	g_auto(GStrv) names = NULL;
	guint32 zones = 0;

	if (!g_key_file_has_key(kf, GROUP_ROUTINE, "zones", NULL))
		return;
	names = g_key_file_get_string_list(kf, GROUP_ROUTINE, "zones", NULL, NULL);
	for (size_t i = 0; names && names[i]; i++) {
		const struct zone_info *z = zone_lookup(names[i]);

		if (!z) {
			problem(why, "'%s' in zones is not a zone", names[i]);
			return;
		}
		zones |= POLICY_ZONE_BIT(z->id);
	}
	if (!zones) {
		problem(why, "zones names no zone");
		return;
	}
	s->zones = zones;
}

static void load_bool(bool *out, GKeyFile *kf, const char *group, const char *key,
		      GString *why)
{
	g_autoptr(GError) error = NULL;
	gboolean v;

	if (!g_key_file_has_key(kf, group, key, NULL))
		return;
	v = g_key_file_get_boolean(kf, group, key, &error);
	if (error) {
		problem(why, "%s must be true or false", key);
		return;
	}
	*out = v;
}

static void load_colours(struct settings *s, GKeyFile *kf, GString *why)
{
	g_autofree char *v = NULL;

	if (!g_key_file_has_key(kf, GROUP_DISPLAY, "colours", NULL))
		return;
	v = g_key_file_get_string(kf, GROUP_DISPLAY, "colours", NULL);
	if (g_strcmp0(v, "auto") == 0)
		s->colours = SETTINGS_COLOURS_AUTO;
	else if (g_strcmp0(v, "off") == 0)
		s->colours = SETTINGS_COLOURS_OFF;
	else
		problem(why, "colours must be auto or off");
}

static void load_adapter(struct settings *s, GKeyFile *kf, GString *why)
{
	g_autofree char *v = NULL;

	if (!g_key_file_has_key(kf, GROUP_BLUETOOTH, "adapter", NULL))
		return;
	v = g_key_file_get_string(kf, GROUP_BLUETOOTH, "adapter", NULL);
	if (!v || !settings_adapter_valid(v)) {
		problem(why, "adapter must be hci and a number (hci0), or empty for the first one");
		return;
	}
	g_free(s->adapter);
	s->adapter = *v ? g_strdup(v) : NULL;
}

gboolean settings_load(struct settings *s, const char *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	g_autoptr(GString) why = g_string_new(NULL);

	if (g_file_test(path, G_FILE_TEST_EXISTS) &&
	    !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "The settings in %s could not be read (it is not a file), so the "
			    "defaults are used.", path);
		return FALSE;
	}
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		if (local->domain == G_KEY_FILE_ERROR)
			g_set_error(error, G_KEY_FILE_ERROR, local->code,
				    "The settings in %s are not in the right form (%s), so the "
				    "defaults are used. Change a setting to write the file again.",
				    path, local->message);
		else
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "The settings in %s could not be read (%s), so the defaults "
				    "are used.", path, local->message);
		return FALSE;
	}
	load_zones(s, kf, why);
	load_bool(&s->auto_advance, kf, GROUP_ROUTINE, "auto-advance", why);
	load_colours(s, kf, why);
	load_adapter(s, kf, why);
	if (why->len) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "In the settings in %s, %s: the default is used for it.", path,
			    why->str);
		return FALSE;
	}
	return TRUE;
}

gboolean settings_save(const struct settings *s, const char *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *data = NULL;
	gsize len;

	for (unsigned int o = 0; o < ZONE_COUNT; o++) {
		const struct zone_info *z = zone_by_order(o);

		if (s->zones & POLICY_ZONE_BIT(z->id))
			g_ptr_array_add(names, (gpointer)z->name);
	}
	g_key_file_set_string_list(kf, GROUP_ROUTINE, "zones",
				   (const char *const *)names->pdata, names->len);
	g_key_file_set_boolean(kf, GROUP_ROUTINE, "auto-advance", s->auto_advance);
	g_key_file_set_string(kf, GROUP_DISPLAY, "colours",
			      s->colours == SETTINGS_COLOURS_OFF ? "off" : "auto");
	g_key_file_set_string(kf, GROUP_BLUETOOTH, "adapter", s->adapter ? s->adapter : "");
	data = g_key_file_to_data(kf, &len, NULL);
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "The settings could not be saved: the folder %s could not be "
			    "made (%s).", dir, g_strerror(err));
		return FALSE;
	}
	if (!g_file_set_contents_full(path, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
		g_prefix_error(error, "The settings could not be saved: ");
		return FALSE;
	}
	return TRUE;
}
