/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zone table (SAFETY.md "Zones", PROTOCOL.md §6 wire ids) and the pass
 * direction classes.
 */
#include <glib.h>

#include "zones.h"

static const struct {
	int id;
	const char *name;
	const char *label;
	const char *phrase;
	enum zone_class zclass;
	unsigned int order;
} expected_zones[] = {
	{ 1, "forehead", "Forehead", "forehead", ZONE_CLASS_FACE, 0 },
	{ 2, "left-cheek", "Left cheek", "left cheek", ZONE_CLASS_FACE, 1 },
	{ 3, "right-cheek", "Right cheek", "right cheek", ZONE_CLASS_FACE, 2 },
	{ 4, "nose", "Nose", "nose", ZONE_CLASS_FACE, 3 },
	{ 5, "chin", "Chin", "chin", ZONE_CLASS_FACE, 4 },
	{ 6, "upper-lip", "Upper lip", "upper lip", ZONE_CLASS_FACE, 5 },
	{ 7, "neck", "Neck", "neck", ZONE_CLASS_FACE, 6 },
	{ 8, "decolletage", "Décolletage", "décolletage", ZONE_CLASS_BODY, 7 },
	{ 9, "hands", "Hands", "hands", ZONE_CLASS_BODY, 8 },
	{ 10, "scalp", "Scalp", "scalp", ZONE_CLASS_SCALP, 9 },
};

static void test_table(void)
{
	g_assert_cmpint(ZONE_COUNT, ==, G_N_ELEMENTS(expected_zones));

	for (size_t i = 0; i < G_N_ELEMENTS(expected_zones); i++) {
		const struct zone_info *z = zone_get(expected_zones[i].id);

		g_assert_nonnull(z);
		g_assert_cmpint(z->id, ==, expected_zones[i].id);
		g_assert_cmpstr(z->name, ==, expected_zones[i].name);
		g_assert_cmpstr(z->label, ==, expected_zones[i].label);
		g_assert_cmpstr(z->phrase, ==, expected_zones[i].phrase);
		g_assert_cmpint(z->zclass, ==, expected_zones[i].zclass);
		g_assert_cmpuint(z->order, ==, expected_zones[i].order);
		g_assert_true(zone_by_order(z->order) == z);
	}
}

static void test_wire_ids(void)
{
	g_assert_cmpint(zone_get(DP_ZONE_FOREHEAD)->id, ==, DP_ZONE_FOREHEAD);
	g_assert_cmpint(zone_get(DP_ZONE_DECOLLETAGE)->id, ==,
			DP_ZONE_DECOLLETAGE);
	g_assert_cmpint(zone_get(DP_ZONE_SCALP)->id, ==, DP_ZONE_SCALP);
}

/* SAFETY.md "Guidance order on the face: forehead, cheeks, nose, chin,
 * upper lip, neck", then the body and the scalp. */
static void test_guidance_order(void)
{
	static const char *const order[] = {
		"forehead", "left-cheek", "right-cheek", "nose", "chin",
		"upper-lip", "neck", "decolletage", "hands", "scalp",
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(order); i++)
		g_assert_cmpstr(zone_by_order(i)->name, ==, order[i]);
	g_assert_null(zone_by_order(G_N_ELEMENTS(order)));
}

static void test_lookup(void)
{
	static const struct {
		const char *text;
		int id;		/* 0: no zone */
	} cases[] = {
		{ "forehead", 1 },
		{ "Forehead", 1 },
		{ "FOREHEAD", 1 },
		{ "  forehead\t", 1 },
		{ "left-cheek", 2 },
		{ "Left cheek", 2 },
		{ "left cheek", 2 },
		{ "LEFT_CHEEK", 2 },
		{ "Left Cheek", 2 },
		{ "right-cheek", 3 },
		{ "Upper lip", 6 },
		{ "upper-lip", 6 },
		{ "decolletage", 8 },
		{ "Décolletage", 8 },
		{ "DÉCOLLETAGE", 8 },
		{ "de\xcc\x81" "colletage", 8 },	/* NFD: e + combining acute */
		{ "hands", 9 },
		{ "Scalp", 10 },
		/* SAFETY.md: eyelids, lips and broken skin are never zones. */
		{ "eyelids", 0 },
		{ "lips", 0 },
		{ "cheek", 0 },
		{ "", 0 },
		{ "   ", 0 },
		{ "forehead2", 0 },
		{ "\xff\xfe", 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct zone_info *z = zone_lookup(cases[i].text);

		if (cases[i].id == 0) {
			g_assert_null(z);
		} else {
			g_assert_nonnull(z);
			g_assert_cmpint(z->id, ==, cases[i].id);
		}
	}
	g_assert_null(zone_lookup(NULL));
}

static void test_robustness_bad_ids(void)
{
	static const int bad[] = { -1, 0, 11, 255, G_MININT, G_MAXINT };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_null(zone_get(bad[i]));
}

static void test_classes(void)
{
	enum zone_class c;

	g_assert_cmpstr(zone_class_name(ZONE_CLASS_FACE), ==, "face");
	g_assert_cmpstr(zone_class_name(ZONE_CLASS_BODY), ==, "body");
	g_assert_cmpstr(zone_class_name(ZONE_CLASS_SCALP), ==, "scalp");
	g_assert_null(zone_class_name((enum zone_class)3));

	g_assert_true(zone_class_from_name("scalp", &c));
	g_assert_cmpint(c, ==, ZONE_CLASS_SCALP);
	g_assert_true(zone_class_from_name("body", &c));
	g_assert_cmpint(c, ==, ZONE_CLASS_BODY);
	g_assert_false(zone_class_from_name("Scalp", &c));
	g_assert_false(zone_class_from_name(NULL, &c));
}

/* Vertical within 22.5° of 0/180, horizontal within 22.5° of 90. */
static void test_classify_angle(void)
{
	static const struct {
		unsigned int from, to;
		enum zone_dir dir;
	} ranges[] = {
		{ 0, 22, ZONE_DIR_VERTICAL },
		{ 23, 67, ZONE_DIR_DIAGONAL },
		{ 68, 112, ZONE_DIR_HORIZONTAL },
		{ 113, 157, ZONE_DIR_DIAGONAL },
		{ 158, 179, ZONE_DIR_VERTICAL },
		/* A track has no sense: 180.. repeats 0.. */
		{ 180, 202, ZONE_DIR_VERTICAL },
		{ 203, 247, ZONE_DIR_DIAGONAL },
		{ 248, 292, ZONE_DIR_HORIZONTAL },
		{ 293, 337, ZONE_DIR_DIAGONAL },
		{ 338, 359, ZONE_DIR_VERTICAL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ranges); i++)
		for (unsigned int a = ranges[i].from; a <= ranges[i].to; a++)
			g_assert_cmpint(zone_classify_angle(a), ==,
					ranges[i].dir);

	/* 4294967295 % 180 == 75 */
	g_assert_cmpint(zone_classify_angle(G_MAXUINT), ==, ZONE_DIR_HORIZONTAL);
}

static void test_dir_names(void)
{
	g_assert_cmpstr(zone_dir_name(ZONE_DIR_HORIZONTAL), ==, "horizontal");
	g_assert_cmpstr(zone_dir_name(ZONE_DIR_VERTICAL), ==, "vertical");
	g_assert_cmpstr(zone_dir_name(ZONE_DIR_DIAGONAL), ==, "diagonal");
	g_assert_null(zone_dir_name((enum zone_dir)ZONE_DIR_COUNT));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/zones/table", test_table);
	g_test_add_func("/zones/wire-ids", test_wire_ids);
	g_test_add_func("/zones/guidance-order", test_guidance_order);
	g_test_add_func("/zones/lookup", test_lookup);
	g_test_add_func("/zones/robustness/bad-ids", test_robustness_bad_ids);
	g_test_add_func("/zones/classes", test_classes);
	g_test_add_func("/zones/classify-angle", test_classify_angle);
	g_test_add_func("/zones/dir-names", test_dir_names);

	return g_test_run();
}
