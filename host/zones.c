/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zone table: SAFETY.md "Zones" with the wire ids of PROTOCOL.md §6.
 */
#include <string.h>

#include <glib.h>

#include "zones.h"

/* Indexed by wire id - 1.  Guidance order on the face is SAFETY.md's
 * (forehead, cheeks, nose, chin, upper lip, neck); the body zones and the
 * scalp follow, as their own steps of a routine. */
static const struct zone_info zones[ZONE_COUNT] = {
	{ DP_ZONE_FOREHEAD, "forehead", "Forehead", "forehead",
	  ZONE_CLASS_FACE, 0 },
	{ DP_ZONE_LEFT_CHEEK, "left-cheek", "Left cheek", "left cheek",
	  ZONE_CLASS_FACE, 1 },
	{ DP_ZONE_RIGHT_CHEEK, "right-cheek", "Right cheek", "right cheek",
	  ZONE_CLASS_FACE, 2 },
	{ DP_ZONE_NOSE, "nose", "Nose", "nose", ZONE_CLASS_FACE, 3 },
	{ DP_ZONE_CHIN, "chin", "Chin", "chin", ZONE_CLASS_FACE, 4 },
	{ DP_ZONE_UPPER_LIP, "upper-lip", "Upper lip", "upper lip",
	  ZONE_CLASS_FACE, 5 },
	{ DP_ZONE_NECK, "neck", "Neck", "neck", ZONE_CLASS_FACE, 6 },
	{ DP_ZONE_DECOLLETAGE, "decolletage", "Décolletage", "décolletage",
	  ZONE_CLASS_BODY, 7 },
	{ DP_ZONE_HANDS, "hands", "Hands", "hands", ZONE_CLASS_BODY, 8 },
	{ DP_ZONE_SCALP, "scalp", "Scalp", "scalp", ZONE_CLASS_SCALP, 9 },
};

static const char *const class_names[ZONE_CLASS_COUNT] = {
	[ZONE_CLASS_FACE] = "face",
	[ZONE_CLASS_BODY] = "body",
	[ZONE_CLASS_SCALP] = "scalp",
};

static const char *const dir_names[ZONE_DIR_COUNT] = {
	[ZONE_DIR_HORIZONTAL] = "horizontal",
	[ZONE_DIR_VERTICAL] = "vertical",
	[ZONE_DIR_DIAGONAL] = "diagonal",
};

const struct zone_info *zone_get(int id)
{
	if (id < 1 || id > ZONE_COUNT)
		return NULL;

	return &zones[id - 1];
}

const struct zone_info *zone_by_order(unsigned int order)
{
	for (size_t i = 0; i < G_N_ELEMENTS(zones); i++)
		if (zones[i].order == order)
			return &zones[i];

	return NULL;
}

/* Case-folded, NFC, trimmed, with ' ' and '_' made '-'. */
static char *zone_key(const char *text)
{
	g_autofree char *trimmed = NULL;
	g_autofree char *nfc = NULL;
	char *folded;

	if (!text || !g_utf8_validate(text, -1, NULL))
		return NULL;

	trimmed = g_strstrip(g_strdup(text));
	nfc = g_utf8_normalize(trimmed, -1, G_NORMALIZE_NFC);
	if (!nfc)
		return NULL;

	folded = g_utf8_casefold(nfc, -1);
	for (char *p = folded; *p; p++)
		if (*p == ' ' || *p == '_')
			*p = '-';

	return folded;
}

const struct zone_info *zone_lookup(const char *name)
{
	g_autofree char *key = zone_key(name);

	if (!key || !*key)
		return NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(zones); i++) {
		g_autofree char *label = zone_key(zones[i].label);

		if (strcmp(key, zones[i].name) == 0 ||
		    g_strcmp0(key, label) == 0)
			return &zones[i];
	}

	return NULL;
}

const char *zone_class_name(enum zone_class zclass)
{
	if ((unsigned int)zclass >= ZONE_CLASS_COUNT)
		return NULL;

	return class_names[zclass];
}

bool zone_class_from_name(const char *name, enum zone_class *zclass)
{
	for (unsigned int i = 0; i < ZONE_CLASS_COUNT; i++) {
		if (g_strcmp0(name, class_names[i]) == 0) {
			*zclass = (enum zone_class)i;
			return true;
		}
	}

	return false;
}

enum zone_dir zone_classify_angle(unsigned int angle_deg)
{
	/* Work in half-degrees so that the 22.5° edges are exact. */
	unsigned int h = (angle_deg % 180) * 2;

	if (h <= 45 || h >= 360 - 45)
		return ZONE_DIR_VERTICAL;
	if (h >= 180 - 45 && h <= 180 + 45)
		return ZONE_DIR_HORIZONTAL;

	return ZONE_DIR_DIAGONAL;
}

const char *zone_dir_name(enum zone_dir dir)
{
	if ((unsigned int)dir >= ZONE_DIR_COUNT)
		return NULL;

	return dir_names[dir];
}
