/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The user's settings (DESIGN.md "Configuration"): a GKeyFile at
 * $XDG_CONFIG_HOME/dermaroll/dermaroll.conf, written atomically with mode
 * 0600.  A file that cannot be read gives a sentence saying what is wrong
 * and the defaults for what was wrong; nothing in it can stop the program.
 *
 *	[routine]
 *	zones=forehead;left-cheek;right-cheek;nose;chin;upper-lip;neck
 *	auto-advance=true
 *	[display]
 *	colours=auto
 *	[bluetooth]
 *	adapter=hci0
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

enum settings_colours {
	SETTINGS_COLOURS_AUTO,       /* when the terminal has them and NO_COLOR is unset */
	SETTINGS_COLOURS_OFF,
};

struct settings {
	guint32 zones;               /* POLICY_ZONE_BIT()s treated; never 0 */
	bool auto_advance;           /* on to the next zone once one is done */
	enum settings_colours colours;
	char *adapter;               /* "hci0", or NULL: the first one */
};

/* The defaults: the face zones, moving on by itself, colours when the
 * terminal has them, the first adapter. */
void settings_init(struct settings *s);
void settings_clear(struct settings *s);
void settings_copy(struct settings *dst, const struct settings *src);

/* $XDG_CONFIG_HOME/dermaroll/dermaroll.conf */
char *settings_default_path(void);

/* Reads @path into @s, which starts from the defaults.  A missing file is
 * no error.  Otherwise FALSE with a sentence naming the file and what is
 * wrong; @s then holds the defaults for what was wrong and the file's
 * values for the rest. */
gboolean settings_load(struct settings *s, const char *path, GError **error);
/* Writes @s to @path atomically, mode 0600, making its folder (0700). */
gboolean settings_save(const struct settings *s, const char *path, GError **error);

/* Whether @name is an adapter name settings accept: "hci" and a number,
 * or "" for the first one. */
bool settings_adapter_valid(const char *name);
