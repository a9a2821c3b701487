// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Roller codec (PROTOCOL.md §3–§9): exact byte layouts written out by hand,
 * round trips, and every error code reached by a malformed input.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "dp/codec.h"
#include "test-hex.h"

/* ---- Helpers ---- */

/* A frame with version byte @ver, type @type and a body in hex; the length
 * field is computed. */
static size_t frame_hex(uint8_t *out, size_t cap, uint8_t ver, uint8_t type, const char *body)
{
	size_t n;

	g_assert_cmpuint(cap, >=, DP_HEADER_SIZE);
	n = DP_HEADER_SIZE + hex_to(out + DP_HEADER_SIZE, cap - DP_HEADER_SIZE, body);
	out[0] = ver;
	out[1] = (uint8_t)n;
	out[2] = (uint8_t)(n >> 8);
	out[3] = type;
	return n;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const char *hex)
{
	uint8_t want[1024];
	size_t n = hex_to(want, sizeof(want), hex);

	g_assert_cmpmem(got, got_len, want, n);
}

static void put_le(uint8_t *p, unsigned int width, uint64_t v)
{
	for (unsigned int i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Stores @v into a host struct member of @width bytes at @off. */
static void put_member(void *base, size_t off, unsigned int width, uint64_t v)
{
	uint8_t *p = (uint8_t *)base + off;
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (width) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	case 8:
		memcpy(p, &v, 8);
		break;
	default:
		g_assert_not_reached();
	}
}

/* ---- Sample values: every multi-byte field has distinct bytes so the
 * vectors below catch a swapped byte order or field order. ---- */

#define STREAM_HEAD_HEX "07000000 0200000001000000"
#define FORCE_BODY_HEX "05 03 6400 3412 ffff"
#define PASS_BODY_HEX "0d0c0b0a 0807060504030201 dc05 2301 02 b3 fa00 0103 0001 0302 0a 0f"
#define STATUS_BODY_HEX "01 57 12 0201 00010000 02030000 0500 0302 04"
#define LOG_END_BODY_HEX "05000000 00000100 0300"

static const struct dp_stream_head sample_head = { .seq = 7, .time_ms = 0x100000002ULL };

static void sample_force(struct dp_force *f)
{
	memset(f, 0, sizeof(*f));
	f->period_ms = 5;
	f->count = 3;
	f->cn[0] = 100;
	f->cn[1] = 0x1234;
	f->cn[2] = 0xffff;
}

static const struct dp_pass sample_pass = {
	.seq = 0x0a0b0c0d,
	.start_ms = 0x0102030405060708ULL,
	.duration_ms = 1500,
	.distance_mm = 0x0123,
	.direction = DP_DIR_BACKWARD,
	.angle_deg = 179,
	.mean_force_cn = 250,
	.peak_force_cn = 0x0301,
	.over_warn_ms = 0x0100,
	.session = 0x0203,
	.zone = DP_ZONE_SCALP,
	.flags = DP_PASS_FLAGS_ALL,
};

static const struct dp_status sample_status = {
	.state = DP_STATE_SESSION,
	.battery_pct = 87,
	.flags = DP_STATUS_CLOCK_SET | DP_STATUS_CONTACT,
	.log_count = 0x0102,
	.log_first_seq = 0x100,
	.log_next_seq = 0x302,
	.log_dropped = 5,
	.session = 0x0203,
	.zone = DP_ZONE_NOSE,
};

static const struct dp_log_end sample_log_end = {
	.first_seq = 5, .next_seq = 0x10000, .sent = 3,
};

static void sample_info(struct dp_info *info)
{
	memset(info, 0, sizeof(*info));
	strcpy(info->firmware, "1.0.0");
	strcpy(info->serial, "DR-000123");
	info->needle_um = 500;
	strcpy(info->head_serial, "H-42");
	info->head_uses = 0x0102;
	info->head_fitted_ms = 0x0102030405060708ULL;
	info->force_offset_cn = -2;
	info->force_scale_pm = 1000;
	info->ticks_per_10mm = 40;
	info->warn_force_cn = 500;
	info->clock_ms = 0x1122334455667788ULL;
	info->clock_flags = DP_STATUS_CLOCK_SET;
}

#define INFO_HEX "10 3600 01 05 312e302e30 09 44522d303030313233 f401 04 482d3432 0201 " \
	"0807060504030201 feff e803 2800 f401 8877665544332211 02"

static void assert_pass_eq(const struct dp_pass *a, const struct dp_pass *b)
{
	g_assert_cmpuint(a->seq, ==, b->seq);
	g_assert_cmpuint(a->start_ms, ==, b->start_ms);
	g_assert_cmpuint(a->duration_ms, ==, b->duration_ms);
	g_assert_cmpuint(a->distance_mm, ==, b->distance_mm);
	g_assert_cmpuint(a->direction, ==, b->direction);
	g_assert_cmpuint(a->angle_deg, ==, b->angle_deg);
	g_assert_cmpuint(a->mean_force_cn, ==, b->mean_force_cn);
	g_assert_cmpuint(a->peak_force_cn, ==, b->peak_force_cn);
	g_assert_cmpuint(a->over_warn_ms, ==, b->over_warn_ms);
	g_assert_cmpuint(a->session, ==, b->session);
	g_assert_cmpuint(a->zone, ==, b->zone);
	g_assert_cmpuint(a->flags, ==, b->flags);
}

static void assert_status_eq(const struct dp_status *a, const struct dp_status *b)
{
	g_assert_cmpuint(a->state, ==, b->state);
	g_assert_cmpuint(a->battery_pct, ==, b->battery_pct);
	g_assert_cmpuint(a->flags, ==, b->flags);
	g_assert_cmpuint(a->log_count, ==, b->log_count);
	g_assert_cmpuint(a->log_first_seq, ==, b->log_first_seq);
	g_assert_cmpuint(a->log_next_seq, ==, b->log_next_seq);
	g_assert_cmpuint(a->log_dropped, ==, b->log_dropped);
	g_assert_cmpuint(a->session, ==, b->session);
	g_assert_cmpuint(a->zone, ==, b->zone);
}

static void assert_force_eq(const struct dp_force *a, const struct dp_force *b)
{
	g_assert_cmpuint(a->period_ms, ==, b->period_ms);
	g_assert_cmpuint(a->count, ==, b->count);
	g_assert_cmpmem(a->cn, a->count * sizeof(a->cn[0]), b->cn, b->count * sizeof(b->cn[0]));
}

static void assert_info_eq(const struct dp_info *a, const struct dp_info *b)
{
	g_assert_cmpstr(a->firmware, ==, b->firmware);
	g_assert_cmpstr(a->serial, ==, b->serial);
	g_assert_cmpuint(a->needle_um, ==, b->needle_um);
	g_assert_cmpstr(a->head_serial, ==, b->head_serial);
	g_assert_cmpuint(a->head_uses, ==, b->head_uses);
	g_assert_cmpuint(a->head_fitted_ms, ==, b->head_fitted_ms);
	g_assert_cmpint(a->force_offset_cn, ==, b->force_offset_cn);
	g_assert_cmpuint(a->force_scale_pm, ==, b->force_scale_pm);
	g_assert_cmpuint(a->ticks_per_10mm, ==, b->ticks_per_10mm);
	g_assert_cmpuint(a->warn_force_cn, ==, b->warn_force_cn);
	g_assert_cmpuint(a->clock_ms, ==, b->clock_ms);
	g_assert_cmpuint(a->clock_flags, ==, b->clock_flags);
}

/* Decodes with the decoder for @kind and, for record frames, walks every
 * record; returns the first error (DP_OK if the whole input is accepted). */
enum kind { K_STREAM, K_HISTORY, K_INFO, K_COMMAND, K_RESPONSE, K_ADV, K_CT };

static enum dp_err decode_all(enum kind kind, const uint8_t *buf, size_t len, int *records)
{
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	struct dp_info info;
	struct dp_command cmd;
	struct dp_response rsp;
	struct dp_adv adv;
	struct dp_current_time ct;
	enum dp_err err;
	int n = 0, r;

	switch (kind) {
	case K_STREAM:
	case K_HISTORY:
		err = kind == K_STREAM ? dp_stream_decode(buf, len, &head, &it) :
			dp_history_decode(buf, len, &it);
		if (err) {
			/* A failed decode leaves an iterator that yields nothing. */
			g_assert_cmpint(it.err, ==, err);
			g_assert_cmpint(dp_record_next(&it, &rec), ==, -1);
			return err;
		}
		while ((r = dp_record_next(&it, &rec)) == 1)
			n++;
		if (records)
			*records = n;
		if (r == 0) {
			g_assert_cmpint(it.err, ==, DP_OK);
			return DP_OK;
		}
		g_assert_cmpint(r, ==, -1);
		g_assert_cmpint(it.err, !=, DP_OK);
		return it.err;
	case K_INFO:
		return dp_info_decode(buf, len, &info);
	case K_COMMAND:
		return dp_command_decode(buf, len, &cmd);
	case K_RESPONSE:
		return dp_response_decode(buf, len, &rsp);
	case K_ADV:
		return dp_adv_decode(buf, len, &adv);
	case K_CT:
		return dp_current_time_decode(buf, len, &ct);
	}
	g_assert_not_reached();
	return DP_OK;
}

/* ---- Error names ---- */

static void test_strerror(void)
{
	for (int i = 0; i < DP_ERR_COUNT_; i++) {
		const char *s = dp_strerror((enum dp_err)i);

		g_assert_nonnull(s);
		g_assert_cmpuint(strlen(s), >, 0);
		g_assert_cmpstr(s, !=, "unknown error");
		for (int j = 0; j < i; j++)
			g_assert_cmpstr(s, !=, dp_strerror((enum dp_err)j));
	}
	g_assert_cmpstr(dp_strerror(DP_ERR_TRUNCATED), ==, "truncated frame");
	g_assert_cmpstr(dp_strerror(DP_ERR_COUNT_), ==, "unknown error");
	g_assert_cmpstr(dp_strerror((enum dp_err)200), ==, "unknown error");
}

/* ---- §3 Header ---- */

static void test_header(void)
{
	struct dp_header hdr;
	uint8_t buf[8];
	size_t n = hex_to(buf, sizeof(buf), "1f 0600 05 0000");

	g_assert_cmpint(dp_header_decode(buf, n, &hdr), ==, DP_OK);
	g_assert_cmpuint(hdr.major, ==, 1);
	g_assert_cmpuint(hdr.minor, ==, 15);
	g_assert_cmpuint(hdr.length, ==, 6);
	g_assert_cmpuint(hdr.type, ==, DP_FRAME_RESPONSE);
}

static const struct {
	const char *name, *hex;
	enum dp_err err;
} header_cases[] = {
	{ "empty", "", DP_ERR_TRUNCATED },
	{ "one-byte", "10", DP_ERR_TRUNCATED },
	{ "three-bytes", "10 0400", DP_ERR_TRUNCATED },
	{ "length-3", "10 0300 02", DP_ERR_LENGTH },
	{ "length-0", "10 0000 02", DP_ERR_LENGTH },
	{ "length-0-wrong-major", "20 0000 02", DP_ERR_LENGTH },
	{ "length-past-buffer", "10 0500 02", DP_ERR_TRUNCATED },
	{ "length-256", "10 0001 02", DP_ERR_TRUNCATED },
	{ "trailing-byte", "10 0400 02 00", DP_ERR_LENGTH },
	{ "major-2", "20 0400 02", DP_ERR_VERSION },
	{ "major-0", "00 0400 02", DP_ERR_VERSION },
	{ "major-15", "f1 0400 02", DP_ERR_VERSION },
	{ "type-0", "10 0400 00", DP_ERR_FRAME_TYPE },
	{ "type-6", "10 0400 06", DP_ERR_FRAME_TYPE },
	{ "type-ff", "10 0400 ff", DP_ERR_FRAME_TYPE },
	{ "minor-1-ok", "11 0400 03", DP_OK },
	{ "info-ok", "10 0400 01", DP_OK },
};

static void test_header_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(header_cases); i++) {
		struct dp_header hdr;
		uint8_t buf[16];
		size_t n = hex_to(buf, sizeof(buf), header_cases[i].hex);

		g_test_message("case %s", header_cases[i].name);
		g_assert_cmpint(dp_header_decode(buf, n, &hdr), ==, header_cases[i].err);
	}
	/* A NULL buffer of length 0 is read as nothing. */
	g_assert_cmpint(decode_all(K_STREAM, NULL, 0, NULL), ==, DP_ERR_TRUNCATED);
	g_assert_cmpint(decode_all(K_INFO, NULL, 0, NULL), ==, DP_ERR_TRUNCATED);
}

/* Each frame decoder refuses every other frame type. */
static void test_frame_type_robustness(void)
{
	static const struct { enum kind kind; uint8_t type; } own[] = {
		{ K_STREAM, DP_FRAME_STREAM }, { K_HISTORY, DP_FRAME_HISTORY },
		{ K_INFO, DP_FRAME_INFO }, { K_COMMAND, DP_FRAME_COMMAND },
		{ K_RESPONSE, DP_FRAME_RESPONSE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(own); i++) {
		for (uint8_t type = DP_FRAME_INFO; type <= DP_FRAME_RESPONSE; type++) {
			uint8_t buf[32];
			size_t n = frame_hex(buf, sizeof(buf), DP_VERSION_BYTE, type, STREAM_HEAD_HEX);

			if (type == own[i].type)
				continue;
			g_assert_cmpint(decode_all(own[i].kind, buf, n, NULL), ==, DP_ERR_FRAME_TYPE);
		}
	}
}

/* ---- §5 Record frames ---- */

static void test_stream_bytes(void)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_force f;
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	size_t n;

	sample_force(&f);
	dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
	g_assert_cmpint(w.err, ==, DP_OK);
	g_assert_cmpuint(w.len, ==, DP_STREAM_HEAD_SIZE);
	g_assert_cmpint(dp_put_force(&w, &f), ==, DP_OK);
	g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, DP_OK);
	g_assert_cmpint(dp_put_status(&w, &sample_status), ==, DP_OK);
	n = dp_frame_finish(&w);
	g_assert_cmpuint(n, ==, 76);
	assert_bytes(buf, n, "10 4c00 02 " STREAM_HEAD_HEX
		" 01 08 " FORCE_BODY_HEX " 02 1c " PASS_BODY_HEX " 03 12 " STATUS_BODY_HEX);

	g_assert_cmpint(dp_stream_decode(buf, n, &head, &it), ==, DP_OK);
	g_assert_cmpuint(head.seq, ==, 7);
	g_assert_cmpuint(head.time_ms, ==, 0x100000002ULL);
	g_assert_cmpuint(it.minor, ==, 0);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_FORCE);
	assert_force_eq(&rec.u.force, &f);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_PASS);
	assert_pass_eq(&rec.u.pass, &sample_pass);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_STATUS);
	assert_status_eq(&rec.u.status, &sample_status);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 0);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 0);
	g_assert_cmpint(it.err, ==, DP_OK);
}

static void test_stream_empty(void)
{
	uint8_t buf[32];
	struct dp_writer w;
	struct dp_stream_head head = { .seq = 0xffffffff, .time_ms = UINT64_MAX };
	struct dp_stream_head got;
	struct dp_record_iter it;
	struct dp_record rec;
	size_t n;

	dp_stream_begin(&w, buf, sizeof(buf), &head);
	n = dp_frame_finish(&w);
	g_assert_cmpuint(n, ==, 16);
	assert_bytes(buf, n, "10 1000 02 ffffffff ffffffffffffffff");
	g_assert_cmpint(dp_stream_decode(buf, n, &got, &it), ==, DP_OK);
	g_assert_cmpuint(got.seq, ==, 0xffffffff);
	g_assert_cmpuint(got.time_ms, ==, UINT64_MAX);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 0);
}

static void test_stream_force_extremes(void)
{
	static const struct { uint8_t period, count; } cases[] = {
		{ 1, 1 }, { 50, 1 }, { 10, DP_FORCE_MAX }, { 5, 64 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t buf[DP_MAX_FRAME];
		struct dp_writer w;
		struct dp_force f = { .period_ms = cases[i].period, .count = cases[i].count };
		struct dp_stream_head head;
		struct dp_record_iter it;
		struct dp_record rec;
		size_t n;

		for (unsigned int k = 0; k < f.count; k++)
			f.cn[k] = (uint16_t)(k * 523 + 7);
		dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
		g_assert_cmpint(dp_put_force(&w, &f), ==, DP_OK);
		n = dp_frame_finish(&w);
		g_assert_cmpuint(n, ==, DP_STREAM_HEAD_SIZE + 4 + 2 * (size_t)f.count);
		g_assert_cmpuint(n, ==, DP_STREAM_HEAD_SIZE + dp_record_size(DP_REC_FORCE, &f));
		g_assert_cmpuint(buf[DP_STREAM_HEAD_SIZE + 1], ==, 2 + 2 * f.count);
		g_assert_cmpint(dp_stream_decode(buf, n, &head, &it), ==, DP_OK);
		g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
		assert_force_eq(&rec.u.force, &f);
		for (unsigned int k = f.count; k < DP_FORCE_MAX; k++)
			g_assert_cmpuint(rec.u.force.cn[k], ==, 0);
		g_assert_cmpint(dp_record_next(&it, &rec), ==, 0);
	}
}

static void test_history_bytes(void)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_record_iter it;
	struct dp_record rec;
	size_t n;

	dp_history_begin(&w, buf, sizeof(buf));
	g_assert_cmpuint(w.len, ==, DP_HEADER_SIZE);
	g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, DP_OK);
	g_assert_cmpint(dp_put_log_end(&w, &sample_log_end), ==, DP_OK);
	n = dp_frame_finish(&w);
	g_assert_cmpuint(n, ==, 46);
	assert_bytes(buf, n, "10 2e00 03 02 1c " PASS_BODY_HEX " 04 0a " LOG_END_BODY_HEX);

	g_assert_cmpint(dp_history_decode(buf, n, &it), ==, DP_OK);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_PASS);
	assert_pass_eq(&rec.u.pass, &sample_pass);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_LOG_END);
	g_assert_cmpuint(rec.u.log_end.first_seq, ==, 5);
	g_assert_cmpuint(rec.u.log_end.next_seq, ==, 0x10000);
	g_assert_cmpuint(rec.u.log_end.sent, ==, 3);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 0);

	/* An empty history frame (zero records) is valid. */
	dp_history_begin(&w, buf, sizeof(buf));
	n = dp_frame_finish(&w);
	assert_bytes(buf, n, "10 0400 03");
	g_assert_cmpint(decode_all(K_HISTORY, buf, n, NULL), ==, DP_OK);
}

/* Passes at their range limits survive a round trip. */
static void test_pass_limits(void)
{
	static const struct dp_pass cases[] = {
		{ .seq = 1, .direction = DP_DIR_FORWARD },
		{ .seq = UINT32_MAX, .start_ms = UINT64_MAX, .duration_ms = UINT16_MAX,
		  .distance_mm = UINT16_MAX, .direction = DP_DIR_BACKWARD, .angle_deg = 179,
		  .mean_force_cn = UINT16_MAX, .peak_force_cn = UINT16_MAX,
		  .over_warn_ms = UINT16_MAX, .session = UINT16_MAX, .zone = DP_ZONE_MAX,
		  .flags = DP_PASS_FLAGS_ALL },
		{ .seq = 9, .duration_ms = 10, .direction = DP_DIR_FORWARD, .mean_force_cn = 5,
		  .peak_force_cn = 5, .over_warn_ms = 10, .flags = DP_PASS_CLOCK_UNSET },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t buf[64];
		struct dp_writer w;
		struct dp_record_iter it;
		struct dp_record rec;
		size_t n;

		dp_history_begin(&w, buf, sizeof(buf));
		g_assert_cmpint(dp_put_pass(&w, &cases[i]), ==, DP_OK);
		n = dp_frame_finish(&w);
		g_assert_cmpuint(n, ==, 34);
		g_assert_cmpint(dp_history_decode(buf, n, &it), ==, DP_OK);
		g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
		assert_pass_eq(&rec.u.pass, &cases[i]);
	}
}

static void test_record_size(void)
{
	struct dp_force f = { .period_ms = 5, .count = 1 };

	g_assert_cmpuint(dp_record_size(DP_REC_FORCE, &f), ==, 6);
	f.count = DP_FORCE_MAX;
	g_assert_cmpuint(dp_record_size(DP_REC_FORCE, &f), ==, 244);
	g_assert_cmpuint(dp_record_size(DP_REC_FORCE, NULL), ==, 0);
	g_assert_cmpuint(dp_record_size(DP_REC_PASS, NULL), ==, 30);
	g_assert_cmpuint(dp_record_size(DP_REC_STATUS, NULL), ==, 20);
	g_assert_cmpuint(dp_record_size(DP_REC_LOG_END, NULL), ==, 12);
	g_assert_cmpuint(dp_record_size((enum dp_record_type)0, NULL), ==, 0);
	g_assert_cmpuint(dp_record_size((enum dp_record_type)5, NULL), ==, 0);
}

/* §5 capacity of a frame of ATT_MTU 247 - 3 = 244 bytes, as the firmware
 * fills it: records are appended until NO_SPACE. */
static void test_stream_capacity(void)
{
	uint8_t buf[244];
	struct dp_writer w;
	struct dp_force f = { .period_ms = 5 };
	int passes = 0;

	for (f.count = DP_FORCE_MAX; f.count > 0; f.count--) {
		dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
		if (dp_put_force(&w, &f) == DP_OK)
			break;
		g_assert_cmpint(w.err, ==, DP_OK);
	}
	g_assert_cmpuint(f.count, ==, 112);
	g_assert_cmpuint(dp_frame_finish(&w), ==, 244);

	f.count = 102;
	dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
	g_assert_cmpint(dp_put_status(&w, &sample_status), ==, DP_OK);
	g_assert_cmpint(dp_put_force(&w, &f), ==, DP_OK);
	g_assert_cmpuint(dp_frame_finish(&w), ==, 244);

	dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
	while (dp_put_pass(&w, &sample_pass) == DP_OK)
		passes++;
	g_assert_cmpint(passes, ==, 7);
	g_assert_cmpuint(dp_frame_finish(&w), ==, 16 + 7 * 30);

	passes = 0;
	dp_history_begin(&w, buf, sizeof(buf));
	while (dp_put_pass(&w, &sample_pass) == DP_OK)
		passes++;
	g_assert_cmpint(passes, ==, 8);
	g_assert_cmpint(dp_put_log_end(&w, &sample_log_end), ==, DP_ERR_NO_SPACE);
	g_assert_cmpuint(dp_frame_finish(&w), ==, 4 + 8 * 30);
}

/* Hand-made record frames: the decoder must stop at the right record with
 * the right code. */
static const struct {
	const char *name;
	enum kind kind;
	uint8_t version, type;
	const char *body;
	enum dp_err frame_err;       /* from dp_*_decode */
	int records;                 /* records returned before the end or the error */
	enum dp_err rec_err;         /* from the iterator */
} record_cases[] = {
	{ "stream-empty", K_STREAM, 0x10, DP_FRAME_STREAM, STREAM_HEAD_HEX, DP_OK, 0, DP_OK },
	{ "stream-head-short", K_STREAM, 0x10, DP_FRAME_STREAM, "07000000 02000000",
	  DP_ERR_TRUNCATED, 0, DP_OK },
	{ "stream-head-11", K_STREAM, 0x10, DP_FRAME_STREAM, "07000000 02000000010000",
	  DP_ERR_TRUNCATED, 0, DP_OK },
	{ "stream-wrong-major", K_STREAM, 0x20, DP_FRAME_STREAM, STREAM_HEAD_HEX,
	  DP_ERR_VERSION, 0, DP_OK },
	{ "stream-decoder-history-frame", K_STREAM, 0x10, DP_FRAME_HISTORY, STREAM_HEAD_HEX,
	  DP_ERR_FRAME_TYPE, 0, DP_OK },
	{ "history-decoder-stream-frame", K_HISTORY, 0x10, DP_FRAME_STREAM, "",
	  DP_ERR_FRAME_TYPE, 0, DP_OK },
	{ "record-header-truncated", K_STREAM, 0x10, DP_FRAME_STREAM, STREAM_HEAD_HEX " 01",
	  DP_OK, 0, DP_ERR_RECORD_TRUNCATED },
	{ "record-header-truncated-after-record", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 08 " FORCE_BODY_HEX " 02", DP_OK, 1, DP_ERR_RECORD_TRUNCATED },
	{ "record-body-truncated", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 02 1c 0d0c0b0a", DP_OK, 0, DP_ERR_RECORD_TRUNCATED },
	{ "record-body-255", K_HISTORY, 0x10, DP_FRAME_HISTORY, "02 ff " PASS_BODY_HEX,
	  DP_OK, 0, DP_ERR_RECORD_TRUNCATED },
	{ "unknown-record-truncated-newer-minor", K_STREAM, 0x11, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 09 05 aabb", DP_OK, 0, DP_ERR_RECORD_TRUNCATED },
	{ "pass-short", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 02 1b 0d0c0b0a 0807060504030201 dc05 2301 02 b3 fa00 0103 0001 0302 0a",
	  DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "pass-short-newer-minor", K_HISTORY, 0x12, DP_FRAME_HISTORY,
	  "02 1b 0d0c0b0a 0807060504030201 dc05 2301 02 b3 fa00 0103 0001 0302 0a",
	  DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "pass-long", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 02 1d " PASS_BODY_HEX " ee", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "pass-long-newer-minor", K_STREAM, 0x11, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 02 1d " PASS_BODY_HEX " ee", DP_OK, 1, DP_OK },
	{ "status-long", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 03 14 " STATUS_BODY_HEX " eeee", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "status-short", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 03 00", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "status-long-newer-minor", K_STREAM, 0x1f, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 03 14 " STATUS_BODY_HEX " eeee", DP_OK, 1, DP_OK },
	{ "log-end-short", K_HISTORY, 0x10, DP_FRAME_HISTORY,
	  "04 09 05000000 00000100 03", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "log-end-long-newer-minor", K_HISTORY, 0x11, DP_FRAME_HISTORY,
	  "04 0b " LOG_END_BODY_HEX " 00", DP_OK, 1, DP_OK },
	{ "force-long", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 0a " FORCE_BODY_HEX " eeee", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	/* §5.1: a FORCE body never grows, whatever the minor. */
	{ "force-long-newer-minor", K_STREAM, 0x11, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 0a " FORCE_BODY_HEX " eeee", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-count-disagrees", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 08 05 02 6400 3412 ffff", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-count-exceeds-body", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 04 05 02 6400", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-count-exceeds-body-newer-minor", K_STREAM, 0x11, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 04 05 02 6400", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-body-1", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 01 05", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-body-0", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 00", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-count-0", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 02 05 00", DP_OK, 0, DP_ERR_FIELD },
	/* Length is checked before fields (§5 steps 4, 5). */
	{ "force-count-121-short-body", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 02 05 79", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-period-0-long-body", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 04 00 02 6400", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "force-count-255", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 01 02 05 ff", DP_OK, 0, DP_ERR_RECORD_LENGTH },
	{ "unknown-record", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 09 02 aabb", DP_OK, 0, DP_ERR_RECORD_TYPE },
	{ "unknown-record-0", K_HISTORY, 0x10, DP_FRAME_HISTORY,
	  "02 1c " PASS_BODY_HEX " 00 00", DP_OK, 1, DP_ERR_RECORD_TYPE },
	{ "unknown-record-newer-minor", K_STREAM, 0x11, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 09 02 aabb 01 08 " FORCE_BODY_HEX " ff 00", DP_OK, 1, DP_OK },
	{ "unknown-record-255-newer-minor", K_HISTORY, 0x13, DP_FRAME_HISTORY,
	  "ff 00 00 00 02 1c " PASS_BODY_HEX, DP_OK, 1, DP_OK },
	{ "log-end-in-stream", K_STREAM, 0x10, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 04 0a " LOG_END_BODY_HEX, DP_OK, 0, DP_ERR_RECORD_PLACE },
	{ "log-end-in-stream-newer-minor", K_STREAM, 0x11, DP_FRAME_STREAM,
	  STREAM_HEAD_HEX " 04 0a " LOG_END_BODY_HEX, DP_OK, 0, DP_ERR_RECORD_PLACE },
	{ "force-in-history", K_HISTORY, 0x10, DP_FRAME_HISTORY,
	  "01 08 " FORCE_BODY_HEX, DP_OK, 0, DP_ERR_RECORD_PLACE },
	{ "status-in-history", K_HISTORY, 0x10, DP_FRAME_HISTORY,
	  "02 1c " PASS_BODY_HEX " 03 12 " STATUS_BODY_HEX, DP_OK, 1, DP_ERR_RECORD_PLACE },
	{ "history-pass-log-end", K_HISTORY, 0x10, DP_FRAME_HISTORY,
	  "02 1c " PASS_BODY_HEX " 04 0a " LOG_END_BODY_HEX, DP_OK, 2, DP_OK },
	{ "history-wrong-major", K_HISTORY, 0x00, DP_FRAME_HISTORY, "", DP_ERR_VERSION, 0, DP_OK },
};

static void test_record_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(record_cases); i++) {
		uint8_t buf[DP_MAX_FRAME];
		size_t n = frame_hex(buf, sizeof(buf), record_cases[i].version,
				     record_cases[i].type, record_cases[i].body);
		struct dp_stream_head head;
		struct dp_record_iter it;
		struct dp_record rec;
		enum dp_err err;
		int records = 0, r;

		g_test_message("case %s", record_cases[i].name);
		err = record_cases[i].kind == K_STREAM ? dp_stream_decode(buf, n, &head, &it) :
			dp_history_decode(buf, n, &it);
		g_assert_cmpint(err, ==, record_cases[i].frame_err);
		if (err) {
			g_assert_cmpint(dp_record_next(&it, &rec), ==, -1);
			continue;
		}
		g_assert_cmpuint(it.minor, ==, record_cases[i].version & 0x0f);
		while ((r = dp_record_next(&it, &rec)) == 1)
			records++;
		g_assert_cmpint(records, ==, record_cases[i].records);
		g_assert_cmpint(it.err, ==, record_cases[i].rec_err);
		g_assert_cmpint(r, ==, record_cases[i].rec_err ? -1 : 0);
		/* Sticky: an iterator that failed never yields again. */
		for (int k = 0; k < 3; k++)
			g_assert_cmpint(dp_record_next(&it, &rec), ==, r);
		g_assert_cmpint(it.err, ==, record_cases[i].rec_err);
	}
}

/* FORCE with 121 samples: the body length agrees with count, so the count
 * itself is out of range (FIELD), and no sample past cn[119] is stored. */
static void test_force_count_121_robustness(void)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	size_t n;

	dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
	n = w.len;
	buf[n++] = DP_REC_FORCE;
	buf[n++] = 2 + 2 * 121;
	buf[n++] = 5;
	buf[n++] = 121;
	memset(buf + n, 0x11, 2 * 121);
	n += 2 * 121;
	buf[1] = (uint8_t)n;
	buf[2] = (uint8_t)(n >> 8);
	g_assert_cmpuint(n, ==, 16 + 246);
	g_assert_cmpint(dp_stream_decode(buf, n, &head, &it), ==, DP_OK);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, -1);
	g_assert_cmpint(it.err, ==, DP_ERR_FIELD);
}

/* Newer-minor records decode their known prefix, field for field. */
static void test_record_newer_minor_prefix(void)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t n = frame_hex(buf, sizeof(buf), 0x11, DP_FRAME_STREAM, STREAM_HEAD_HEX
		" 7f 03 010203 02 1e " PASS_BODY_HEX " eeee 03 13 " STATUS_BODY_HEX " 55"
		" 01 08 " FORCE_BODY_HEX);
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	struct dp_force f;

	sample_force(&f);
	g_assert_cmpint(dp_stream_decode(buf, n, &head, &it), ==, DP_OK);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_PASS);
	assert_pass_eq(&rec.u.pass, &sample_pass);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_STATUS);
	assert_status_eq(&rec.u.status, &sample_status);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 1);
	g_assert_cmpuint(rec.type, ==, DP_REC_FORCE);
	assert_force_eq(&rec.u.force, &f);
	g_assert_cmpint(dp_record_next(&it, &rec), ==, 0);
}

/* §5 field ranges: each case patches one field of a valid record on the
 * wire (decoder must say FIELD) and the same field in the struct (encoder
 * must refuse with FIELD, sticky). */
struct field_case {
	const char *name;
	uint8_t rec;
	size_t wire_off;             /* within the record body */
	size_t member_off;           /* within the struct */
	unsigned int width;
	uint64_t value;
	enum dp_err err;
};

#define PF(m) offsetof(struct dp_pass, m)
#define SF(m) offsetof(struct dp_status, m)
#define LF(m) offsetof(struct dp_log_end, m)
#define FF(m) offsetof(struct dp_force, m)

static const struct field_case field_cases[] = {
	{ "pass-seq-0", DP_REC_PASS, 0, PF(seq), 4, 0, DP_ERR_FIELD },
	{ "pass-direction-0", DP_REC_PASS, 16, PF(direction), 1, 0, DP_ERR_FIELD },
	{ "pass-direction-3", DP_REC_PASS, 16, PF(direction), 1, 3, DP_ERR_FIELD },
	{ "pass-direction-1", DP_REC_PASS, 16, PF(direction), 1, 1, DP_OK },
	{ "pass-angle-180", DP_REC_PASS, 17, PF(angle_deg), 1, 180, DP_ERR_FIELD },
	{ "pass-angle-255", DP_REC_PASS, 17, PF(angle_deg), 1, 255, DP_ERR_FIELD },
	{ "pass-angle-0", DP_REC_PASS, 17, PF(angle_deg), 1, 0, DP_OK },
	{ "pass-mean-above-peak", DP_REC_PASS, 18, PF(mean_force_cn), 2, 0x0302, DP_ERR_FIELD },
	{ "pass-mean-equals-peak", DP_REC_PASS, 18, PF(mean_force_cn), 2, 0x0301, DP_OK },
	{ "pass-peak-below-mean", DP_REC_PASS, 20, PF(peak_force_cn), 2, 249, DP_ERR_FIELD },
	{ "pass-over-warn-above-duration", DP_REC_PASS, 22, PF(over_warn_ms), 2, 1501, DP_ERR_FIELD },
	{ "pass-over-warn-equals-duration", DP_REC_PASS, 22, PF(over_warn_ms), 2, 1500, DP_OK },
	{ "pass-duration-below-over-warn", DP_REC_PASS, 12, PF(duration_ms), 2, 0xff, DP_ERR_FIELD },
	{ "pass-zone-11", DP_REC_PASS, 26, PF(zone), 1, 11, DP_ERR_FIELD },
	{ "pass-zone-0", DP_REC_PASS, 26, PF(zone), 1, 0, DP_OK },
	{ "pass-flags-0x10", DP_REC_PASS, 27, PF(flags), 1, 0x10, DP_ERR_FIELD },
	{ "pass-flags-0x80", DP_REC_PASS, 27, PF(flags), 1, 0x80, DP_ERR_FIELD },
	{ "status-state-3", DP_REC_STATUS, 0, SF(state), 1, 3, DP_ERR_FIELD },
	{ "status-state-2", DP_REC_STATUS, 0, SF(state), 1, 2, DP_OK },
	{ "status-battery-101", DP_REC_STATUS, 1, SF(battery_pct), 1, 101, DP_ERR_FIELD },
	{ "status-battery-100", DP_REC_STATUS, 1, SF(battery_pct), 1, 100, DP_OK },
	{ "status-flags-0x20", DP_REC_STATUS, 2, SF(flags), 1, 0x20, DP_ERR_FIELD },
	{ "status-first-above-next", DP_REC_STATUS, 5, SF(log_first_seq), 4, 0x303, DP_ERR_FIELD },
	{ "status-first-equals-next", DP_REC_STATUS, 5, SF(log_first_seq), 4, 0x302, DP_OK },
	{ "status-next-0", DP_REC_STATUS, 9, SF(log_next_seq), 4, 0, DP_ERR_FIELD },
	{ "status-next-below-first", DP_REC_STATUS, 9, SF(log_next_seq), 4, 0xff, DP_ERR_FIELD },
	{ "status-zone-11", DP_REC_STATUS, 17, SF(zone), 1, 11, DP_ERR_FIELD },
	{ "log-end-first-0", DP_REC_LOG_END, 0, LF(first_seq), 4, 0, DP_ERR_FIELD },
	{ "log-end-first-above-next", DP_REC_LOG_END, 0, LF(first_seq), 4, 0x10001, DP_ERR_FIELD },
	{ "log-end-first-equals-next", DP_REC_LOG_END, 0, LF(first_seq), 4, 0x10000, DP_OK },
	{ "log-end-next-below-first", DP_REC_LOG_END, 4, LF(next_seq), 4, 4, DP_ERR_FIELD },
	{ "force-period-0", DP_REC_FORCE, 0, FF(period_ms), 1, 0, DP_ERR_FIELD },
	{ "force-period-51", DP_REC_FORCE, 0, FF(period_ms), 1, 51, DP_ERR_FIELD },
	{ "force-period-50", DP_REC_FORCE, 0, FF(period_ms), 1, 50, DP_OK },
	{ "force-period-1", DP_REC_FORCE, 0, FF(period_ms), 1, 1, DP_OK },
};

static enum dp_err put_record(struct dp_writer *w, uint8_t type, const void *v)
{
	switch (type) {
	case DP_REC_FORCE:
		return dp_put_force(w, v);
	case DP_REC_PASS:
		return dp_put_pass(w, v);
	case DP_REC_STATUS:
		return dp_put_status(w, v);
	case DP_REC_LOG_END:
		return dp_put_log_end(w, v);
	}
	g_assert_not_reached();
	return DP_OK;
}

static void writer_for(struct dp_writer *w, uint8_t rec, uint8_t *buf, size_t cap)
{
	if (rec == DP_REC_LOG_END)
		dp_history_begin(w, buf, cap);
	else
		dp_stream_begin(w, buf, cap, &sample_head);
}

static void test_record_field_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(field_cases); i++) {
		const struct field_case *c = &field_cases[i];
		union {
			struct dp_force force;
			struct dp_pass pass;
			struct dp_status status;
			struct dp_log_end log_end;
		} v;
		uint8_t buf[DP_MAX_FRAME];
		struct dp_writer w;
		size_t n, body_off;
		int records = 0;

		g_test_message("case %s", c->name);
		switch (c->rec) {
		case DP_REC_FORCE:
			sample_force(&v.force);
			break;
		case DP_REC_PASS:
			v.pass = sample_pass;
			break;
		case DP_REC_STATUS:
			v.status = sample_status;
			break;
		default:
			v.log_end = sample_log_end;
			break;
		}

		/* Decoder: patch the encoded valid record. */
		writer_for(&w, c->rec, buf, sizeof(buf));
		body_off = w.len + 2;
		g_assert_cmpint(put_record(&w, c->rec, &v), ==, DP_OK);
		n = dp_frame_finish(&w);
		put_le(buf + body_off + c->wire_off, c->width, c->value);
		g_assert_cmpint(decode_all(c->rec == DP_REC_LOG_END ? K_HISTORY : K_STREAM,
					   buf, n, &records), ==, c->err);
		if (!c->err)
			g_assert_cmpint(records, ==, 1);

		/* Encoder: the same value in the struct. */
		put_member(&v, c->member_off, c->width, c->value);
		writer_for(&w, c->rec, buf, sizeof(buf));
		g_assert_cmpint(put_record(&w, c->rec, &v), ==, c->err);
		g_assert_cmpint(w.err, ==, c->err);
		if (c->err) {
			g_assert_cmpuint(dp_frame_finish(&w), ==, 0);
			/* Sticky: a later valid record is refused too. */
			g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, c->err);
			g_assert_cmpuint(dp_frame_finish(&w), ==, 0);
		} else {
			g_assert_cmpuint(dp_frame_finish(&w), ==, n);
		}
	}

	/* Force count outside 1..120 in the struct. */
	{
		uint8_t buf[DP_MAX_FRAME];
		struct dp_writer w;
		struct dp_force f;

		sample_force(&f);
		f.count = 0;
		dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
		g_assert_cmpint(dp_put_force(&w, &f), ==, DP_ERR_FIELD);
		f.count = DP_FORCE_MAX + 1;
		dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
		g_assert_cmpint(dp_put_force(&w, &f), ==, DP_ERR_FIELD);
		g_assert_cmpuint(dp_frame_finish(&w), ==, 0);
	}
}

/* A writer refuses a record its frame may not carry (sticky). */
static void test_writer_place_robustness(void)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_force f;

	sample_force(&f);
	dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
	g_assert_cmpint(dp_put_log_end(&w, &sample_log_end), ==, DP_ERR_RECORD_PLACE);
	g_assert_cmpint(dp_put_force(&w, &f), ==, DP_ERR_RECORD_PLACE);
	g_assert_cmpuint(dp_frame_finish(&w), ==, 0);

	dp_history_begin(&w, buf, sizeof(buf));
	g_assert_cmpint(dp_put_force(&w, &f), ==, DP_ERR_RECORD_PLACE);
	dp_history_begin(&w, buf, sizeof(buf));
	g_assert_cmpint(dp_put_status(&w, &sample_status), ==, DP_ERR_RECORD_PLACE);
	g_assert_cmpint(w.err, ==, DP_ERR_RECORD_PLACE);
	g_assert_cmpuint(dp_frame_finish(&w), ==, 0);
}

/* Encoders never write past cap: each put at every cap short of what it
 * needs leaves the frame as it was (bytes, len, no sticky error). */
static void test_writer_no_space_robustness(void)
{
	static const uint8_t recs[] = { DP_REC_FORCE, DP_REC_PASS, DP_REC_STATUS, DP_REC_LOG_END };
	uint8_t full[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_force f;
	size_t cap;

	sample_force(&f);

	/* The frame head itself. */
	for (cap = 0; cap < DP_STREAM_HEAD_SIZE; cap++) {
		uint8_t buf[DP_MAX_FRAME + 8];

		memset(buf, 0xaa, sizeof(buf));
		dp_stream_begin(&w, buf, cap, &sample_head);
		g_assert_cmpint(w.err, ==, DP_ERR_NO_SPACE);
		g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, DP_ERR_NO_SPACE);
		g_assert_cmpuint(dp_frame_finish(&w), ==, 0);
		for (size_t k = cap; k < sizeof(buf); k++)
			g_assert_cmpuint(buf[k], ==, 0xaa);
	}
	for (cap = 0; cap < DP_HEADER_SIZE; cap++) {
		uint8_t buf[16];

		memset(buf, 0xaa, sizeof(buf));
		dp_history_begin(&w, buf, cap);
		g_assert_cmpint(w.err, ==, DP_ERR_NO_SPACE);
		g_assert_cmpuint(dp_frame_finish(&w), ==, 0);
		for (size_t k = cap; k < sizeof(buf); k++)
			g_assert_cmpuint(buf[k], ==, 0xaa);
	}

	for (size_t i = 0; i < G_N_ELEMENTS(recs); i++) {
		const void *v = recs[i] == DP_REC_FORCE ? (const void *)&f :
			recs[i] == DP_REC_PASS ? (const void *)&sample_pass :
			recs[i] == DP_REC_STATUS ? (const void *)&sample_status :
			(const void *)&sample_log_end;
		size_t head, need, full_len;

		/* A frame with one pass already in it, then this record. */
		writer_for(&w, recs[i], full, sizeof(full));
		g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, DP_OK);
		head = w.len;
		g_assert_cmpint(put_record(&w, recs[i], v), ==, DP_OK);
		full_len = dp_frame_finish(&w);
		need = head + dp_record_size(recs[i], &f);
		g_assert_cmpuint(full_len, ==, need);

		for (cap = head; cap < need; cap++) {
			uint8_t buf[DP_MAX_FRAME + 8];
			uint8_t before[DP_MAX_FRAME];

			memset(buf, 0xaa, sizeof(buf));
			writer_for(&w, recs[i], buf, cap);
			g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, DP_OK);
			memcpy(before, buf, head);
			g_assert_cmpint(put_record(&w, recs[i], v), ==, DP_ERR_NO_SPACE);
			g_assert_cmpint(w.err, ==, DP_OK);
			g_assert_cmpuint(w.len, ==, head);
			g_assert_cmpmem(buf, head, before, head);
			for (size_t k = head; k < sizeof(buf); k++)
				g_assert_cmpuint(buf[k], ==, 0xaa);
			/* The frame so far is still good to send. */
			g_assert_cmpuint(dp_frame_finish(&w), ==, head);
			g_assert_cmpint(decode_all(recs[i] == DP_REC_LOG_END ? K_HISTORY : K_STREAM,
						   buf, head, NULL), ==, DP_OK);
		}
		/* And at exactly the size needed it fits. */
		{
			uint8_t buf[DP_MAX_FRAME];

			writer_for(&w, recs[i], buf, need);
			g_assert_cmpint(dp_put_pass(&w, &sample_pass), ==, DP_OK);
			g_assert_cmpint(put_record(&w, recs[i], v), ==, DP_OK);
			g_assert_cmpuint(dp_frame_finish(&w), ==, need);
			g_assert_cmpmem(buf, need, full, full_len);
		}
	}
}

/* A writer never builds a frame its 16-bit length field cannot describe. */
static void test_writer_cap_clamp(void)
{
	static uint8_t buf[70000];
	struct dp_writer w;
	size_t n;
	int passes = 0;

	dp_history_begin(&w, buf, sizeof(buf));
	g_assert_cmpuint(w.cap, ==, 65535);
	while (dp_put_pass(&w, &sample_pass) == DP_OK)
		passes++;
	g_assert_cmpint(passes, ==, (65535 - 4) / 30);
	n = dp_frame_finish(&w);
	g_assert_cmpuint(n, ==, 4 + (size_t)passes * 30);
	g_assert_cmpuint(buf[1] | buf[2] << 8, ==, n);
	g_assert_cmpint(decode_all(K_HISTORY, buf, n, NULL), ==, DP_OK);
}

/* ---- §7 INFO ---- */

static void test_info_bytes(void)
{
	uint8_t buf[128];
	struct dp_info info, got;
	size_t n = 0;

	sample_info(&info);
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_OK);
	g_assert_cmpuint(n, ==, 54);
	assert_bytes(buf, n, INFO_HEX);
	g_assert_cmpint(dp_info_decode(buf, n, &got), ==, DP_OK);
	assert_info_eq(&got, &info);
}

static void test_info_sizes(void)
{
	uint8_t buf[128];
	struct dp_info info, got;
	size_t n = 0;

	sample_info(&info);
	strcpy(info.firmware, "1");
	strcpy(info.serial, "2");
	strcpy(info.head_serial, "~");
	info.force_offset_cn = INT16_MIN;
	info.needle_um = 1;
	info.clock_flags = 0;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_OK);
	g_assert_cmpuint(n, ==, 39);
	g_assert_cmpint(dp_info_decode(buf, n, &got), ==, DP_OK);
	assert_info_eq(&got, &info);

	strcpy(info.firmware, "0123456789abcdef");
	strcpy(info.serial, " !\"#$%&'()*+,-./");
	strcpy(info.head_serial, "ABCDEFGHIJKLMNOP");
	info.force_offset_cn = INT16_MAX;
	info.needle_um = 3000;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_OK);
	g_assert_cmpuint(n, ==, 84);
	g_assert_cmpint(dp_info_decode(buf, n, &got), ==, DP_OK);
	assert_info_eq(&got, &info);
}

/* Offsets in INFO_HEX (firmware 5, serial 9, head serial 4 characters). */
#define INFO_FW_LEN 4
#define INFO_FW 5
#define INFO_SERIAL_LEN 10
#define INFO_NEEDLE 20
#define INFO_HEAD 23
#define INFO_SCALE 39
#define INFO_TICKS 41
#define INFO_WARN 43
#define INFO_FLAGS 53

static const struct {
	const char *name;
	size_t off;
	unsigned int width;
	uint64_t value;
	enum dp_err err;
} info_patch_cases[] = {
	{ "firmware-len-0", INFO_FW_LEN, 1, 0, DP_ERR_STRING },
	{ "firmware-len-17", INFO_FW_LEN, 1, 17, DP_ERR_STRING },
	{ "firmware-len-255", INFO_FW_LEN, 1, 255, DP_ERR_STRING },
	{ "firmware-nul", INFO_FW + 1, 1, 0x00, DP_ERR_STRING },
	{ "firmware-0x1f", INFO_FW, 1, 0x1f, DP_ERR_STRING },
	{ "firmware-0x7f", INFO_FW + 4, 1, 0x7f, DP_ERR_STRING },
	{ "firmware-0x80", INFO_FW + 2, 1, 0x80, DP_ERR_STRING },
	{ "firmware-space", INFO_FW + 2, 1, 0x20, DP_OK },
	{ "firmware-tilde", INFO_FW + 2, 1, 0x7e, DP_OK },
	{ "serial-len-0", INFO_SERIAL_LEN, 1, 0, DP_ERR_STRING },
	{ "serial-0x0a", INFO_SERIAL_LEN + 3, 1, 0x0a, DP_ERR_STRING },
	/* 16 characters swallow the needle length, whose 0xf4 is not printable. */
	{ "serial-len-16", INFO_SERIAL_LEN, 1, 16, DP_ERR_STRING },
	{ "head-serial-0x7f", INFO_HEAD, 1, 0x7f, DP_ERR_STRING },
	{ "head-serial-len-0", INFO_HEAD - 1, 1, 0, DP_ERR_STRING },
	{ "needle-0", INFO_NEEDLE, 2, 0, DP_ERR_FIELD },
	{ "needle-3001", INFO_NEEDLE, 2, 3001, DP_ERR_FIELD },
	{ "needle-3000", INFO_NEEDLE, 2, 3000, DP_OK },
	{ "needle-1", INFO_NEEDLE, 2, 1, DP_OK },
	{ "scale-0", INFO_SCALE, 2, 0, DP_ERR_FIELD },
	{ "ticks-0", INFO_TICKS, 2, 0, DP_ERR_FIELD },
	{ "warn-0", INFO_WARN, 2, 0, DP_ERR_FIELD },
	{ "clock-flags-1", INFO_FLAGS, 1, 1, DP_ERR_FIELD },
	{ "clock-flags-3", INFO_FLAGS, 1, 3, DP_ERR_FIELD },
	{ "clock-flags-0", INFO_FLAGS, 1, 0, DP_OK },
	{ "wrong-major", 0, 1, 0x21, DP_ERR_VERSION },
	{ "wrong-type", 3, 1, DP_FRAME_STREAM, DP_ERR_FRAME_TYPE },
	{ "length-past-buffer", 1, 2, 55, DP_ERR_TRUNCATED },
	{ "length-below-buffer", 1, 2, 53, DP_ERR_LENGTH },
	{ "length-3", 1, 2, 3, DP_ERR_LENGTH },
};

static void test_info_robustness(void)
{
	uint8_t buf[256];
	struct dp_info info;
	size_t n;

	for (size_t i = 0; i < G_N_ELEMENTS(info_patch_cases); i++) {
		n = hex_to(buf, sizeof(buf), INFO_HEX);
		g_test_message("case %s", info_patch_cases[i].name);
		put_le(buf + info_patch_cases[i].off, info_patch_cases[i].width,
		       info_patch_cases[i].value);
		g_assert_cmpint(dp_info_decode(buf, n, &info), ==, info_patch_cases[i].err);
	}

	/* Frame cut inside its fixed fields, with a consistent length field. */
	n = frame_hex(buf, sizeof(buf), 0x10, DP_FRAME_INFO, "05 312e302e30 09 44522d303030313233 f401");
	g_assert_cmpint(dp_info_decode(buf, n, &info), ==, DP_ERR_TRUNCATED);
	n = frame_hex(buf, sizeof(buf), 0x10, DP_FRAME_INFO, "05 312e30");
	g_assert_cmpint(dp_info_decode(buf, n, &info), ==, DP_ERR_TRUNCATED);
	n = frame_hex(buf, sizeof(buf), 0x10, DP_FRAME_INFO, "");
	g_assert_cmpint(dp_info_decode(buf, n, &info), ==, DP_ERR_TRUNCATED);
	/* A 17-character string on the wire. */
	n = frame_hex(buf, sizeof(buf), 0x10, DP_FRAME_INFO,
		      "11 3031323334353637383961626364656667 09 44522d303030313233 f401 04 482d3432 0201 "
		      "0807060504030201 feff e803 2800 f401 8877665544332211 02");
	g_assert_cmpint(dp_info_decode(buf, n, &info), ==, DP_ERR_STRING);

	/* Trailing bytes: refused at our minor, ignored from a newer one. */
	n = hex_to(buf, sizeof(buf), INFO_HEX " 00");
	buf[1] = (uint8_t)n;
	g_assert_cmpint(dp_info_decode(buf, n, &info), ==, DP_ERR_LENGTH);
	buf[0] = 0x11;
	memset(&info, 0, sizeof(info));
	g_assert_cmpint(dp_info_decode(buf, n, &info), ==, DP_OK);
	g_assert_cmpstr(info.head_serial, ==, "H-42");
	g_assert_cmpuint(info.clock_flags, ==, DP_STATUS_CLOCK_SET);
}

static void test_info_encode_robustness(void)
{
	static const struct {
		const char *name;
		int field;           /* 0 firmware, 1 serial, 2 head serial */
		const char *value;
	} strs[] = {
		{ "empty", 0, "" },
		{ "0x1f", 1, "ab\x1f" "c" },
		{ "0x7f", 2, "\x7f" },
		{ "0x80", 0, "caf\xc3\xa9" },
		{ "tab", 1, "a\tb" },
	};
	uint8_t buf[128];
	struct dp_info info;
	size_t n = 12345;

	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++) {
		char *s;

		sample_info(&info);
		s = strs[i].field == 0 ? info.firmware : strs[i].field == 1 ? info.serial :
			info.head_serial;
		strcpy(s, strs[i].value);
		g_test_message("case %s", strs[i].name);
		g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_STRING);
		g_assert_cmpuint(n, ==, 12345);
	}
	/* 17 characters: no terminating NUL inside the array. */
	sample_info(&info);
	memset(info.serial, 'x', sizeof(info.serial));
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_STRING);

	sample_info(&info);
	info.needle_um = 0;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	info.needle_um = 3001;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	sample_info(&info);
	info.force_scale_pm = 0;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	sample_info(&info);
	info.ticks_per_10mm = 0;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	sample_info(&info);
	info.warn_force_cn = 0;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	sample_info(&info);
	info.clock_flags = DP_STATUS_CLOCK_SET | DP_STATUS_PAIRING;
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	g_assert_cmpuint(n, ==, 12345);
}

/* ---- §8 Control point ---- */

static const struct {
	struct dp_command cmd;
	const char *hex;
} command_vectors[] = {
	{ { .opcode = DP_OP_START_SESSION, .u.zone = 3 }, "10 0600 04 01 03" },
	{ { .opcode = DP_OP_STOP_SESSION }, "10 0500 04 02" },
	{ { .opcode = DP_OP_SET_TIME, .u.time_ms = 0x0102030405060708ULL },
	  "10 0d00 04 03 0807060504030201" },
	{ { .opcode = DP_OP_SYNC_HISTORY, .u.seq = 0x01020304 }, "10 0900 04 04 04030201" },
	{ { .opcode = DP_OP_SYNC_HISTORY, .u.seq = 0 }, "10 0900 04 04 00000000" },
	{ { .opcode = DP_OP_ACK, .u.seq = 0x0a0b0c0d }, "10 0900 04 05 0d0c0b0a" },
	{ { .opcode = DP_OP_ZERO_FORCE }, "10 0500 04 06" },
	{ { .opcode = DP_OP_IDENTIFY, .u.seconds = 30 }, "10 0600 04 07 1e" },
	{ { .opcode = DP_OP_IDENTIFY, .u.seconds = 1 }, "10 0600 04 07 01" },
	{ { .opcode = DP_OP_SET_ZONE, .u.zone = 10 }, "10 0600 04 08 0a" },
	{ { .opcode = DP_OP_SET_ZONE, .u.zone = 1 }, "10 0600 04 08 01" },
};

static void assert_command_eq(const struct dp_command *a, const struct dp_command *b)
{
	g_assert_cmpuint(a->opcode, ==, b->opcode);
	switch (a->opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_SET_ZONE:
		g_assert_cmpuint(a->u.zone, ==, b->u.zone);
		break;
	case DP_OP_IDENTIFY:
		g_assert_cmpuint(a->u.seconds, ==, b->u.seconds);
		break;
	case DP_OP_SET_TIME:
		g_assert_cmpuint(a->u.time_ms, ==, b->u.time_ms);
		break;
	case DP_OP_SYNC_HISTORY:
	case DP_OP_ACK:
		g_assert_cmpuint(a->u.seq, ==, b->u.seq);
		break;
	}
}

static void test_command_bytes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(command_vectors); i++) {
		uint8_t buf[32];
		struct dp_command got;
		size_t n = 0;

		g_test_message("opcode %u", command_vectors[i].cmd.opcode);
		g_assert_cmpint(dp_command_encode(&command_vectors[i].cmd, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, command_vectors[i].hex);
		g_assert_cmpint(dp_command_decode(buf, n, &got), ==, DP_OK);
		assert_command_eq(&got, &command_vectors[i].cmd);
	}
}

static const struct {
	const char *name, *body;
	enum dp_err err;
} command_cases[] = {
	{ "no-opcode", "", DP_ERR_TRUNCATED },
	{ "opcode-0", "00", DP_ERR_OPCODE },
	{ "opcode-9", "09 00", DP_ERR_OPCODE },
	{ "opcode-ff", "ff", DP_ERR_OPCODE },
	{ "start-no-params", "01", DP_ERR_PARAMS },
	{ "start-2-params", "01 0101", DP_ERR_PARAMS },
	{ "stop-params", "02 00", DP_ERR_PARAMS },
	{ "set-time-7", "03 01020304050607", DP_ERR_PARAMS },
	{ "set-time-9", "03 010203040506070809", DP_ERR_PARAMS },
	{ "sync-3", "04 010203", DP_ERR_PARAMS },
	{ "sync-5", "04 0102030405", DP_ERR_PARAMS },
	{ "ack-0", "05", DP_ERR_PARAMS },
	{ "ack-8", "05 0102030405060708", DP_ERR_PARAMS },
	{ "zero-force-params", "06 0000", DP_ERR_PARAMS },
	{ "identify-none", "07", DP_ERR_PARAMS },
	{ "identify-2", "07 0500", DP_ERR_PARAMS },
	{ "set-zone-none", "08", DP_ERR_PARAMS },
	{ "start-zone-0", "01 00", DP_ERR_FIELD },
	{ "start-zone-11", "01 0b", DP_ERR_FIELD },
	{ "start-zone-ff", "01 ff", DP_ERR_FIELD },
	{ "set-zone-0", "08 00", DP_ERR_FIELD },
	{ "set-zone-11", "08 0b", DP_ERR_FIELD },
	{ "identify-0", "07 00", DP_ERR_FIELD },
	{ "identify-31", "07 1f", DP_ERR_FIELD },
	{ "ack-max", "05 ffffffff", DP_OK },
	{ "set-time-max", "03 ffffffffffffffff", DP_OK },
};

static void test_command_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(command_cases); i++) {
		uint8_t buf[64];
		struct dp_command cmd;
		size_t n = frame_hex(buf, sizeof(buf), 0x10, DP_FRAME_COMMAND, command_cases[i].body);

		g_test_message("case %s", command_cases[i].name);
		g_assert_cmpint(dp_command_decode(buf, n, &cmd), ==, command_cases[i].err);
		/* No minor exception for commands: sizes are exact. */
		buf[0] = 0x11;
		g_assert_cmpint(dp_command_decode(buf, n, &cmd), ==, command_cases[i].err);
	}
}

static void test_command_encode_robustness(void)
{
	static const struct {
		struct dp_command cmd;
		enum dp_err err;
	} cases[] = {
		{ { .opcode = 0 }, DP_ERR_OPCODE },
		{ { .opcode = 9 }, DP_ERR_OPCODE },
		{ { .opcode = DP_OP_START_SESSION, .u.zone = 0 }, DP_ERR_FIELD },
		{ { .opcode = DP_OP_START_SESSION, .u.zone = 11 }, DP_ERR_FIELD },
		{ { .opcode = DP_OP_SET_ZONE, .u.zone = 0 }, DP_ERR_FIELD },
		{ { .opcode = DP_OP_IDENTIFY, .u.seconds = 0 }, DP_ERR_FIELD },
		{ { .opcode = DP_OP_IDENTIFY, .u.seconds = 31 }, DP_ERR_FIELD },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t buf[32];
		size_t n = 999;

		g_assert_cmpint(dp_command_encode(&cases[i].cmd, buf, sizeof(buf), &n), ==, cases[i].err);
		g_assert_cmpuint(n, ==, 999);
	}
}

static const struct {
	struct dp_response rsp;
	const char *hex;
} response_vectors[] = {
	{ { .opcode = DP_OP_START_SESSION, .u.start.session = 0x0102 }, "10 0800 05 01 00 0201" },
	{ { .opcode = DP_OP_STOP_SESSION, .u.stop = { 0x0102, 0x0304 } }, "10 0a00 05 02 00 0201 0403" },
	{ { .opcode = DP_OP_SET_TIME, .u.previous_ms = 0x0102030405060708ULL },
	  "10 0e00 05 03 00 0807060504030201" },
	{ { .opcode = DP_OP_SYNC_HISTORY, .u.sync = { 0x01020304, 0x05060708 } },
	  "10 0e00 05 04 00 04030201 08070605" },
	{ { .opcode = DP_OP_ACK, .u.log_count = 0x0102 }, "10 0800 05 05 00 0201" },
	{ { .opcode = DP_OP_ZERO_FORCE, .u.force_offset_cn = -300 }, "10 0800 05 06 00 d4fe" },
	{ { .opcode = DP_OP_IDENTIFY }, "10 0600 05 07 00" },
	{ { .opcode = DP_OP_SET_ZONE }, "10 0600 05 08 00" },
	{ { .opcode = DP_OP_START_SESSION, .result = DP_RES_INVALID_STATE }, "10 0600 05 01 03" },
	{ { .opcode = DP_OP_START_SESSION, .result = DP_RES_LOG_FULL }, "10 0600 05 01 07" },
	{ { .opcode = DP_OP_SYNC_HISTORY, .result = DP_RES_BUSY }, "10 0600 05 04 04" },
	{ { .opcode = 0x42, .result = DP_RES_UNSUPPORTED }, "10 0600 05 42 01" },
	{ { .opcode = 0x00, .result = DP_RES_MALFORMED }, "10 0600 05 00 06" },
};

static void assert_response_eq(const struct dp_response *a, const struct dp_response *b)
{
	g_assert_cmpuint(a->opcode, ==, b->opcode);
	g_assert_cmpuint(a->result, ==, b->result);
	if (a->result != DP_RES_OK)
		return;
	switch (a->opcode) {
	case DP_OP_START_SESSION:
		g_assert_cmpuint(a->u.start.session, ==, b->u.start.session);
		break;
	case DP_OP_STOP_SESSION:
		g_assert_cmpuint(a->u.stop.session, ==, b->u.stop.session);
		g_assert_cmpuint(a->u.stop.passes, ==, b->u.stop.passes);
		break;
	case DP_OP_SET_TIME:
		g_assert_cmpuint(a->u.previous_ms, ==, b->u.previous_ms);
		break;
	case DP_OP_SYNC_HISTORY:
		g_assert_cmpuint(a->u.sync.first_seq, ==, b->u.sync.first_seq);
		g_assert_cmpuint(a->u.sync.next_seq, ==, b->u.sync.next_seq);
		break;
	case DP_OP_ACK:
		g_assert_cmpuint(a->u.log_count, ==, b->u.log_count);
		break;
	case DP_OP_ZERO_FORCE:
		g_assert_cmpint(a->u.force_offset_cn, ==, b->u.force_offset_cn);
		break;
	}
}

static void test_response_bytes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(response_vectors); i++) {
		uint8_t buf[32];
		struct dp_response got;
		size_t n = 0;

		g_test_message("vector %zu", i);
		g_assert_cmpint(dp_response_encode(&response_vectors[i].rsp, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, response_vectors[i].hex);
		g_assert_cmpint(dp_response_decode(buf, n, &got), ==, DP_OK);
		assert_response_eq(&got, &response_vectors[i].rsp);
	}
}

static const struct {
	const char *name, *body;
	enum dp_err err;
} response_cases[] = {
	{ "empty", "", DP_ERR_TRUNCATED },
	{ "no-result", "01", DP_ERR_TRUNCATED },
	{ "result-8", "01 08", DP_ERR_FIELD },
	{ "result-ff", "01 ff 0000", DP_ERR_FIELD },
	{ "ok-unknown-opcode", "42 00", DP_ERR_OPCODE },
	{ "ok-opcode-0", "00 00", DP_ERR_OPCODE },
	{ "unsupported-unknown-opcode", "42 01", DP_OK },
	{ "error-with-params", "01 03 0100", DP_ERR_PARAMS },
	{ "unknown-opcode-error-with-params", "42 01 00", DP_ERR_PARAMS },
	{ "start-ok-no-params", "01 00", DP_ERR_PARAMS },
	{ "start-ok-3", "01 00 010203", DP_ERR_PARAMS },
	{ "stop-ok-2", "02 00 0100", DP_ERR_PARAMS },
	{ "set-time-ok-4", "03 00 01020304", DP_ERR_PARAMS },
	{ "sync-ok-4", "04 00 01000000", DP_ERR_PARAMS },
	{ "ack-ok-4", "05 00 01000000", DP_ERR_PARAMS },
	{ "zero-ok-0", "06 00", DP_ERR_PARAMS },
	{ "identify-ok-1", "07 00 01", DP_ERR_PARAMS },
	{ "set-zone-ok-1", "08 00 01", DP_ERR_PARAMS },
};

static void test_response_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(response_cases); i++) {
		uint8_t buf[64];
		struct dp_response rsp;
		size_t n = frame_hex(buf, sizeof(buf), 0x10, DP_FRAME_RESPONSE, response_cases[i].body);

		g_test_message("case %s", response_cases[i].name);
		g_assert_cmpint(dp_response_decode(buf, n, &rsp), ==, response_cases[i].err);
	}
}

static void test_response_encode_robustness(void)
{
	uint8_t buf[32];
	struct dp_response rsp = { .opcode = DP_OP_STOP_SESSION, .result = 8 };
	size_t n = 999;

	g_assert_cmpint(dp_response_encode(&rsp, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	rsp.result = 0xff;
	g_assert_cmpint(dp_response_encode(&rsp, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	rsp.opcode = 0x42;
	rsp.result = DP_RES_OK;
	g_assert_cmpint(dp_response_encode(&rsp, buf, sizeof(buf), &n), ==, DP_ERR_OPCODE);
	g_assert_cmpuint(n, ==, 999);
}

/* ---- §9 Advertising ---- */

static void test_adv(void)
{
	struct dp_adv adv = { .flags = DP_ADV_PAIRING | DP_ADV_LOG_PENDING, .proto_major = 1 };
	struct dp_adv got;
	uint8_t buf[8];
	size_t n = 0;

	g_assert_cmpint(dp_adv_encode(&adv, buf, sizeof(buf), &n), ==, DP_OK);
	assert_bytes(buf, n, "03 01");
	g_assert_cmpint(dp_adv_decode(buf, n, &got), ==, DP_OK);
	g_assert_cmpuint(got.flags, ==, 3);
	g_assert_cmpuint(got.proto_major, ==, 1);

	/* Unknown flags, a newer major and extra bytes are not errors here. */
	n = hex_to(buf, sizeof(buf), "ff 02 0102");
	g_assert_cmpint(dp_adv_decode(buf, n, &got), ==, DP_OK);
	g_assert_cmpuint(got.flags, ==, 0xff);
	g_assert_cmpuint(got.proto_major, ==, 2);
}

static void test_adv_robustness(void)
{
	struct dp_adv adv = { .flags = 0, .proto_major = 0 };
	struct dp_adv got;
	uint8_t buf[8] = { 0 };
	size_t n = 99;

	g_assert_cmpint(dp_adv_decode(buf, 0, &got), ==, DP_ERR_TRUNCATED);
	buf[0] = 1;
	g_assert_cmpint(dp_adv_decode(buf, 1, &got), ==, DP_ERR_TRUNCATED);
	buf[1] = 0;
	g_assert_cmpint(dp_adv_decode(buf, 2, &got), ==, DP_ERR_FIELD);
	g_assert_cmpint(dp_adv_encode(&adv, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	g_assert_cmpuint(n, ==, 99);
}

/* ---- §2.2 Current Time ---- */

static void test_current_time_bytes(void)
{
	struct dp_current_time ct = {
		.year = 2024, .month = 2, .day = 29, .hours = 13, .minutes = 45,
		.seconds = 30, .day_of_week = 4, .fractions256 = 128, .adjust_reason = 1,
	};
	struct dp_current_time got;
	uint8_t buf[16];
	size_t n = 0;
	uint64_t ms = 0;

	g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &n), ==, DP_OK);
	assert_bytes(buf, n, "e807 02 1d 0d 2d 1e 04 80 01");
	g_assert_cmpint(dp_current_time_decode(buf, n, &got), ==, DP_OK);
	g_assert_cmpmem(&got, sizeof(got), &ct, sizeof(ct));
	g_assert_cmpint(dp_current_time_to_ms(&got, &ms), ==, DP_OK);
	g_assert_cmpuint(ms, ==, 131377530500ULL);
}

/* Edge dates; expected ms computed independently (Unix time - 1577836800). */
static const struct {
	uint16_t year;
	uint8_t month, day, hours, minutes, seconds, dow;
	uint64_t ms;
} date_cases[] = {
	{ 2020, 1, 1, 0, 0, 0, 3, 0 },
	{ 2020, 2, 29, 12, 0, 0, 6, 5140800000ULL },
	{ 2021, 1, 1, 0, 0, 0, 5, 31622400000ULL },
	{ 2024, 2, 29, 0, 0, 0, 4, 131328000000ULL },
	{ 2024, 2, 29, 13, 45, 30, 4, 131377530000ULL },
	{ 2099, 12, 31, 23, 59, 59, 4, 2524607999000ULL },
	{ 2100, 3, 1, 0, 0, 0, 1, 2529705600000ULL },
	{ 9999, 12, 31, 23, 59, 59, 5, 251824463999000ULL },
};

static void test_current_time_dates(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(date_cases); i++) {
		struct dp_current_time ct = {
			.year = date_cases[i].year, .month = date_cases[i].month,
			.day = date_cases[i].day, .hours = date_cases[i].hours,
			.minutes = date_cases[i].minutes, .seconds = date_cases[i].seconds,
		};
		struct dp_current_time got;
		uint64_t ms = 1;

		g_test_message("%04u-%02u-%02u", ct.year, ct.month, ct.day);
		g_assert_cmpint(dp_current_time_to_ms(&ct, &ms), ==, DP_OK);
		g_assert_cmpuint(ms, ==, date_cases[i].ms);
		dp_current_time_from_ms(date_cases[i].ms + 999, &got);
		g_assert_cmpuint(got.year, ==, ct.year);
		g_assert_cmpuint(got.month, ==, ct.month);
		g_assert_cmpuint(got.day, ==, ct.day);
		g_assert_cmpuint(got.hours, ==, ct.hours);
		g_assert_cmpuint(got.minutes, ==, ct.minutes);
		g_assert_cmpuint(got.seconds, ==, ct.seconds);
		g_assert_cmpuint(got.day_of_week, ==, date_cases[i].dow);
		g_assert_cmpuint(got.fractions256, ==, 255);
		g_assert_cmpuint(got.adjust_reason, ==, 0);
	}
}

/* Every day from 2020 to 2400 (leap centuries included): the date advances
 * by one calendar day, the weekday by one, and to_ms gives the ms back. */
static void test_current_time_every_day(void)
{
	struct dp_current_time prev, ct;
	uint64_t days = 0, ms;

	dp_current_time_from_ms(0, &prev);
	for (days = 1; ; days++) {
		uint64_t t = days * 86400000ULL + 43200000ULL + 123;

		dp_current_time_from_ms(t, &ct);
		if (ct.year > 2400)
			break;
		if (ct.day == 1) {
			g_assert_true(prev.day >= 28);
			g_assert_true(ct.month == prev.month + 1 ||
				      (ct.month == 1 && prev.month == 12 && ct.year == prev.year + 1));
			if (prev.month == 2)
				g_assert_cmpuint(prev.day, ==,
					(prev.year % 4 == 0 && (prev.year % 100 != 0 || prev.year % 400 == 0)) ? 29 : 28);
		} else {
			g_assert_cmpuint(ct.day, ==, prev.day + 1);
			g_assert_cmpuint(ct.month, ==, prev.month);
			g_assert_cmpuint(ct.year, ==, prev.year);
		}
		g_assert_cmpuint(ct.day_of_week, ==, prev.day_of_week % 7 + 1);
		g_assert_cmpuint(ct.hours, ==, 12);
		g_assert_cmpuint(ct.minutes, ==, 0);
		g_assert_cmpuint(ct.seconds, ==, 0);
		g_assert_cmpint(dp_current_time_to_ms(&ct, &ms), ==, DP_OK);
		/* 123 ms is 31.488/256 s: fractions256 31, back as
		 * floor(31 * 1000 / 256) = 121 ms (§2.2.3). */
		g_assert_cmpuint(ct.fractions256, ==, 31);
		g_assert_cmpuint(ms, ==, t - 2);
		prev = ct;
	}
	/* 2020-01-01 to 2401-01-01: 381 years, 93 leap years. */
	g_assert_cmpuint(days, ==, 381 * 365 + 93);
}

/* §2.2.3: fractions256 adds floor(f * 1000 / 256) ms; reading back gives f
 * or, where the floor lost more than 1/256 s worth, f - 1. */
static void test_current_time_fractions(void)
{
	unsigned int exact = 0;

	for (unsigned int f = 0; f < 256; f++) {
		struct dp_current_time ct = {
			.year = 2031, .month = 7, .day = 14, .hours = 23, .minutes = 59,
			.seconds = 59, .day_of_week = 1, .fractions256 = (uint8_t)f,
		}, got;
		uint64_t ms;

		g_assert_cmpint(dp_current_time_to_ms(&ct, &ms), ==, DP_OK);
		g_assert_cmpuint(ms % 1000, ==, f * 1000 / 256);
		dp_current_time_from_ms(ms, &got);
		g_assert_true(got.fractions256 == f || got.fractions256 + 1u == f);
		exact += got.fractions256 == f;
		got.fractions256 = ct.fractions256;
		g_assert_cmpmem(&got, sizeof(got), &ct, sizeof(ct));
	}
	/* f = 0 and every multiple of 32 (exact ms) come back unchanged. */
	g_assert_cmpuint(exact, >=, 8);
}

static void test_current_time_robustness(void)
{
	static const struct {
		const char *name, *hex;
		enum dp_err err;
	} wire[] = {
		{ "empty", "", DP_ERR_TRUNCATED },
		{ "9-bytes", "e807 02 1d 0d 2d 1e 04 80", DP_ERR_TRUNCATED },
		{ "11-bytes", "e807 02 1d 0d 2d 1e 04 80 01 00", DP_ERR_LENGTH },
		{ "year-1581", "2d06 01 01 00 00 00 00 00 00", DP_ERR_FIELD },
		{ "year-1582", "2e06 01 01 00 00 00 00 00 00", DP_OK },
		{ "year-10000", "1027 01 01 00 00 00 00 00 00", DP_ERR_FIELD },
		{ "year-1", "0100 01 01 00 00 00 00 00 00", DP_ERR_FIELD },
		{ "year-0-unknown", "0000 00 00 00 00 00 00 00 00", DP_OK },
		{ "month-13", "e807 0d 01 00 00 00 00 00 00", DP_ERR_FIELD },
		{ "day-32", "e807 01 20 00 00 00 00 00 00", DP_ERR_FIELD },
		{ "hours-24", "e807 01 01 18 00 00 00 00 00", DP_ERR_FIELD },
		{ "minutes-60", "e807 01 01 00 3c 00 00 00 00", DP_ERR_FIELD },
		{ "seconds-60", "e807 01 01 00 00 3c 00 00 00", DP_ERR_FIELD },
		{ "dow-8", "e807 01 01 00 00 00 08 00 00", DP_ERR_FIELD },
		{ "dow-7", "e807 01 01 00 00 00 07 ff ff", DP_OK },
	};
	static const struct dp_current_time bad_dates[] = {
		{ .year = 2023, .month = 2, .day = 29 },
		{ .year = 2100, .month = 2, .day = 29 },
		{ .year = 2023, .month = 4, .day = 31 },
		{ .year = 2024, .month = 2, .day = 30 },
		{ .year = 2019, .month = 12, .day = 31, .hours = 23, .minutes = 59, .seconds = 59 },
		{ .year = 2000, .month = 2, .day = 29 },
		{ .year = 0, .month = 1, .day = 1 },
		{ .year = 2024, .month = 0, .day = 1 },
		{ .year = 2024, .month = 1, .day = 0 },
		{ .year = 2024, .month = 13, .day = 1 },
		{ .year = 2024, .month = 1, .day = 1, .hours = 24 },
		{ .year = 2024, .month = 1, .day = 1, .minutes = 60 },
		{ .year = 2024, .month = 1, .day = 1, .seconds = 60 },
		{ .year = 10000, .month = 1, .day = 1 },
	};
	struct dp_current_time ct;
	uint8_t buf[16];
	size_t n;

	for (size_t i = 0; i < G_N_ELEMENTS(wire); i++) {
		g_test_message("case %s", wire[i].name);
		n = hex_to(buf, sizeof(buf), wire[i].hex);
		g_assert_cmpint(dp_current_time_decode(buf, n, &ct), ==, wire[i].err);
		if (!wire[i].err) {
			size_t m = 0;
			uint8_t out[16];

			g_assert_cmpint(dp_current_time_encode(&ct, out, sizeof(out), &m), ==, DP_OK);
			g_assert_cmpmem(out, m, buf, n);
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad_dates); i++) {
		uint64_t ms = 77;

		g_test_message("bad date %zu", i);
		g_assert_cmpint(dp_current_time_to_ms(&bad_dates[i], &ms), ==, DP_ERR_FIELD);
		g_assert_cmpuint(ms, ==, 77);
	}
	/* Encoder applies the decoder's ranges. */
	ct = (struct dp_current_time){ .year = 2024, .month = 1, .day = 1, .day_of_week = 8 };
	g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);
	ct.day_of_week = 1;
	ct.year = 1000;
	g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &n), ==, DP_ERR_FIELD);

	/* Past 9999-12-31T23:59:59.999 the time is "unknown". */
	dp_current_time_from_ms(251824463999999ULL, &ct);
	g_assert_cmpuint(ct.year, ==, 9999);
	g_assert_cmpuint(ct.fractions256, ==, 255);
	dp_current_time_from_ms(251824464000000ULL, &ct);
	g_assert_cmpuint(ct.year, ==, 0);
	g_assert_cmpuint(ct.month, ==, 0);
	g_assert_cmpuint(ct.day, ==, 0);
	g_assert_cmpuint(ct.day_of_week, ==, 0);
	dp_current_time_from_ms(UINT64_MAX, &ct);
	g_assert_cmpuint(ct.year, ==, 0);
}

/* ---- NO_SPACE at every cap for the fixed frames ---- */

struct fixed_vec {
	const char *name;
	enum kind kind;
	const void *value;
};

static enum dp_err encode_fixed(const struct fixed_vec *v, uint8_t *buf, size_t cap, size_t *n)
{
	switch (v->kind) {
	case K_INFO:
		return dp_info_encode(v->value, buf, cap, n);
	case K_COMMAND:
		return dp_command_encode(v->value, buf, cap, n);
	case K_RESPONSE:
		return dp_response_encode(v->value, buf, cap, n);
	case K_ADV:
		return dp_adv_encode(v->value, buf, cap, n);
	case K_CT:
		return dp_current_time_encode(v->value, buf, cap, n);
	default:
		g_assert_not_reached();
	}
	return DP_OK;
}

static void test_fixed_no_space_robustness(void)
{
	static const struct dp_adv adv = { .flags = 1, .proto_major = 1 };
	static const struct dp_current_time ct = { .year = 2024, .month = 2, .day = 29 };
	struct dp_info info;
	struct fixed_vec vecs[64];
	size_t nvec = 0;

	sample_info(&info);
	vecs[nvec++] = (struct fixed_vec){ "info", K_INFO, &info };
	vecs[nvec++] = (struct fixed_vec){ "adv", K_ADV, &adv };
	vecs[nvec++] = (struct fixed_vec){ "current-time", K_CT, &ct };
	for (size_t i = 0; i < G_N_ELEMENTS(command_vectors); i++)
		vecs[nvec++] = (struct fixed_vec){ "command", K_COMMAND, &command_vectors[i].cmd };
	for (size_t i = 0; i < G_N_ELEMENTS(response_vectors); i++)
		vecs[nvec++] = (struct fixed_vec){ "response", K_RESPONSE, &response_vectors[i].rsp };

	for (size_t i = 0; i < nvec; i++) {
		uint8_t full[128];
		size_t need = 0;

		g_test_message("vector %zu %s", i, vecs[i].name);
		g_assert_cmpint(encode_fixed(&vecs[i], full, sizeof(full), &need), ==, DP_OK);
		for (size_t cap = 0; cap < need; cap++) {
			uint8_t buf[128];
			size_t n = 4242;

			memset(buf, 0xaa, sizeof(buf));
			g_assert_cmpint(encode_fixed(&vecs[i], buf, cap, &n), ==, DP_ERR_NO_SPACE);
			g_assert_cmpuint(n, ==, 4242);
			for (size_t k = cap; k < sizeof(buf); k++)
				g_assert_cmpuint(buf[k], ==, 0xaa);
		}
	}
}

/* ---- Every proper prefix of a valid frame is refused ---- */

static void check_prefixes(enum kind kind, const uint8_t *frame, size_t n,
			   const size_t *boundaries, size_t nb)
{
	g_assert_cmpint(decode_all(kind, frame, n, NULL), ==, DP_OK);
	for (size_t len = 0; len < n; len++) {
		uint8_t buf[DP_MAX_FRAME];
		bool boundary = false;
		enum dp_err err;

		/* As received: the length field still says n. */
		err = decode_all(kind, frame, len, NULL);
		g_assert_cmpint(err, !=, DP_OK);
		if (kind != K_ADV && kind != K_CT)
			g_assert_cmpint(err, ==, DP_ERR_TRUNCATED);

		/* With the length field patched to the cut: still refused
		 * unless the cut falls between two records (a shorter valid
		 * frame). */
		if (kind == K_ADV || kind == K_CT || len < DP_HEADER_SIZE)
			continue;
		memcpy(buf, frame, len);
		buf[1] = (uint8_t)len;
		buf[2] = (uint8_t)(len >> 8);
		for (size_t b = 0; b < nb; b++)
			boundary |= boundaries[b] == len;
		err = decode_all(kind, buf, len, NULL);
		if (boundary)
			g_assert_cmpint(err, ==, DP_OK);
		else
			g_assert_cmpint(err, !=, DP_OK);
	}
}

static void test_prefix_robustness(void)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_force f;
	struct dp_info info;
	size_t n, b[8];
	static const struct dp_adv adv = { .flags = 1, .proto_major = 1 };
	static const struct dp_current_time ct = { .year = 2024, .month = 2, .day = 29 };

	sample_force(&f);
	dp_stream_begin(&w, buf, sizeof(buf), &sample_head);
	b[0] = w.len;
	dp_put_force(&w, &f);
	b[1] = w.len;
	dp_put_pass(&w, &sample_pass);
	b[2] = w.len;
	dp_put_status(&w, &sample_status);
	n = dp_frame_finish(&w);
	check_prefixes(K_STREAM, buf, n, b, 3);

	dp_history_begin(&w, buf, sizeof(buf));
	b[0] = w.len;
	dp_put_pass(&w, &sample_pass);
	b[1] = w.len;
	dp_put_log_end(&w, &sample_log_end);
	n = dp_frame_finish(&w);
	check_prefixes(K_HISTORY, buf, n, b, 2);

	sample_info(&info);
	g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_OK);
	check_prefixes(K_INFO, buf, n, NULL, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(command_vectors); i++) {
		g_assert_cmpint(dp_command_encode(&command_vectors[i].cmd, buf, sizeof(buf), &n), ==, DP_OK);
		check_prefixes(K_COMMAND, buf, n, NULL, 0);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(response_vectors); i++) {
		g_assert_cmpint(dp_response_encode(&response_vectors[i].rsp, buf, sizeof(buf), &n), ==, DP_OK);
		check_prefixes(K_RESPONSE, buf, n, NULL, 0);
	}
	g_assert_cmpint(dp_adv_encode(&adv, buf, sizeof(buf), &n), ==, DP_OK);
	check_prefixes(K_ADV, buf, n, NULL, 0);
	g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &n), ==, DP_OK);
	check_prefixes(K_CT, buf, n, NULL, 0);
}

/* ---- PROTOCOL.md §13 worked examples, byte for byte ---- */

#define SPEC_PASS_57 { .seq = 57, .start_ms = 164107798500ULL, .duration_ms = 1480, \
	.distance_mm = 42, .direction = DP_DIR_FORWARD, .angle_deg = 88, .mean_force_cn = 305, \
	.peak_force_cn = 412, .over_warn_ms = 0, .session = 12, .zone = DP_ZONE_LEFT_CHEEK, \
	.flags = DP_PASS_END_REVERSAL }

static void test_spec_examples(void)
{
	static const struct dp_pass pass57 = SPEC_PASS_57;
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	size_t n;

	/* §13.1 STREAM */
	{
		struct dp_stream_head head = { .seq = 1234, .time_ms = 164107800000ULL };
		struct dp_force f = { .period_ms = 5, .count = 3, .cn = { 312, 318, 325 } };
		struct dp_status st = {
			.state = DP_STATE_SESSION, .battery_pct = 80,
			.flags = DP_STATUS_CLOCK_SET | DP_STATUS_CONTACT, .log_count = 1,
			.log_first_seq = 57, .log_next_seq = 58, .session = 12,
			.zone = DP_ZONE_LEFT_CHEEK,
		};

		dp_stream_begin(&w, buf, sizeof(buf), &head);
		g_assert_cmpint(dp_put_force(&w, &f), ==, DP_OK);
		g_assert_cmpint(dp_put_pass(&w, &pass57), ==, DP_OK);
		g_assert_cmpint(dp_put_status(&w, &st), ==, DP_OK);
		n = dp_frame_finish(&w);
		assert_bytes(buf, n,
			"10 4c 00 02 d2 04 00 00 c0 4d 96 35 26 00 00 00"
			"01 08 05 03 38 01 3e 01 45 01 02 1c 39 00 00 00"
			"e4 47 96 35 26 00 00 00 c8 05 2a 00 01 58 31 01"
			"9c 01 00 00 0c 00 02 02 03 12 01 50 12 01 00 39"
			"00 00 00 3a 00 00 00 00 00 0c 00 02");
	}
	/* §13.2 START_SESSION */
	{
		struct dp_command cmd = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_FOREHEAD };
		struct dp_response rsp = { .opcode = DP_OP_START_SESSION, .u.start.session = 12 };

		g_assert_cmpint(dp_command_encode(&cmd, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, "10 06 00 04 01 01");
		g_assert_cmpint(dp_response_encode(&rsp, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, "10 08 00 05 01 00 0c 00");
		rsp.result = DP_RES_INVALID_STATE;
		g_assert_cmpint(dp_response_encode(&rsp, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, "10 06 00 05 01 03");
	}
	/* §13.3 INFO */
	{
		struct dp_info info = {
			.firmware = "1.0.0", .serial = "DR-SIM-0001", .needle_um = 500,
			.head_serial = "HD-00042", .head_uses = 3, .head_fitted_ms = 162237900000ULL,
			.force_offset_cn = -12, .force_scale_pm = 1000, .ticks_per_10mm = 40,
			.warn_force_cn = 500, .clock_ms = 164107800250ULL,
			.clock_flags = DP_STATUS_CLOCK_SET,
		};
		struct dp_info got;

		g_assert_cmpint(dp_info_encode(&info, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n,
			"10 3c 00 01 05 31 2e 30 2e 30 0b 44 52 2d 53 49"
			"4d 2d 30 30 30 31 f4 01 08 48 44 2d 30 30 30 34"
			"32 03 00 e0 e4 21 c6 25 00 00 00 f4 ff e8 03 28"
			"00 f4 01 ba 4e 96 35 26 00 00 00 02");
		g_assert_cmpint(dp_info_decode(buf, n, &got), ==, DP_OK);
		assert_info_eq(&got, &info);
	}
	/* §13.4 SET_TIME, SYNC_HISTORY, HISTORY, ACK */
	{
		static const struct {
			struct dp_command cmd;
			struct dp_response rsp;
			const char *cmd_hex, *rsp_hex;
		} ex[] = {
			{ { .opcode = DP_OP_SET_TIME, .u.time_ms = 164107800000ULL },
			  { .opcode = DP_OP_SET_TIME, .u.previous_ms = 3600000 },
			  "10 0d 00 04 03 c0 4d 96 35 26 00 00 00",
			  "10 0e 00 05 03 00 80 ee 36 00 00 00 00 00" },
			{ { .opcode = DP_OP_SYNC_HISTORY, .u.seq = 0 },
			  { .opcode = DP_OP_SYNC_HISTORY, .u.sync = { 57, 58 } },
			  "10 09 00 04 04 00 00 00 00",
			  "10 0e 00 05 04 00 39 00 00 00 3a 00 00 00" },
			{ { .opcode = DP_OP_ACK, .u.seq = 57 },
			  { .opcode = DP_OP_ACK, .u.log_count = 0 },
			  "10 09 00 04 05 39 00 00 00",
			  "10 08 00 05 05 00 00 00" },
		};
		struct dp_log_end end = { .first_seq = 57, .next_seq = 58, .sent = 1 };

		for (size_t i = 0; i < G_N_ELEMENTS(ex); i++) {
			g_assert_cmpint(dp_command_encode(&ex[i].cmd, buf, sizeof(buf), &n), ==, DP_OK);
			assert_bytes(buf, n, ex[i].cmd_hex);
			g_assert_cmpint(dp_response_encode(&ex[i].rsp, buf, sizeof(buf), &n), ==, DP_OK);
			assert_bytes(buf, n, ex[i].rsp_hex);
		}
		dp_history_begin(&w, buf, sizeof(buf));
		g_assert_cmpint(dp_put_pass(&w, &pass57), ==, DP_OK);
		g_assert_cmpint(dp_put_log_end(&w, &end), ==, DP_OK);
		n = dp_frame_finish(&w);
		assert_bytes(buf, n,
			"10 2e 00 03 02 1c 39 00 00 00 e4 47 96 35 26 00"
			"00 00 c8 05 2a 00 01 58 31 01 9c 01 00 00 0c 00"
			"02 02 04 0a 39 00 00 00 3a 00 00 00 01 00");
	}
	/* §13.5 Current Time */
	{
		struct dp_current_time ct;
		uint64_t ms = 0;

		n = hex_to(buf, sizeof(buf), "e9 07 03 0e 09 1e 00 05 00 02");
		g_assert_cmpint(dp_current_time_decode(buf, n, &ct), ==, DP_OK);
		g_assert_cmpint(dp_current_time_to_ms(&ct, &ms), ==, DP_OK);
		g_assert_cmpuint(ms, ==, 164107800000ULL);
		dp_current_time_from_ms(ms, &ct);
		g_assert_cmpuint(ct.day_of_week, ==, 5);
		ct.adjust_reason = 0x02;
		g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, "e9 07 03 0e 09 1e 00 05 00 02");
	}
	/* §13.6 service data */
	{
		struct dp_adv adv = { .flags = DP_ADV_LOG_PENDING, .proto_major = 1 };

		g_assert_cmpint(dp_adv_encode(&adv, buf, sizeof(buf), &n), ==, DP_OK);
		assert_bytes(buf, n, "02 01");
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/codec/strerror", test_strerror);
	g_test_add_func("/codec/header", test_header);
	g_test_add_func("/codec/robustness/header", test_header_robustness);
	g_test_add_func("/codec/robustness/frame-type", test_frame_type_robustness);
	g_test_add_func("/codec/stream/bytes", test_stream_bytes);
	g_test_add_func("/codec/stream/empty", test_stream_empty);
	g_test_add_func("/codec/stream/force-extremes", test_stream_force_extremes);
	g_test_add_func("/codec/stream/capacity", test_stream_capacity);
	g_test_add_func("/codec/history/bytes", test_history_bytes);
	g_test_add_func("/codec/record/pass-limits", test_pass_limits);
	g_test_add_func("/codec/record/size", test_record_size);
	g_test_add_func("/codec/record/newer-minor-prefix", test_record_newer_minor_prefix);
	g_test_add_func("/codec/robustness/records", test_record_robustness);
	g_test_add_func("/codec/robustness/force-count-121", test_force_count_121_robustness);
	g_test_add_func("/codec/robustness/record-fields", test_record_field_robustness);
	g_test_add_func("/codec/robustness/writer-place", test_writer_place_robustness);
	g_test_add_func("/codec/robustness/writer-no-space", test_writer_no_space_robustness);
	g_test_add_func("/codec/robustness/writer-cap-clamp", test_writer_cap_clamp);
	g_test_add_func("/codec/info/bytes", test_info_bytes);
	g_test_add_func("/codec/info/sizes", test_info_sizes);
	g_test_add_func("/codec/robustness/info", test_info_robustness);
	g_test_add_func("/codec/robustness/info-encode", test_info_encode_robustness);
	g_test_add_func("/codec/command/bytes", test_command_bytes);
	g_test_add_func("/codec/robustness/command", test_command_robustness);
	g_test_add_func("/codec/robustness/command-encode", test_command_encode_robustness);
	g_test_add_func("/codec/response/bytes", test_response_bytes);
	g_test_add_func("/codec/robustness/response", test_response_robustness);
	g_test_add_func("/codec/robustness/response-encode", test_response_encode_robustness);
	g_test_add_func("/codec/adv/bytes", test_adv);
	g_test_add_func("/codec/robustness/adv", test_adv_robustness);
	g_test_add_func("/codec/current-time/bytes", test_current_time_bytes);
	g_test_add_func("/codec/current-time/dates", test_current_time_dates);
	g_test_add_func("/codec/current-time/every-day", test_current_time_every_day);
	g_test_add_func("/codec/current-time/fractions", test_current_time_fractions);
	g_test_add_func("/codec/robustness/current-time", test_current_time_robustness);
	g_test_add_func("/codec/robustness/fixed-no-space", test_fixed_no_space_robustness);
	g_test_add_func("/codec/robustness/prefixes", test_prefix_robustness);
	g_test_add_func("/codec/spec-examples", test_spec_examples);

	return g_test_run();
}
