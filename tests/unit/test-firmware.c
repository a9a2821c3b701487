/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The firmware state machine (PROTOCOL.md §11) with no transport: the test
 * calls the input functions, captures what the injected notify/indicate
 * send, decodes it with the codec and asserts on the decoded values.
 */
#include <glib.h>
#include <string.h>

#include "dp/codec.h"
#include "dp/firmware.h"

#define PERIOD 5

/* ---- The rig: a dp_fw, a capturing host, and a hand on the roller ---- */

struct rig {
	struct dp_fw *fw;
	struct dp_fw_ops ops;

	/* What the host side does with the next notifications/indications. */
	int notify_budget;           /* < 0: unlimited; else accept this many, then refuse */
	bool indicate_refuses;
	bool auto_confirm;

	/* Everything decoded so far. */
	guint frames, stream_frames, history_frames, refused;
	uint32_t last_stream_seq;
	uint16_t mtu;                /* frames must be <= mtu - 3 */
	GArray *force;               /* uint16_t, every FORCE sample in order */
	GArray *force_time;          /* uint64_t, device time of each sample */
	GArray *stream_passes;       /* struct dp_pass */
	GArray *history_passes;      /* struct dp_pass */
	GArray *statuses;            /* struct dp_status */
	GArray *log_ends;            /* struct dp_log_end */
	GArray *responses;           /* struct dp_response */
	GArray *battery;             /* uint8_t, Battery Level notifications */
	GArray *times;               /* struct dp_current_time, Current Time notifications */
	guint identify_calls;
	uint8_t identify_seconds;

	/* The hand. */
	uint64_t t;
	int32_t enc;
	uint16_t force_raw;
	uint8_t angle;
};

static void decode_stream(struct rig *r, const uint8_t *buf, size_t len)
{
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	int rc;

	g_assert_cmpint(dp_stream_decode(buf, len, &head, &it), ==, DP_OK);
	/* §11.5: seq +1 per frame since power-up, no gaps ever. */
	g_assert_cmpuint(head.seq, ==, r->last_stream_seq + 1);
	r->last_stream_seq = head.seq;
	r->stream_frames++;
	while ((rc = dp_record_next(&it, &rec)) == 1) {
		switch (rec.type) {
		case DP_REC_FORCE:
			g_assert_cmpuint(rec.u.force.period_ms, ==, r->fw->cfg.force_period_ms);
			for (guint i = 0; i < rec.u.force.count; i++) {
				uint64_t ft = head.time_ms + (uint64_t)i * rec.u.force.period_ms;

				g_array_append_val(r->force, rec.u.force.cn[i]);
				g_array_append_val(r->force_time, ft);
			}
			break;
		case DP_REC_PASS:
			if (r->stream_passes->len) {
				const struct dp_pass *prev = &g_array_index(r->stream_passes, struct dp_pass,
									    r->stream_passes->len - 1);

				g_assert_cmpuint(rec.u.pass.seq, >, prev->seq);
			}
			g_array_append_val(r->stream_passes, rec.u.pass);
			break;
		case DP_REC_STATUS:
			g_array_append_val(r->statuses, rec.u.status);
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_cmpint(rc, ==, 0);
}

static void decode_history(struct rig *r, const uint8_t *buf, size_t len)
{
	struct dp_record_iter it;
	struct dp_record rec;
	int rc;

	g_assert_cmpint(dp_history_decode(buf, len, &it), ==, DP_OK);
	r->history_frames++;
	while ((rc = dp_record_next(&it, &rec)) == 1) {
		switch (rec.type) {
		case DP_REC_PASS:
			g_array_append_val(r->history_passes, rec.u.pass);
			break;
		case DP_REC_LOG_END:
			g_array_append_val(r->log_ends, rec.u.log_end);
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_cmpint(rc, ==, 0);
}

static bool rig_notify(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct rig *r = user_data;
	struct dp_current_time ct;

	g_assert_true(r->fw->connected);
	g_assert_cmpuint(r->fw->subscribed[chr], ==, 1);
	/* The standard services need no encryption (§2.3). */
	if (chr == DP_CHAR_BATTERY) {
		g_assert_cmpuint(len, ==, 1);
		g_array_append_vals(r->battery, buf, 1);
		return true;
	}
	if (chr == DP_CHAR_CURRENT_TIME) {
		g_assert_cmpint(dp_current_time_decode(buf, len, &ct), ==, DP_OK);
		g_array_append_val(r->times, ct);
		return true;
	}
	/* §11.5: the custom service only on an encrypted link. */
	g_assert_true(r->fw->encrypted);
	if (r->notify_budget == 0) {
		r->refused++;
		return false;
	}
	if (r->notify_budget > 0)
		r->notify_budget--;
	g_assert_cmpuint(len, <=, (size_t)r->mtu - 3);
	r->frames++;
	if (chr == DP_CHAR_STREAM)
		decode_stream(r, buf, len);
	else if (chr == DP_CHAR_HISTORY)
		decode_history(r, buf, len);
	else
		g_assert_not_reached();
	return true;
}

static bool rig_indicate(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct rig *r = user_data;
	struct dp_response rsp;

	g_assert_cmpint(chr, ==, DP_CHAR_CONTROL);
	g_assert_true(r->fw->connected && r->fw->encrypted);
	g_assert_cmpuint(r->fw->subscribed[DP_CHAR_CONTROL], ==, 2);
	if (r->indicate_refuses)
		return false;
	g_assert_cmpuint(len, <=, (size_t)r->mtu - 3);
	g_assert_cmpint(dp_response_decode(buf, len, &rsp), ==, DP_OK);
	g_array_append_val(r->responses, rsp);
	return true;
}

static void rig_identify(void *user_data, uint8_t seconds)
{
	struct rig *r = user_data;

	r->identify_calls++;
	r->identify_seconds = seconds;
}

static struct rig *rig_new_cfg(const struct dp_fw_config *cfg)
{
	struct rig *r = g_new0(struct rig, 1);

	r->fw = g_new0(struct dp_fw, 1);
	r->ops.notify = rig_notify;
	r->ops.indicate = rig_indicate;
	r->ops.identify = rig_identify;
	r->notify_budget = -1;
	r->auto_confirm = true;
	r->force = g_array_new(FALSE, TRUE, sizeof(uint16_t));
	r->force_time = g_array_new(FALSE, TRUE, sizeof(uint64_t));
	r->stream_passes = g_array_new(FALSE, TRUE, sizeof(struct dp_pass));
	r->history_passes = g_array_new(FALSE, TRUE, sizeof(struct dp_pass));
	r->statuses = g_array_new(FALSE, TRUE, sizeof(struct dp_status));
	r->log_ends = g_array_new(FALSE, TRUE, sizeof(struct dp_log_end));
	r->responses = g_array_new(FALSE, TRUE, sizeof(struct dp_response));
	r->battery = g_array_new(FALSE, TRUE, sizeof(uint8_t));
	r->times = g_array_new(FALSE, TRUE, sizeof(struct dp_current_time));
	r->angle = 90;
	dp_fw_init(r->fw, cfg, &r->ops, r);
	return r;
}

static struct rig *rig_new(void)
{
	struct dp_fw_config cfg;

	dp_fw_config_default(&cfg);
	return rig_new_cfg(&cfg);
}

static void rig_free(struct rig *r)
{
	g_array_unref(r->force);
	g_array_unref(r->force_time);
	g_array_unref(r->stream_passes);
	g_array_unref(r->history_passes);
	g_array_unref(r->statuses);
	g_array_unref(r->log_ends);
	g_array_unref(r->responses);
	g_array_unref(r->battery);
	g_array_unref(r->times);
	g_free(r->fw);
	g_free(r);
}

static void rig_connect_mtu(struct rig *r, bool encrypted, uint16_t mtu)
{
	dp_fw_connect(r->fw, encrypted, mtu);
	r->mtu = r->fw->att_mtu;
}

/* Connected, encrypted and subscribed to everything, like a host after
 * discovery. */
static void rig_connect(struct rig *r, uint16_t mtu)
{
	rig_connect_mtu(r, true, mtu);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CONTROL, 2), ==, DP_ATT_OK);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_HISTORY, 1), ==, DP_ATT_OK);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_STREAM, 1), ==, DP_ATT_OK);
}

static uint8_t rig_write_cmd(struct rig *r, const struct dp_command *cmd)
{
	uint8_t buf[32];
	size_t len;

	g_assert_cmpint(dp_command_encode(cmd, buf, sizeof(buf), &len), ==, DP_OK);
	return dp_fw_write(r->fw, DP_CHAR_CONTROL, buf, len);
}

/* Writes raw bytes to the control point; expects ATT OK and exactly one
 * indication, which is confirmed and returned. */
static struct dp_response rig_write_raw(struct rig *r, const uint8_t *buf, size_t len)
{
	guint before = r->responses->len;
	struct dp_response rsp;

	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CONTROL, buf, len), ==, DP_ATT_OK);
	g_assert_cmpuint(r->responses->len, ==, before + 1);
	rsp = g_array_index(r->responses, struct dp_response, before);
	if (r->auto_confirm)
		dp_fw_confirm(r->fw);
	return rsp;
}

static struct dp_response rig_cmd(struct rig *r, uint8_t opcode, uint64_t param)
{
	struct dp_command cmd = { .opcode = opcode };
	uint8_t buf[32];
	size_t len;
	struct dp_response rsp;

	switch (opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_SET_ZONE:
		cmd.u.zone = (uint8_t)param;
		break;
	case DP_OP_IDENTIFY:
		cmd.u.seconds = (uint8_t)param;
		break;
	case DP_OP_SET_TIME:
		cmd.u.time_ms = param;
		break;
	case DP_OP_SYNC_HISTORY:
	case DP_OP_ACK:
		cmd.u.seq = (uint32_t)param;
		break;
	}
	g_assert_cmpint(dp_command_encode(&cmd, buf, sizeof(buf), &len), ==, DP_OK);
	rsp = rig_write_raw(r, buf, len);
	g_assert_cmpuint(rsp.opcode, ==, opcode);
	return rsp;
}

static uint8_t rig_result(struct rig *r, uint8_t opcode, uint64_t param)
{
	return rig_cmd(r, opcode, param).result;
}

/* One 5 ms sample, then a tick at the same time (as roller-sim does). */
static void rig_step(struct rig *r, int32_t dticks)
{
	struct dp_sample s;

	r->t += PERIOD;
	r->enc += dticks;
	s.t_ms = r->t;
	s.encoder = r->enc;
	s.force_raw_cn = r->force_raw;
	s.angle_deg = r->angle;
	dp_fw_sample(r->fw, &s);
	dp_fw_tick(r->fw, r->t);
}

static void rig_run(struct rig *r, guint steps, int32_t dticks)
{
	for (guint i = 0; i < steps; i++)
		rig_step(r, dticks);
}

/* Lifted and still for ms (samples keep coming, as on the real roller). */
static void rig_idle(struct rig *r, uint64_t ms)
{
	r->force_raw = 0;
	rig_run(r, (guint)(ms / PERIOD), 0);
}

/* A whole pass: set down, roll ticks (negative: backward), lift. */
static void rig_pass(struct rig *r, uint16_t force, int32_t ticks)
{
	r->force_raw = force;
	rig_run(r, 2, 0);
	rig_run(r, (guint)ABS(ticks), ticks > 0 ? 1 : -1);
	rig_idle(r, 100);
}

static const struct dp_status *last_status(struct rig *r)
{
	g_assert_cmpuint(r->statuses->len, >, 0);
	return &g_array_index(r->statuses, struct dp_status, r->statuses->len - 1);
}

static struct dp_info rig_info(struct rig *r)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t len;
	struct dp_info info;

	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_INFO, buf, sizeof(buf), &len), ==, DP_ATT_OK);
	g_assert_cmpint(dp_info_decode(buf, len, &info), ==, DP_OK);
	return info;
}

static struct dp_status fw_status(struct rig *r)
{
	struct dp_status st;

	dp_fw_status(r->fw, &st);
	return st;
}

#define PASS_AT(arr, i) (&g_array_index((arr), struct dp_pass, (i)))

/* ---- Configuration and reads ---- */

static void test_config_default(void)
{
	struct dp_fw_config cfg;

	dp_fw_config_default(&cfg);
	g_assert_cmpstr(cfg.firmware, ==, "1.0.0");
	g_assert_cmpstr(cfg.serial, ==, "DR-0000-0001");
	g_assert_cmpuint(cfg.needle_um, ==, 500);
	g_assert_cmpstr(cfg.head_serial, ==, "H-0001");
	g_assert_cmpuint(cfg.head_uses, ==, 0);
	g_assert_cmpuint(cfg.head_fitted_ms, ==, 0);
	g_assert_cmpuint(cfg.battery_pct, ==, 100);
	g_assert_cmpuint(cfg.force_period_ms, ==, 5);
	g_assert_cmpuint(cfg.batch_ms, ==, 50);
	g_assert_cmpuint(cfg.status_every_ms, ==, 1000);
	g_assert_cmpuint(cfg.att_mtu, ==, 247);
	g_assert_cmpuint(cfg.detect.contact_cn, ==, 30);
	g_assert_cmpuint(cfg.detect.release_cn, ==, 20);
	g_assert_cmpuint(cfg.detect.lift_ms, ==, 40);
	g_assert_cmpuint(cfg.detect.reversal_ticks, ==, 3);
	g_assert_cmpuint(cfg.detect.stall_ms, ==, 800);
	g_assert_cmpuint(cfg.detect.min_distance_mm, ==, 8);
	g_assert_cmpuint(cfg.detect.warn_cn, ==, 500);
	g_assert_cmpuint(cfg.detect.ticks_per_10mm, ==, 40);
}

static void test_initial_state(void)
{
	struct rig *r = rig_new();
	struct dp_status st = fw_status(r);
	struct dp_adv adv;

	g_assert_cmpuint(st.state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(st.battery_pct, ==, 100);
	g_assert_cmpuint(st.flags, ==, 0);
	g_assert_cmpuint(st.log_count, ==, 0);
	g_assert_cmpuint(st.log_first_seq, ==, 1);
	g_assert_cmpuint(st.log_next_seq, ==, 1);
	g_assert_cmpuint(st.log_dropped, ==, 0);
	g_assert_cmpuint(st.session, ==, 0);
	g_assert_cmpuint(st.zone, ==, 0);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, 0);
	g_assert_cmpuint(adv.proto_major, ==, DP_PROTO_MAJOR);
	dp_fw_tick(r->fw, 1234);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, 1234);
	g_assert_cmpuint(r->frames, ==, 0);
	rig_free(r);
}

static void test_read_info(void)
{
	struct rig *r = rig_new();
	struct dp_info info;

	dp_fw_tick(r->fw, 4321);
	rig_connect(r, 247);
	info = rig_info(r);
	g_assert_cmpstr(info.firmware, ==, "1.0.0");
	g_assert_cmpstr(info.serial, ==, "DR-0000-0001");
	g_assert_cmpuint(info.needle_um, ==, 500);
	g_assert_cmpstr(info.head_serial, ==, "H-0001");
	g_assert_cmpuint(info.head_uses, ==, 0);
	g_assert_cmpuint(info.head_fitted_ms, ==, 0);
	g_assert_cmpint(info.force_offset_cn, ==, 0);
	g_assert_cmpuint(info.force_scale_pm, ==, 1000);
	g_assert_cmpuint(info.ticks_per_10mm, ==, 40);
	g_assert_cmpuint(info.warn_force_cn, ==, 500);
	g_assert_cmpuint(info.clock_ms, ==, 4321);
	g_assert_cmpuint(info.clock_flags, ==, 0);

	g_assert_cmpuint(rig_result(r, DP_OP_SET_TIME, 1000000000), ==, DP_RES_OK);
	dp_fw_tick(r->fw, 5321);
	info = rig_info(r);
	g_assert_cmpuint(info.clock_ms, ==, 1000001000);
	g_assert_cmpuint(info.clock_flags, ==, DP_STATUS_CLOCK_SET);
	rig_free(r);
}

static void test_read_battery(void)
{
	struct rig *r = rig_new();
	uint8_t buf[8];
	size_t len;

	rig_connect(r, 247);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_BATTERY, buf, sizeof(buf), &len), ==, DP_ATT_OK);
	g_assert_cmpuint(len, ==, 1);
	g_assert_cmpuint(buf[0], ==, 100);
	dp_fw_set_battery(r->fw, 42);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_BATTERY, buf, sizeof(buf), &len), ==, DP_ATT_OK);
	g_assert_cmpuint(buf[0], ==, 42);
	g_assert_cmpuint(fw_status(r).battery_pct, ==, 42);
	dp_fw_set_battery(r->fw, 250);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_BATTERY, buf, sizeof(buf), &len), ==, DP_ATT_OK);
	g_assert_cmpuint(buf[0], ==, 100);
	g_assert_cmpuint(r->battery->len, ==, 0);

	/* Notified on change only, to a subscriber. */
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_BATTERY, 1), ==, DP_ATT_OK);
	dp_fw_set_battery(r->fw, 80);
	dp_fw_set_battery(r->fw, 80);
	dp_fw_set_battery(r->fw, 79);
	g_assert_cmpuint(r->battery->len, ==, 2);
	g_assert_cmpuint(g_array_index(r->battery, uint8_t, 0), ==, 80);
	g_assert_cmpuint(g_array_index(r->battery, uint8_t, 1), ==, 79);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_BATTERY, 0), ==, DP_ATT_OK);
	dp_fw_set_battery(r->fw, 78);
	g_assert_cmpuint(r->battery->len, ==, 2);

	/* Charging is a STATUS flag. */
	dp_fw_set_charging(r->fw, true);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_CHARGING, ==, DP_STATUS_CHARGING);
	dp_fw_set_charging(r->fw, false);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_CHARGING, ==, 0);
	rig_free(r);
}

static void test_read_device_info(void)
{
	struct rig *r = rig_new();
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	rig_connect(r, 247);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_DEVICE_INFO, buf, sizeof(buf), &len), ==,
			 DP_ATT_OK);
	g_assert_cmpmem(buf, len, "manufacturer=dermaroll;model=DR-1;serial=DR-0000-0001;firmware=1.0.0",
			strlen("manufacturer=dermaroll;model=DR-1;serial=DR-0000-0001;firmware=1.0.0"));
	g_assert_cmpuint(len, <=, DP_FW_DEVICE_INFO_MAX);
	rig_free(r);
}

static void read_ct(struct rig *r, struct dp_current_time *ct)
{
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_CURRENT_TIME, buf, sizeof(buf), &len), ==,
			 DP_ATT_OK);
	g_assert_cmpuint(len, ==, DP_CURRENT_TIME_SIZE);
	g_assert_cmpint(dp_current_time_decode(buf, len, ct), ==, DP_OK);
}

static void test_current_time(void)
{
	struct rig *r = rig_new();
	struct dp_current_time ct = { 0 }, got;
	uint8_t buf[DP_CURRENT_TIME_SIZE];
	size_t len;
	uint64_t ms;

	dp_fw_tick(r->fw, 777);
	/* Reading needs no encryption. */
	rig_connect_mtu(r, false, 247);
	read_ct(r, &got);
	g_assert_cmpuint(got.year, ==, 0);
	rig_connect_mtu(r, true, 247);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CURRENT_TIME, 1), ==, DP_ATT_OK);
	read_ct(r, &got);
	/* Unset clock: "unknown", not a date in 2020. */
	g_assert_cmpuint(got.year, ==, 0);
	g_assert_cmpuint(got.month, ==, 0);
	g_assert_cmpuint(got.day, ==, 0);

	ct.year = 2024;
	ct.month = 3;
	ct.day = 1;
	ct.hours = 12;
	ct.minutes = 30;
	ct.seconds = 15;
	ct.day_of_week = 5;
	g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &len), ==, DP_OK);
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CURRENT_TIME, buf, len), ==, DP_ATT_OK);
	g_assert_cmpint(dp_current_time_to_ms(&ct, &ms), ==, DP_OK);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, ms);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_CLOCK_SET, ==, DP_STATUS_CLOCK_SET);
	/* Subscribers hear of the set, with reason "external reference". */
	dp_fw_tick(r->fw, 777);
	g_assert_cmpuint(r->times->len, ==, 1);
	got = g_array_index(r->times, struct dp_current_time, 0);
	g_assert_cmpuint(got.year, ==, 2024);
	g_assert_cmpuint(got.minutes, ==, 30);
	g_assert_cmpuint(got.seconds, ==, 15);
	g_assert_cmpuint(got.adjust_reason, ==, 0x02);
	/* The passing of time is not notified. */
	dp_fw_tick(r->fw, 777 + 1000);
	g_assert_cmpuint(r->times->len, ==, 1);

	dp_fw_tick(r->fw, 777 + 2000);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, ms + 2000);
	g_assert_cmpuint(r->times->len, ==, 1);
	read_ct(r, &got);
	g_assert_cmpuint(got.year, ==, 2024);
	g_assert_cmpuint(got.month, ==, 3);
	g_assert_cmpuint(got.day, ==, 1);
	g_assert_cmpuint(got.hours, ==, 12);
	g_assert_cmpuint(got.minutes, ==, 30);
	g_assert_cmpuint(got.seconds, ==, 17);

	/* Wrong length, and a value the device cannot take. */
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CURRENT_TIME, buf, len - 1), ==,
			 DP_ATT_INVALID_LENGTH);
	ct.year = 2019;
	g_assert_cmpint(dp_current_time_encode(&ct, buf, sizeof(buf), &len), ==, DP_OK);
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CURRENT_TIME, buf, len), ==,
			 DP_ATT_CTS_DATA_FIELD_IGNORED);
	buf[2] = 13;                   /* month 13 */
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CURRENT_TIME, buf, len), ==,
			 DP_ATT_CTS_DATA_FIELD_IGNORED);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, ms + 2000);
	g_assert_cmpuint(r->times->len, ==, 1);

	/* SET_TIME notifies too; a date past 9999 reads as unknown. */
	rig_connect(r, 247);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CURRENT_TIME, 1), ==, DP_ATT_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_SET_TIME, 260000000000000ull), ==, DP_RES_OK);
	dp_fw_tick(r->fw, 777 + 3000);
	g_assert_cmpuint(r->times->len, ==, 2);
	g_assert_cmpuint(g_array_index(r->times, struct dp_current_time, 1).year, ==, 0);
	read_ct(r, &got);
	g_assert_cmpuint(got.year, ==, 0);
	g_assert_cmpuint(got.month, ==, 0);
	rig_free(r);
}

/* ---- ATT permissions ---- */

enum op { OP_READ, OP_WRITE, OP_SUB1, OP_SUB2, OP_SUB0 };

static const struct {
	uint8_t chr;
	uint8_t op;
	bool encrypted;
	uint8_t status;
} att_cases[] = {
	/* §2: the custom service needs an encrypted link. */
	{ DP_CHAR_INFO, OP_READ, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_STREAM, OP_SUB1, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_CONTROL, OP_SUB2, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_CONTROL, OP_WRITE, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_HISTORY, OP_SUB1, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_STREAM, OP_READ, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_INFO, OP_SUB1, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	{ DP_CHAR_BATTERY, OP_READ, false, DP_ATT_OK },
	{ DP_CHAR_BATTERY, OP_SUB1, false, DP_ATT_OK },
	{ DP_CHAR_DEVICE_INFO, OP_READ, false, DP_ATT_OK },
	{ DP_CHAR_CURRENT_TIME, OP_READ, false, DP_ATT_OK },
	{ DP_CHAR_CURRENT_TIME, OP_SUB1, false, DP_ATT_OK },
	/* ...but writing the clock does. */
	{ DP_CHAR_CURRENT_TIME, OP_WRITE, false, DP_ATT_INSUFFICIENT_ENCRYPTION },
	/* Encrypted: what each characteristic permits. */
	{ DP_CHAR_INFO, OP_READ, true, DP_ATT_OK },
	{ DP_CHAR_INFO, OP_WRITE, true, DP_ATT_WRITE_NOT_PERMITTED },
	{ DP_CHAR_INFO, OP_SUB1, true, DP_ATT_REQUEST_NOT_SUPPORTED },
	{ DP_CHAR_INFO, OP_SUB2, true, DP_ATT_REQUEST_NOT_SUPPORTED }, /* no CCCD before bad value */
	{ DP_CHAR_STREAM, OP_READ, true, DP_ATT_READ_NOT_PERMITTED },
	{ DP_CHAR_STREAM, OP_WRITE, true, DP_ATT_WRITE_NOT_PERMITTED },
	{ DP_CHAR_STREAM, OP_SUB1, true, DP_ATT_OK },
	{ DP_CHAR_STREAM, OP_SUB2, true, DP_ATT_CCCD_IMPROPER },
	{ DP_CHAR_STREAM, OP_SUB0, true, DP_ATT_OK },
	{ DP_CHAR_CONTROL, OP_READ, true, DP_ATT_READ_NOT_PERMITTED },
	{ DP_CHAR_CONTROL, OP_SUB1, true, DP_ATT_CCCD_IMPROPER },
	{ DP_CHAR_CONTROL, OP_SUB2, true, DP_ATT_OK },
	/* Not subscribed for indications: the command would go unanswered. */
	{ DP_CHAR_CONTROL, OP_WRITE, true, DP_ATT_CCCD_IMPROPER },
	{ DP_CHAR_HISTORY, OP_READ, true, DP_ATT_READ_NOT_PERMITTED },
	{ DP_CHAR_HISTORY, OP_WRITE, true, DP_ATT_WRITE_NOT_PERMITTED },
	{ DP_CHAR_HISTORY, OP_SUB1, true, DP_ATT_OK },
	{ DP_CHAR_HISTORY, OP_SUB2, true, DP_ATT_CCCD_IMPROPER },
	{ DP_CHAR_BATTERY, OP_WRITE, true, DP_ATT_WRITE_NOT_PERMITTED },
	{ DP_CHAR_BATTERY, OP_SUB1, true, DP_ATT_OK },
	{ DP_CHAR_BATTERY, OP_SUB2, true, DP_ATT_CCCD_IMPROPER },
	{ DP_CHAR_DEVICE_INFO, OP_WRITE, true, DP_ATT_WRITE_NOT_PERMITTED },
	{ DP_CHAR_DEVICE_INFO, OP_SUB1, true, DP_ATT_REQUEST_NOT_SUPPORTED },
	{ DP_CHAR_CURRENT_TIME, OP_SUB1, true, DP_ATT_OK },
	{ DP_CHAR_CURRENT_TIME, OP_SUB2, true, DP_ATT_CCCD_IMPROPER },
	/* A STOP frame is not a Current Time value. */
	{ DP_CHAR_CURRENT_TIME, OP_WRITE, true, DP_ATT_INVALID_LENGTH },
	/* Unknown characteristics. */
	{ 0, OP_READ, true, DP_ATT_REQUEST_NOT_SUPPORTED },
	{ DP_CHAR_MAX_ + 1, OP_READ, true, DP_ATT_REQUEST_NOT_SUPPORTED },
	{ DP_CHAR_MAX_ + 1, OP_WRITE, true, DP_ATT_REQUEST_NOT_SUPPORTED },
	{ 0xff, OP_SUB1, true, DP_ATT_REQUEST_NOT_SUPPORTED },
};

static uint8_t att_op(struct rig *r, uint8_t chr, uint8_t op)
{
	/* A well-formed STOP command: only the ATT layer is under test. */
	static const uint8_t stop[] = { DP_VERSION_BYTE, 5, 0, DP_FRAME_COMMAND, DP_OP_STOP_SESSION };
	uint8_t buf[DP_MAX_FRAME];
	size_t len;

	switch (op) {
	case OP_READ:
		return dp_fw_read(r->fw, chr, buf, sizeof(buf), &len);
	case OP_WRITE:
		return dp_fw_write(r->fw, chr, stop, sizeof(stop));
	case OP_SUB0:
		return dp_fw_subscribe(r->fw, chr, 0);
	case OP_SUB1:
		return dp_fw_subscribe(r->fw, chr, 1);
	default:
		return dp_fw_subscribe(r->fw, chr, 2);
	}
}

static void test_att_permissions(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(att_cases); i++) {
		struct rig *r = rig_new();
		uint8_t st;

		rig_connect_mtu(r, att_cases[i].encrypted, 247);
		st = att_op(r, att_cases[i].chr, att_cases[i].op);
		if (st != att_cases[i].status)
			g_test_message("case %u: chr %u op %u", i, att_cases[i].chr, att_cases[i].op);
		g_assert_cmpuint(st, ==, att_cases[i].status);
		/* A refused write never reaches the control point. */
		g_assert_cmpuint(r->responses->len, ==, 0);
		rig_free(r);
	}
}

static void test_not_connected(void)
{
	struct rig *r = rig_new();

	for (uint8_t chr = DP_CHAR_INFO; chr <= DP_CHAR_MAX_; chr++) {
		g_assert_cmpuint(att_op(r, chr, OP_READ), ==, DP_ATT_REQUEST_NOT_SUPPORTED);
		g_assert_cmpuint(att_op(r, chr, OP_WRITE), ==, DP_ATT_REQUEST_NOT_SUPPORTED);
		g_assert_cmpuint(att_op(r, chr, OP_SUB1), ==, DP_ATT_REQUEST_NOT_SUPPORTED);
	}
	rig_free(r);
}

/* ---- Control point flow ---- */

static void test_indication_flow(void)
{
	struct rig *r = rig_new();
	struct dp_command start = { .opcode = DP_OP_START_SESSION, .u.zone = 1 };
	struct dp_command zone = { .opcode = DP_OP_SET_ZONE, .u.zone = 4 };

	rig_connect(r, 247);
	g_assert_cmpuint(rig_write_cmd(r, &start), ==, DP_ATT_OK);
	g_assert_cmpuint(r->responses->len, ==, 1);
	/* One indication outstanding: the next command waits for the confirm. */
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_PROCEDURE_IN_PROGRESS);
	g_assert_cmpuint(r->responses->len, ==, 1);
	g_assert_cmpuint(fw_status(r).zone, ==, 1);
	dp_fw_confirm(r->fw);
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_OK);
	g_assert_cmpuint(r->responses->len, ==, 2);
	g_assert_cmpuint(fw_status(r).zone, ==, 4);
	dp_fw_confirm(r->fw);
	/* A stray confirm changes nothing. */
	dp_fw_confirm(r->fw);

	/* The stack could not queue the indication: it is kept and sent from
	 * the next tick; meanwhile the control point is busy. */
	r->indicate_refuses = true;
	zone.u.zone = 6;
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_OK);
	g_assert_cmpuint(fw_status(r).zone, ==, 6);
	g_assert_cmpuint(r->responses->len, ==, 2);
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_PROCEDURE_IN_PROGRESS);
	dp_fw_tick(r->fw, 10);
	g_assert_cmpuint(r->responses->len, ==, 2);
	r->indicate_refuses = false;
	dp_fw_tick(r->fw, 20);
	g_assert_cmpuint(r->responses->len, ==, 3);
	g_assert_cmpuint(g_array_index(r->responses, struct dp_response, 2).opcode, ==, DP_OP_SET_ZONE);
	g_assert_cmpuint(g_array_index(r->responses, struct dp_response, 2).result, ==, DP_RES_OK);
	dp_fw_tick(r->fw, 30);
	g_assert_cmpuint(r->responses->len, ==, 3);
	dp_fw_confirm(r->fw);

	/* A response still queued when the host turns indications off is
	 * dropped: nothing is indicated without a subscription. */
	r->indicate_refuses = true;
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_OK);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CONTROL, 0), ==, DP_ATT_OK);
	r->indicate_refuses = false;
	dp_fw_tick(r->fw, 40);
	g_assert_cmpuint(r->responses->len, ==, 3);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CONTROL, 2), ==, DP_ATT_OK);
	dp_fw_tick(r->fw, 50);
	g_assert_cmpuint(r->responses->len, ==, 3);

	/* Disconnecting with an indication outstanding frees the slot. */
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_OK);
	dp_fw_disconnect(r->fw);
	rig_connect(r, 247);
	g_assert_cmpuint(rig_write_cmd(r, &zone), ==, DP_ATT_OK);
	rig_free(r);
}

static void test_identify(void)
{
	struct rig *r = rig_new();

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_IDENTIFY, 7), ==, DP_RES_OK);
	g_assert_cmpuint(r->identify_calls, ==, 1);
	g_assert_cmpuint(r->identify_seconds, ==, 7);
	/* identify is optional in the ops. */
	r->ops.identify = NULL;
	g_assert_cmpuint(rig_result(r, DP_OP_IDENTIFY, 30), ==, DP_RES_OK);
	g_assert_cmpuint(r->identify_calls, ==, 1);
	rig_free(r);
}

/* ---- Sessions ---- */

static void test_session(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	rig_connect(r, 247);
	rsp = rig_cmd(r, DP_OP_START_SESSION, 3);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.start.session, ==, 1);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_SESSION);
	g_assert_cmpuint(fw_status(r).session, ==, 1);
	g_assert_cmpuint(fw_status(r).zone, ==, 3);
	g_assert_cmpuint(rig_info(r).head_uses, ==, 1);

	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 4), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(fw_status(r).zone, ==, 3);
	g_assert_cmpuint(rig_info(r).head_uses, ==, 1);

	rig_pass(r, 150, 60);
	g_assert_cmpuint(rig_result(r, DP_OP_SET_ZONE, 5), ==, DP_RES_OK);
	rig_pass(r, 150, -60);
	rig_pass(r, 150, 60);
	rig_idle(r, 100);
	g_assert_cmpuint(r->stream_passes->len, ==, 3);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->zone, ==, 3);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 1)->zone, ==, 5);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 1)->direction, ==, DP_DIR_BACKWARD);
	for (guint i = 0; i < 3; i++) {
		g_assert_cmpuint(PASS_AT(r->stream_passes, i)->session, ==, 1);
		g_assert_cmpuint(PASS_AT(r->stream_passes, i)->seq, ==, i + 1);
	}

	rsp = rig_cmd(r, DP_OP_STOP_SESSION, 0);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.stop.session, ==, 1);
	g_assert_cmpuint(rsp.u.stop.passes, ==, 3);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(fw_status(r).session, ==, 0);
	g_assert_cmpuint(fw_status(r).zone, ==, 0);

	g_assert_cmpuint(rig_result(r, DP_OP_STOP_SESSION, 0), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(rig_result(r, DP_OP_SET_ZONE, 2), ==, DP_RES_INVALID_STATE);

	rsp = rig_cmd(r, DP_OP_START_SESSION, 10);
	g_assert_cmpuint(rsp.u.start.session, ==, 2);
	g_assert_cmpuint(rig_info(r).head_uses, ==, 2);
	rsp = rig_cmd(r, DP_OP_STOP_SESSION, 0);
	g_assert_cmpuint(rsp.u.stop.session, ==, 2);
	g_assert_cmpuint(rsp.u.stop.passes, ==, 0);
	rig_free(r);
}

/* STOP flushes the pass in progress into the session. */
static void test_stop_flushes_pass(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 2), ==, DP_RES_OK);
	r->force_raw = 200;
	rig_run(r, 2, 0);
	rig_run(r, 80, 1);             /* still pressing, no lift */
	rsp = rig_cmd(r, DP_OP_STOP_SESSION, 0);
	g_assert_cmpuint(rsp.u.stop.passes, ==, 1);
	rig_run(r, 20, 0);
	g_assert_cmpuint(r->stream_passes->len, ==, 1);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->flags & DP_PASS_END_STOP, ==, DP_PASS_END_STOP);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->session, ==, 1);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->zone, ==, 2);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->distance_mm, ==, 20);
	/* The rest of that contact is not a second pass. */
	r->force_raw = 0;
	rig_idle(r, 200);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 1);
	rig_free(r);
}

/* With no host session, passes open an offline session that closes five
 * minutes after its last pass. */
static void test_offline_session(void)
{
	struct rig *r = rig_new();
	const struct dp_pass *p;
	uint64_t last;

	rig_pass(r, 150, 60);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_OFFLINE_SESSION);
	g_assert_cmpuint(fw_status(r).session, ==, 1);
	g_assert_cmpuint(fw_status(r).zone, ==, 0);
	g_assert_cmpuint(r->fw->cfg.head_uses, ==, 1);
	p = dp_log_get(&r->fw->log, 1);
	g_assert_nonnull(p);
	g_assert_cmpuint(p->session, ==, 1);
	g_assert_cmpuint(p->zone, ==, 0);
	g_assert_cmpuint(p->flags, ==, DP_PASS_END_LIFT | DP_PASS_CLOCK_UNSET);
	/* Clock unset: start_ms is ms since power-up (the third sample). */
	g_assert_cmpuint(p->start_ms, ==, 2 * PERIOD);

	rig_idle(r, 4 * 60000);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(fw_status(r).session, ==, 1);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 2)->session, ==, 1);
	last = r->fw->last_pass_end_ms;
	/* Reported lift_ms after the first lifted sample, which came 95 ms
	 * before the end of rig_pass. */
	g_assert_cmpuint(r->fw->last_pass_end_ms, ==, r->t - 95 + 40);

	dp_fw_tick(r->fw, last + DP_FW_OFFLINE_IDLE_MS - 1);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_OFFLINE_SESSION);
	dp_fw_tick(r->fw, last + DP_FW_OFFLINE_IDLE_MS);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(fw_status(r).session, ==, 0);
	g_assert_cmpuint(r->fw->cfg.head_uses, ==, 1);

	r->t = last + DP_FW_OFFLINE_IDLE_MS;
	rig_pass(r, 150, 60);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_OFFLINE_SESSION);
	g_assert_cmpuint(fw_status(r).session, ==, 2);
	g_assert_cmpuint(r->fw->cfg.head_uses, ==, 2);
	rig_free(r);
}

/* A host starting a session ends the offline one. */
static void test_offline_then_host(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	rig_pass(r, 150, 60);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_OFFLINE_SESSION);
	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_STOP_SESSION, 0), ==, DP_RES_INVALID_STATE);
	rsp = rig_cmd(r, DP_OP_START_SESSION, 1);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.start.session, ==, 2);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_SESSION);
	g_assert_cmpuint(rig_info(r).head_uses, ==, 2);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 2)->session, ==, 2);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 2)->zone, ==, 1);
	/* Much later the host session is still on: only offline ones time out. */
	dp_fw_tick(r->fw, r->t + 2 * DP_FW_OFFLINE_IDLE_MS);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_SESSION);
	rig_free(r);
}

/* The session outlives the link: the roller goes on logging. */
static void test_disconnect_keeps_session(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 7), ==, DP_RES_OK);
	rig_pass(r, 150, 60);
	dp_fw_disconnect(r->fw);
	rig_pass(r, 150, 60);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->stream_passes->len, ==, 1);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 3);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 3)->session, ==, 1);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 3)->zone, ==, 7);
	rig_connect(r, 247);
	rsp = rig_cmd(r, DP_OP_STOP_SESSION, 0);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.stop.passes, ==, 3);
	rig_free(r);
}

/* Away from its host for 5 minutes without a pass, a host session closes;
 * while a host is connected it never does. */
static void test_session_timeout_disconnected(void)
{
	struct rig *r = rig_new();
	uint64_t gone, last;

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 5), ==, DP_RES_OK);
	rig_idle(r, 2 * DP_FW_OFFLINE_IDLE_MS);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_SESSION);
	dp_fw_disconnect(r->fw);
	gone = r->t;
	rig_idle(r, 60000);
	rig_pass(r, 150, 60);
	last = r->fw->last_pass_end_ms;
	g_assert_cmpuint(last, >, gone);
	dp_fw_tick(r->fw, last + DP_FW_OFFLINE_IDLE_MS - 1);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_SESSION);
	dp_fw_tick(r->fw, last + DP_FW_OFFLINE_IDLE_MS);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(fw_status(r).session, ==, 0);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 1)->session, ==, 1);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 1)->zone, ==, 5);

	/* Counted from the disconnection when the last pass is older. */
	r->t = r->fw->now_ms;
	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 6), ==, DP_RES_OK);
	rig_pass(r, 150, 60);
	rig_idle(r, 200000);
	dp_fw_disconnect(r->fw);
	gone = r->t;
	dp_fw_tick(r->fw, gone + DP_FW_OFFLINE_IDLE_MS - 1);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_SESSION);
	dp_fw_tick(r->fw, gone + DP_FW_OFFLINE_IDLE_MS);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_IDLE);
	rig_free(r);
}

/* ---- Clock ---- */

static void test_set_time(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;
	const struct dp_pass *p;
	uint64_t set_at;

	rig_connect(r, 247);
	rig_idle(r, 1000);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_CLOCK_SET, ==, 0);
	rsp = rig_cmd(r, DP_OP_SET_TIME, 150000000000ull);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.previous_ms, ==, 1000);
	set_at = r->t;
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, 150000000000ull);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_CLOCK_SET, ==, DP_STATUS_CLOCK_SET);

	rig_pass(r, 150, 60);
	p = dp_log_get(&r->fw->log, 1);
	g_assert_cmpuint(p->flags & DP_PASS_CLOCK_UNSET, ==, 0);
	/* The pass started at the second sample after the set. */
	g_assert_cmpuint(p->start_ms, ==, 150000000000ull + 2 * PERIOD);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->start_ms, ==, p->start_ms);

	/* Stream frames carry device time too (batches fall on multiples of
	 * 50 ms since the subscription at 0). */
	while (r->t % 50)
		rig_step(r, 0);
	g_assert_cmpuint(g_array_index(r->force_time, uint64_t, r->force_time->len - 1), ==,
			 150000000000ull + (r->t - set_at));

	/* Set back: previous is the clock as it was. */
	rsp = rig_cmd(r, DP_OP_SET_TIME, 5);
	g_assert_cmpuint(rsp.u.previous_ms, ==, 150000000000ull + (r->t - set_at));
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, 5);
	dp_fw_tick(r->fw, r->t + 10);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, 15);
	rig_free(r);
}

/* ---- Tare ---- */

static void test_zero_force(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;
	guint from;

	rig_connect(r, 247);
	r->force_raw = 120;
	rig_run(r, 10, 0);
	g_assert_cmpuint(g_array_index(r->force, uint16_t, r->force->len - 1), ==, 120);
	rsp = rig_cmd(r, DP_OP_ZERO_FORCE, 0);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpint(rsp.u.force_offset_cn, ==, 120);
	g_assert_cmpint(rig_info(r).force_offset_cn, ==, 120);

	from = r->force->len;
	r->force_raw = 150;
	rig_run(r, 10, 0);
	r->force_raw = 100;            /* below the offset: 0, not negative */
	rig_run(r, 10, 0);
	g_assert_cmpuint(r->force->len, ==, from + 20);
	for (guint i = 0; i < 10; i++)
		g_assert_cmpuint(g_array_index(r->force, uint16_t, from + i), ==, 30);
	for (guint i = 10; i < 20; i++)
		g_assert_cmpuint(g_array_index(r->force, uint16_t, from + i), ==, 0);

	/* Tared force drives detection: 140 raw is 20 cN, no contact. */
	r->force_raw = 140;
	rig_run(r, 2, 0);
	rig_run(r, 80, 1);
	rig_idle(r, 100);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 0);
	rig_pass(r, 320, 80);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 1);
	g_assert_cmpuint(dp_log_get(&r->fw->log, 1)->mean_force_cn, ==, 200);

	/* The tare is the mean of the last 50 ms: 10 samples at 200 Hz. */
	for (guint i = 0; i < 20; i++) {
		r->force_raw = (uint16_t)(i < 10 ? 5000 : 100 + 10 * (i - 10));
		rig_step(r, 0);
	}
	rsp = rig_cmd(r, DP_OP_ZERO_FORCE, 0);
	g_assert_cmpint(rsp.u.force_offset_cn, ==, 145);   /* 100..190 */

	/* Not during a pass: its figures would change under it. */
	r->force_raw = 400;
	rig_run(r, 2, 0);
	rig_run(r, 40, 1);
	rsp = rig_cmd(r, DP_OP_ZERO_FORCE, 0);
	g_assert_cmpuint(rsp.result, ==, DP_RES_INVALID_STATE);
	g_assert_cmpint(rig_info(r).force_offset_cn, ==, 145);
	rig_idle(r, 100);

	/* A raw force beyond i16: the offset saturates. */
	r->force_raw = 40000;
	rig_run(r, 10, 0);
	rsp = rig_cmd(r, DP_OP_ZERO_FORCE, 0);
	g_assert_cmpint(rsp.u.force_offset_cn, ==, INT16_MAX);
	rig_free(r);
}

/* ---- Pairing and advertising ---- */

static void test_pairing(void)
{
	struct rig *r = rig_new();
	struct dp_adv adv;

	dp_fw_tick(r->fw, 1000);
	dp_fw_long_press(r->fw);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, DP_ADV_PAIRING);
	g_assert_cmpuint(fw_status(r).flags, ==, DP_STATUS_PAIRING);
	dp_fw_tick(r->fw, 1000 + DP_FW_PAIRING_MS - 1);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, DP_ADV_PAIRING);
	dp_fw_tick(r->fw, 1000 + DP_FW_PAIRING_MS);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, 0);
	g_assert_cmpuint(fw_status(r).flags, ==, 0);

	/* A long press restarts the 60 s; a completed pairing ends it. */
	dp_fw_long_press(r->fw);
	dp_fw_tick(r->fw, 1000 + DP_FW_PAIRING_MS + 30000);
	dp_fw_long_press(r->fw);
	dp_fw_tick(r->fw, 1000 + DP_FW_PAIRING_MS + 30000 + DP_FW_PAIRING_MS - 1);
	g_assert_cmpuint(fw_status(r).flags, ==, DP_STATUS_PAIRING);
	dp_fw_pairing_complete(r->fw);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, 0);
	g_assert_cmpuint(fw_status(r).flags, ==, 0);

	/* A pass in the log is advertised until acked. */
	r->t = r->fw->now_ms;
	rig_pass(r, 150, 60);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, DP_ADV_LOG_PENDING);
	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, 1), ==, DP_RES_OK);
	dp_fw_adv(r->fw, &adv);
	g_assert_cmpuint(adv.flags, ==, 0);
	rig_free(r);
}

static void test_fit_head(void)
{
	struct rig *r = rig_new();
	struct dp_info info;

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 1), ==, DP_RES_OK);
	g_assert_cmpuint(rig_info(r).head_uses, ==, 1);
	dp_fw_fit_head(r->fw, "H-0002", 250);
	info = rig_info(r);
	g_assert_cmpstr(info.head_serial, ==, "H-0002");
	g_assert_cmpuint(info.needle_um, ==, 250);
	g_assert_cmpuint(info.head_uses, ==, 0);
	g_assert_cmpuint(info.head_fitted_ms, ==, 0);   /* clock unset: unknown */

	g_assert_cmpuint(rig_result(r, DP_OP_SET_TIME, 99000000000ull), ==, DP_RES_OK);
	dp_fw_fit_head(r->fw, "H-0003", 1000);
	info = rig_info(r);
	g_assert_cmpuint(info.head_fitted_ms, ==, 99000000000ull);
	g_assert_cmpuint(info.needle_um, ==, 1000);
	rig_free(r);
}

/* ---- Live stream ---- */

static void test_stream_batching(void)
{
	struct rig *r = rig_new();
	const struct dp_status *st;

	rig_connect(r, 247);
	r->force_raw = 0;
	for (guint i = 1; i <= 9; i++) {
		r->force_raw = (uint16_t)i;
		rig_step(r, 0);
	}
	g_assert_cmpuint(r->stream_frames, ==, 0);
	r->force_raw = 10;
	rig_step(r, 0);                /* t = 50: the first batch */
	g_assert_cmpuint(r->stream_frames, ==, 1);
	g_assert_cmpuint(r->last_stream_seq, ==, 1);
	g_assert_cmpuint(r->force->len, ==, 10);
	for (guint i = 0; i < 10; i++) {
		g_assert_cmpuint(g_array_index(r->force, uint16_t, i), ==, i + 1);
		g_assert_cmpuint(g_array_index(r->force_time, uint64_t, i), ==, (i + 1) * PERIOD);
	}
	/* The first frame after subscribing says where things stand. */
	g_assert_cmpuint(r->statuses->len, ==, 1);
	st = last_status(r);
	g_assert_cmpuint(st->state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(st->battery_pct, ==, 100);
	g_assert_cmpuint(st->log_next_seq, ==, 1);

	/* One frame per 50 ms, status again only after status_every_ms. */
	rig_run(r, 10, 0);
	g_assert_cmpuint(r->stream_frames, ==, 2);
	g_assert_cmpuint(r->force->len, ==, 20);
	g_assert_cmpuint(r->statuses->len, ==, 1);
	rig_run(r, 179, 0);            /* t = 995 */
	g_assert_cmpuint(r->statuses->len, ==, 1);
	rig_run(r, 11, 0);             /* t = 1050: the frame at 1050 carries it */
	g_assert_cmpuint(r->statuses->len, ==, 2);
	g_assert_cmpuint(r->stream_frames, ==, 21);
	g_assert_cmpuint(r->force->len, ==, 210);
	rig_run(r, 200, 0);
	g_assert_cmpuint(r->statuses->len, ==, 3);

	/* Ticks alone, no samples: no empty frames. */
	for (uint64_t t = r->t + 50; t < r->t + 900; t += 50)
		dp_fw_tick(r->fw, t);
	g_assert_cmpuint(r->stream_frames, ==, 41);
	rig_free(r);
}

/* A state change is in the next frame, not a second later. */
static void test_stream_status_on_change(void)
{
	struct rig *r = rig_new();
	guint before;

	rig_connect(r, 247);
	rig_run(r, 20, 0);
	before = r->statuses->len;
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 8), ==, DP_RES_OK);
	rig_run(r, 10, 0);
	g_assert_cmpuint(r->statuses->len, ==, before + 1);
	g_assert_cmpuint(last_status(r)->state, ==, DP_STATE_SESSION);
	g_assert_cmpuint(last_status(r)->session, ==, 1);
	g_assert_cmpuint(last_status(r)->zone, ==, 8);

	/* Contact, battery: each a change. */
	r->force_raw = 100;
	rig_run(r, 10, 0);
	g_assert_cmpuint(last_status(r)->flags & DP_STATUS_CONTACT, ==, DP_STATUS_CONTACT);
	dp_fw_set_battery(r->fw, 55);
	rig_run(r, 10, 0);
	g_assert_cmpuint(last_status(r)->battery_pct, ==, 55);
	g_assert_cmpuint(r->statuses->len, ==, before + 3);
	rig_free(r);
}

/* A pass goes out live with its log seq and exact figures. */
static void test_stream_pass(void)
{
	struct rig *r = rig_new();
	const struct dp_pass *p;

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 2), ==, DP_RES_OK);
	r->angle = 45;
	r->force_raw = 300;
	rig_run(r, 2, 0);
	for (guint i = 0; i < 100; i++) {
		r->force_raw = (uint16_t)(450 + i);    /* 450..549 */
		rig_step(r, 1);
	}
	rig_idle(r, 100);
	g_assert_cmpuint(r->stream_passes->len, ==, 1);
	p = PASS_AT(r->stream_passes, 0);
	g_assert_cmpuint(p->seq, ==, 1);
	g_assert_cmpuint(p->start_ms, ==, 2 * PERIOD);
	g_assert_cmpuint(p->duration_ms, ==, 500);
	g_assert_cmpuint(p->distance_mm, ==, 25);
	g_assert_cmpuint(p->direction, ==, DP_DIR_FORWARD);
	g_assert_cmpuint(p->angle_deg, ==, 45);
	g_assert_cmpuint(p->mean_force_cn, ==, 500);   /* 499.5 rounds up */
	g_assert_cmpuint(p->peak_force_cn, ==, 549);
	g_assert_cmpuint(p->over_warn_ms, ==, 49 * PERIOD); /* 501..549 */
	g_assert_cmpuint(p->session, ==, 1);
	g_assert_cmpuint(p->zone, ==, 2);
	g_assert_cmpuint(p->flags, ==, DP_PASS_END_LIFT | DP_PASS_CLOCK_UNSET);
	g_assert_cmpmem(p, sizeof(*p), dp_log_get(&r->fw->log, 1), sizeof(*p));
	/* The status after it counts it. */
	g_assert_cmpuint(last_status(r)->log_next_seq, ==, 2);
	g_assert_cmpuint(last_status(r)->log_count, ==, 1);
	rig_free(r);
}

/* How a roll ends, end to end: samples in, PASS records out on STREAM. */
enum move { M_END, M_ROLL, M_BACK, M_STILL, M_LIFT };

static const struct {
	const char *name;
	struct { uint8_t move; uint16_t n; } steps[8];
	guint passes;
	uint16_t mm[3];
	uint8_t flags[3];
} endings[] = {
	{ "lift mid-pass", { { M_ROLL, 60 }, { M_LIFT, 20 }, { M_STILL, 2 }, { M_ROLL, 40 }, { M_LIFT, 20 } },
	  2, { 15, 10 }, { DP_PASS_END_LIFT, DP_PASS_END_LIFT } },
	{ "lift, too short after", { { M_ROLL, 60 }, { M_LIFT, 20 }, { M_STILL, 2 }, { M_ROLL, 20 }, { M_LIFT, 20 } },
	  1, { 15 }, { DP_PASS_END_LIFT } },
	{ "reversal", { { M_ROLL, 60 }, { M_BACK, 48 }, { M_LIFT, 20 } },
	  2, { 15, 12 }, { DP_PASS_END_REVERSAL, DP_PASS_END_LIFT } },
	{ "hesitation", { { M_ROLL, 40 }, { M_STILL, 150 }, { M_ROLL, 40 }, { M_LIFT, 20 } },
	  1, { 20 }, { DP_PASS_END_LIFT } },
	{ "stall", { { M_ROLL, 40 }, { M_STILL, 170 }, { M_ROLL, 40 }, { M_LIFT, 20 } },
	  2, { 10, 10 }, { DP_PASS_END_STOP, DP_PASS_END_LIFT } },
};

static void test_stream_pass_endings(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(endings); i++) {
		struct rig *r = rig_new();

		rig_connect(r, 247);
		r->force_raw = 200;
		rig_run(r, 2, 0);
		for (guint k = 0; endings[i].steps[k].move != M_END; k++) {
			guint n = endings[i].steps[k].n;

			switch (endings[i].steps[k].move) {
			case M_ROLL:
				r->force_raw = 200;
				rig_run(r, n, 1);
				break;
			case M_BACK:
				r->force_raw = 200;
				rig_run(r, n, -1);
				break;
			case M_STILL:
				r->force_raw = 200;
				rig_run(r, n, 0);
				break;
			default:
				r->force_raw = 0;
				rig_run(r, n, 0);
				break;
			}
		}
		rig_idle(r, 100);
		g_test_message("case %s", endings[i].name);
		g_assert_cmpuint(r->stream_passes->len, ==, endings[i].passes);
		for (guint k = 0; k < endings[i].passes; k++) {
			const struct dp_pass *p = PASS_AT(r->stream_passes, k);

			g_assert_cmpuint(p->seq, ==, k + 1);
			g_assert_cmpuint(p->distance_mm, ==, endings[i].mm[k]);
			g_assert_cmpuint(p->flags, ==, endings[i].flags[k] | DP_PASS_CLOCK_UNSET);
			g_assert_cmpuint(p->mean_force_cn, ==, 200);
		}
		rig_free(r);
	}
}

/* Frames never exceed ATT_MTU - 3: overflow goes to the next frame. */
static void test_stream_small_mtu(void)
{
	struct dp_fw_config cfg;
	struct rig *r;

	dp_fw_config_default(&cfg);
	cfg.batch_ms = 500;            /* 100 samples per batch */
	r = rig_new_cfg(&cfg);
	rig_connect(r, 100);
	g_assert_cmpuint(r->fw->att_mtu, ==, 100);
	for (guint i = 0; i < 100; i++) {
		r->force_raw = (uint16_t)i;
		rig_step(r, 0);
	}
	/* 97 bytes: 16 of head, FORCE 4 + 2n: 38 samples at most per frame. */
	g_assert_cmpuint(r->stream_frames, ==, 3);
	g_assert_cmpuint(r->force->len, ==, 100);
	for (guint i = 0; i < 100; i++) {
		g_assert_cmpuint(g_array_index(r->force, uint16_t, i), ==, i);
		g_assert_cmpuint(g_array_index(r->force_time, uint64_t, i), ==, (i + 1) * PERIOD);
	}
	g_assert_cmpuint(r->statuses->len, ==, 1);

	/* Several passes ending within one batch also split. */
	for (guint i = 0; i < 4; i++) {
		r->force_raw = 200;
		rig_run(r, 2, 0);
		rig_run(r, 40, i % 2 ? -1 : 1);
		r->force_raw = 0;
		rig_run(r, 9, 0);
	}
	rig_idle(r, 1000);
	g_assert_cmpuint(r->stream_passes->len, ==, 4);
	for (guint i = 0; i < 4; i++)
		g_assert_cmpuint(PASS_AT(r->stream_passes, i)->seq, ==, i + 1);
	rig_free(r);
}

/* The host's MTU and ours: the smaller one counts. */
static void test_mtu_negotiation(void)
{
	struct rig *r = rig_new();

	dp_fw_connect(r->fw, true, 517);
	g_assert_cmpuint(r->fw->att_mtu, ==, 247);
	dp_fw_connect(r->fw, true, 185);
	g_assert_cmpuint(r->fw->att_mtu, ==, 185);
	dp_fw_connect(r->fw, true, 0);
	g_assert_cmpuint(r->fw->att_mtu, ==, 247);
	dp_fw_connect(r->fw, true, 5);
	g_assert_cmpuint(r->fw->att_mtu, ==, 23);
	rig_free(r);
}

static void test_stream_needs_subscription(void)
{
	struct rig *r = rig_new();

	/* Not connected: rolling is logged, nothing is sent. */
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->frames, ==, 0);
	/* Connected and encrypted but not subscribed. */
	rig_connect_mtu(r, true, 247);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->frames, ==, 0);
	/* Subscribed: old passes are not replayed live (SYNC is for that). */
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_STREAM, 1), ==, DP_ATT_OK);
	rig_idle(r, 100);
	g_assert_cmpuint(r->stream_frames, ==, 2);
	g_assert_cmpuint(r->stream_passes->len, ==, 0);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->stream_passes->len, ==, 1);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->seq, ==, 3);
	/* Unsubscribed: silence again; seq goes on where it was. */
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_STREAM, 0), ==, DP_ATT_OK);
	guint frames = r->stream_frames;
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->stream_frames, ==, frames);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_STREAM, 1), ==, DP_ATT_OK);
	rig_idle(r, 50);
	g_assert_cmpuint(r->stream_frames, ==, frames + 1);
	g_assert_cmpuint(r->last_stream_seq, ==, frames + 1);
	rig_free(r);
}

/* Congested for a while: nothing is lost, no seq gap, every pass arrives. */
static void test_congestion_short(void)
{
	struct rig *r = rig_new();
	guint fed = 0;

	rig_connect(r, 247);
	rig_run(r, 10, 0);
	fed += 10;
	r->notify_budget = 0;
	r->force_raw = 150;
	rig_run(r, 2, 0);
	rig_run(r, 60, 1);
	r->force_raw = 0;
	rig_run(r, 58, 0);             /* 600 ms: exactly the 120-sample buffer */
	fed += 120;
	g_assert_cmpuint(r->stream_frames, ==, 1);
	g_assert_cmpuint(r->refused, >, 0);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 1);
	r->notify_budget = -1;
	rig_run(r, 10, 0);
	fed += 10;
	g_assert_cmpuint(r->force->len, ==, fed);
	g_assert_cmpuint(r->fw->force_dropped, ==, 0);
	g_assert_cmpuint(r->stream_passes->len, ==, 1);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->seq, ==, 1);
	/* Samples arrive contiguous in time. */
	for (guint i = 0; i < r->force->len; i++)
		g_assert_cmpuint(g_array_index(r->force_time, uint64_t, i), ==, (i + 1) * PERIOD);
	rig_free(r);
}

/* Congested for long: samples are dropped (oldest first, counted), passes
 * never, and frame seq still has no gap. */
static void test_congestion_long(void)
{
	struct rig *r = rig_new();
	uint64_t unblocked;
	guint fed, at;

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 1), ==, DP_RES_OK);
	rig_run(r, 10, 0);
	r->notify_budget = 0;
	for (guint i = 0; i < 12; i++)
		rig_pass(r, 150, i % 2 ? -60 : 60);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 12);
	/* The host manages one frame now and then. */
	for (guint k = 0; k < 5; k++) {
		r->notify_budget = 1;
		rig_run(r, 10, 0);
		r->notify_budget = 0;
		rig_run(r, 200, 0);
	}
	unblocked = r->t;
	r->notify_budget = -1;
	rig_run(r, 20, 0);
	while (r->t % 50)              /* up to a batch boundary: nothing pending */
		rig_step(r, 0);
	fed = (guint)(r->t / PERIOD);
	g_assert_cmpuint(r->fw->force_dropped, >, 0);
	g_assert_cmpuint(r->force->len + r->fw->force_dropped, ==, fed);
	g_assert_cmpuint(r->stream_passes->len, ==, 12);
	for (guint i = 0; i < 12; i++) {
		g_assert_cmpuint(PASS_AT(r->stream_passes, i)->seq, ==, i + 1);
		g_assert_cmpuint(PASS_AT(r->stream_passes, i)->direction, ==,
				 i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD);
	}
	/* The oldest went: the 120 samples before the link came back all
	 * arrived, consecutive. */
	for (at = 0; at < r->force_time->len; at++)
		if (g_array_index(r->force_time, uint64_t, at) == unblocked - 119 * PERIOD)
			break;
	g_assert_cmpuint(at + 120, <=, r->force_time->len);
	for (guint k = 0; k < 120; k++)
		g_assert_cmpuint(g_array_index(r->force_time, uint64_t, at + k), ==,
				 unblocked - (119 - k) * PERIOD);
	for (at = 1; at < r->force_time->len; at++)
		g_assert_cmpuint(g_array_index(r->force_time, uint64_t, at), >,
				 g_array_index(r->force_time, uint64_t, at - 1));
	rig_free(r);
}

/* A pass acked before it could go out live is not sent (the host has it). */
static void test_stream_skips_acked(void)
{
	struct rig *r = rig_new();

	rig_connect(r, 247);
	r->notify_budget = 0;
	rig_pass(r, 150, 60);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CONTROL,
				     (const uint8_t[]){ DP_VERSION_BYTE, 9, 0, DP_FRAME_COMMAND,
							DP_OP_ACK, 1, 0, 0, 0 }, 9), ==, DP_ATT_OK);
	dp_fw_confirm(r->fw);
	r->notify_budget = -1;
	rig_run(r, 20, 0);
	g_assert_cmpuint(r->stream_passes->len, ==, 1);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 0)->seq, ==, 2);
	rig_free(r);
}

/* ---- History sync ---- */

static void offline_passes(struct rig *r, guint n)
{
	for (guint i = 0; i < n; i++)
		rig_pass(r, (uint16_t)(100 + i), 60 + (int32_t)i * 4);
}

static void check_history(struct rig *r, uint32_t first, uint32_t next)
{
	g_assert_cmpuint(r->history_passes->len, ==, next - first);
	for (uint32_t s = first; s < next; s++) {
		const struct dp_pass *p = PASS_AT(r->history_passes, s - first);

		g_assert_cmpuint(p->seq, ==, s);
		g_assert_cmpmem(p, sizeof(*p), dp_log_get(&r->fw->log, s), sizeof(*p));
	}
}

/* SYNC from 1 with 10 records, small MTU: several frames, then LOG_END,
 * then ACK frees them. */
static void test_sync_small_mtu(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;
	const struct dp_log_end *end;

	offline_passes(r, 10);
	rig_connect(r, 100);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, 1);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.sync.first_seq, ==, 1);
	g_assert_cmpuint(rsp.u.sync.next_seq, ==, 11);
	/* Nothing before the next tick: the response goes first. */
	g_assert_cmpuint(r->history_frames, ==, 0);
	dp_fw_tick(r->fw, r->t);
	/* 97 bytes: 3 passes per frame; the fourth frame has 1 and LOG_END. */
	g_assert_cmpuint(r->history_frames, ==, 4);
	check_history(r, 1, 11);
	g_assert_cmpuint(r->log_ends->len, ==, 1);
	end = &g_array_index(r->log_ends, struct dp_log_end, 0);
	g_assert_cmpuint(end->first_seq, ==, 1);
	g_assert_cmpuint(end->next_seq, ==, 11);
	g_assert_cmpuint(end->sent, ==, 10);
	dp_fw_tick(r->fw, r->t + 100);
	g_assert_cmpuint(r->history_frames, ==, 4);

	rsp = rig_cmd(r, DP_OP_ACK, 10);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.log_count, ==, 0);
	g_assert_cmpuint(fw_status(r).log_count, ==, 0);
	g_assert_cmpuint(fw_status(r).log_first_seq, ==, 11);
	g_assert_cmpuint(fw_status(r).log_next_seq, ==, 11);
	rig_free(r);
}

static void test_sync_from(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	offline_passes(r, 6);
	rig_connect(r, 247);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, 4);
	g_assert_cmpuint(rsp.u.sync.first_seq, ==, 4);
	g_assert_cmpuint(rsp.u.sync.next_seq, ==, 7);
	dp_fw_tick(r->fw, r->t);
	check_history(r, 4, 7);
	g_assert_cmpuint(g_array_index(r->log_ends, struct dp_log_end, 0).sent, ==, 3);

	/* From below the oldest unacked: first is the oldest unacked. */
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, 2), ==, DP_RES_OK);
	g_array_set_size(r->history_passes, 0);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, 0);
	g_assert_cmpuint(rsp.u.sync.first_seq, ==, 3);
	dp_fw_tick(r->fw, r->t);
	check_history(r, 3, 7);
	g_array_set_size(r->history_passes, 0);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, 1);
	g_assert_cmpuint(rsp.u.sync.first_seq, ==, 3);
	dp_fw_tick(r->fw, r->t);
	check_history(r, 3, 7);
	g_assert_cmpuint(g_array_index(r->log_ends, struct dp_log_end, 2).first_seq, ==, 3);

	/* From == next: nothing to send, just LOG_END. */
	g_array_set_size(r->history_passes, 0);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, 7);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.sync.first_seq, ==, 7);
	g_assert_cmpuint(rsp.u.sync.next_seq, ==, 7);
	dp_fw_tick(r->fw, r->t);
	g_assert_cmpuint(r->history_passes->len, ==, 0);
	g_assert_cmpuint(r->log_ends->len, ==, 4);
	g_assert_cmpuint(g_array_index(r->log_ends, struct dp_log_end, 3).first_seq, ==, 7);
	g_assert_cmpuint(g_array_index(r->log_ends, struct dp_log_end, 3).sent, ==, 0);

	/* From beyond next. */
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 8), ==, DP_RES_OUT_OF_RANGE);
	rig_free(r);
}

/* Pacing: one tick sends while notify accepts; the rest on later ticks.
 * Passes acked meanwhile are skipped, and LOG_END counts what was sent. */
static void test_sync_paced(void)
{
	struct rig *r = rig_new();

	offline_passes(r, 10);
	rig_connect(r, 100);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_OK);
	r->notify_budget = 1;
	dp_fw_tick(r->fw, r->t);
	g_assert_cmpuint(r->history_frames, ==, 1);
	g_assert_cmpuint(r->history_passes->len, ==, 3);
	/* The host acks what it has; the roller skips those if asked again. */
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, 5), ==, DP_RES_OK);
	r->notify_budget = 1;
	dp_fw_tick(r->fw, r->t + 1);
	g_assert_cmpuint(r->history_frames, ==, 2);
	r->notify_budget = -1;
	dp_fw_tick(r->fw, r->t + 2);
	g_assert_cmpuint(r->history_frames, ==, 3);
	/* 1,2,3 then (4,5 acked) 6,7,8 then 9,10 + LOG_END. */
	g_assert_cmpuint(r->history_passes->len, ==, 8);
	g_assert_cmpuint(PASS_AT(r->history_passes, 3)->seq, ==, 6);
	g_assert_cmpuint(PASS_AT(r->history_passes, 7)->seq, ==, 10);
	g_assert_cmpuint(g_array_index(r->log_ends, struct dp_log_end, 0).sent, ==, 8);
	g_assert_cmpuint(g_array_index(r->log_ends, struct dp_log_end, 0).next_seq, ==, 11);
	rig_free(r);
}

/* A link drop mid-sync abandons it; the host acks what it committed,
 * resyncs, and has every record exactly once. */
static void test_sync_disconnect_resync(void)
{
	struct rig *r = rig_new();
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	struct dp_response rsp;
	uint32_t acked = 0;

	offline_passes(r, 20);
	rig_connect(r, 100);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_OK);
	r->notify_budget = 2;
	dp_fw_tick(r->fw, r->t);
	g_assert_cmpuint(r->history_passes->len, ==, 6);
	/* The host commits what it got, then the link drops before the ack. */
	for (guint i = 0; i < r->history_passes->len; i++)
		g_hash_table_add(seen, GUINT_TO_POINTER(PASS_AT(r->history_passes, i)->seq));
	dp_fw_disconnect(r->fw);
	r->notify_budget = -1;
	dp_fw_tick(r->fw, r->t + 100);
	g_assert_cmpuint(r->history_frames, ==, 2);
	/* More passes while away. */
	offline_passes(r, 3);

	rig_connect(r, 100);
	/* The first sync was abandoned: a new one is not BUSY. */
	rsp = rig_cmd(r, DP_OP_ACK, 6);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.log_count, ==, 17);
	acked = 6;
	g_array_set_size(r->history_passes, 0);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, acked + 1);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.sync.first_seq, ==, 7);
	g_assert_cmpuint(rsp.u.sync.next_seq, ==, 24);
	dp_fw_tick(r->fw, r->t);
	for (guint i = 0; i < r->history_passes->len; i++) {
		uint32_t seq = PASS_AT(r->history_passes, i)->seq;

		g_assert_false(g_hash_table_contains(seen, GUINT_TO_POINTER(seq)));
		g_hash_table_add(seen, GUINT_TO_POINTER(seq));
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, 23);
	for (uint32_t s = 1; s <= 23; s++)
		g_assert_true(g_hash_table_contains(seen, GUINT_TO_POINTER(s)));
	g_assert_cmpuint(rig_cmd(r, DP_OP_ACK, 23).u.log_count, ==, 0);
	g_hash_table_unref(seen);
	rig_free(r);
}

/* Unsubscribing from HISTORY abandons a sync the same way. */
static void test_sync_unsubscribe(void)
{
	struct rig *r = rig_new();

	offline_passes(r, 10);
	rig_connect(r, 100);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_OK);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_HISTORY, 0), ==, DP_ATT_OK);
	dp_fw_tick(r->fw, r->t);
	g_assert_cmpuint(r->history_frames, ==, 0);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_HISTORY, 1), ==, DP_ATT_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_OK);
	dp_fw_tick(r->fw, r->t);
	check_history(r, 1, 11);
	rig_free(r);
}

/* The response indication precedes any HISTORY frame even when the stack
 * could not take the indication at once. */
static void test_sync_waits_for_response(void)
{
	struct rig *r = rig_new();
	struct dp_command sync = { .opcode = DP_OP_SYNC_HISTORY, .u.seq = 1 };

	offline_passes(r, 3);
	rig_connect(r, 247);
	r->indicate_refuses = true;
	g_assert_cmpuint(rig_write_cmd(r, &sync), ==, DP_ATT_OK);
	dp_fw_tick(r->fw, r->t);
	g_assert_cmpuint(r->history_frames, ==, 0);
	r->indicate_refuses = false;
	dp_fw_tick(r->fw, r->t + 1);
	g_assert_cmpuint(r->responses->len, ==, 1);
	g_assert_cmpuint(r->history_frames, ==, 1);
	check_history(r, 1, 4);
	dp_fw_confirm(r->fw);

	/* The host turns CONTROL indications off before the SYNC response
	 * could go: it never heard of that sync, so none is sent, and the
	 * next SYNC is not BUSY. */
	g_array_set_size(r->history_passes, 0);
	r->indicate_refuses = true;
	g_assert_cmpuint(rig_write_cmd(r, &sync), ==, DP_ATT_OK);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CONTROL, 0), ==, DP_ATT_OK);
	r->indicate_refuses = false;
	dp_fw_tick(r->fw, r->t + 2);
	g_assert_cmpuint(r->history_frames, ==, 1);
	g_assert_cmpuint(r->responses->len, ==, 1);
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_CONTROL, 2), ==, DP_ATT_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_OK);
	dp_fw_tick(r->fw, r->t + 3);
	check_history(r, 1, 4);
	rig_free(r);
}

static void test_ack(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	offline_passes(r, 5);
	rig_connect(r, 247);
	rsp = rig_cmd(r, DP_OP_ACK, 2);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.log_count, ==, 3);
	/* Below first: a no-op, still OK. */
	rsp = rig_cmd(r, DP_OP_ACK, 1);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.log_count, ==, 3);
	rsp = rig_cmd(r, DP_OP_ACK, 0);
	g_assert_cmpuint(rsp.u.log_count, ==, 3);
	rsp = rig_cmd(r, DP_OP_ACK, 5);
	g_assert_cmpuint(rsp.u.log_count, ==, 0);
	g_assert_null(dp_log_get(&r->fw->log, 5));
	rig_free(r);
}

/* A full log: START answers LOG_FULL, further passes are counted as
 * dropped and not streamed; >= 90 % sets LOG_NEARLY_FULL. */
static void test_log_full(void)
{
	struct rig *r = rig_new();
	struct dp_pass filler = {
		.start_ms = 1, .duration_ms = 100, .distance_mm = 20,
		.direction = DP_DIR_FORWARD, .mean_force_cn = 100, .peak_force_cn = 100,
	};
	guint nearly = (DP_LOG_CAPACITY * 9 + 9) / 10;

	/* Filler goes straight into the log, while the stream is off (it
	 * would otherwise go out live like any new record). */
	while (dp_log_count(&r->fw->log) < nearly - 1)
		g_assert_true(dp_log_append(&r->fw->log, &filler));
	rig_connect(r, 247);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_LOG_NEARLY_FULL, ==, 0);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(fw_status(r).flags & DP_STATUS_LOG_NEARLY_FULL, ==,
			 DP_STATUS_LOG_NEARLY_FULL);
	g_assert_cmpuint(last_status(r)->flags & DP_STATUS_LOG_NEARLY_FULL, ==,
			 DP_STATUS_LOG_NEARLY_FULL);

	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_STREAM, 0), ==, DP_ATT_OK);
	while (dp_log_count(&r->fw->log) < DP_LOG_CAPACITY - 1)
		g_assert_true(dp_log_append(&r->fw->log, &filler));
	g_assert_cmpuint(dp_fw_subscribe(r->fw, DP_CHAR_STREAM, 1), ==, DP_ATT_OK);
	rig_pass(r, 150, 60);                 /* the last free slot */
	g_assert_cmpuint(r->stream_passes->len, ==, 2);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 1)->seq, ==, DP_LOG_CAPACITY);
	g_assert_cmpuint(rig_result(r, DP_OP_STOP_SESSION, 0), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_OFFLINE_SESSION);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 1), ==, DP_RES_LOG_FULL);
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_OFFLINE_SESSION);

	rig_pass(r, 150, 60);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(fw_status(r).log_dropped, ==, 2);
	g_assert_cmpuint(last_status(r)->log_dropped, ==, 2);
	g_assert_cmpuint(fw_status(r).log_next_seq, ==, DP_LOG_CAPACITY + 1);
	g_assert_cmpuint(r->stream_passes->len, ==, 2);

	/* Acked: room again. */
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, 100), ==, DP_RES_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 1), ==, DP_RES_OK);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->stream_passes->len, ==, 3);
	g_assert_cmpuint(PASS_AT(r->stream_passes, 2)->seq, ==, DP_LOG_CAPACITY + 1);
	rig_free(r);
}

/* ---- Robustness: the control point ---- */

static const struct {
	uint8_t opcode;
	uint8_t params;              /* the right size */
} opcode_sizes[] = {
	{ DP_OP_START_SESSION, 1 }, { DP_OP_STOP_SESSION, 0 }, { DP_OP_SET_TIME, 8 },
	{ DP_OP_SYNC_HISTORY, 4 }, { DP_OP_ACK, 4 }, { DP_OP_ZERO_FORCE, 0 },
	{ DP_OP_IDENTIFY, 1 }, { DP_OP_SET_ZONE, 1 },
};

static size_t make_cmd(uint8_t *buf, uint8_t opcode, size_t params, uint8_t fill)
{
	size_t len = DP_HEADER_SIZE + 1 + params;

	buf[0] = DP_VERSION_BYTE;
	buf[1] = (uint8_t)len;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = DP_FRAME_COMMAND;
	buf[4] = opcode;
	memset(buf + 5, fill, params);
	return len;
}

/* Every opcode with every wrong parameter size: MALFORMED, opcode echoed,
 * nothing executed. */
static void test_rb_wrong_sizes(void)
{
	struct rig *r = rig_new();

	rig_connect(r, 247);
	for (guint i = 0; i < G_N_ELEMENTS(opcode_sizes); i++) {
		for (size_t n = 0; n <= 12; n++) {
			uint8_t buf[32];
			size_t len;
			struct dp_response rsp;

			if (n == opcode_sizes[i].params)
				continue;
			len = make_cmd(buf, opcode_sizes[i].opcode, n, 1);
			rsp = rig_write_raw(r, buf, len);
			g_assert_cmpuint(rsp.opcode, ==, opcode_sizes[i].opcode);
			g_assert_cmpuint(rsp.result, ==, DP_RES_MALFORMED);
		}
	}
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_IDLE);
	g_assert_false(r->fw->clock_set);
	g_assert_cmpuint(r->identify_calls, ==, 0);
	rig_free(r);
}

static void test_rb_unknown_opcode(void)
{
	static const uint8_t unknown[] = { 0x00, 0x09, 0x10, 0x7f, 0x80, 0xff };
	struct rig *r = rig_new();

	rig_connect(r, 247);
	for (guint i = 0; i < G_N_ELEMENTS(unknown); i++) {
		for (size_t n = 0; n <= 8; n += 4) {
			uint8_t buf[32];
			size_t len = make_cmd(buf, unknown[i], n, 0);
			struct dp_response rsp = rig_write_raw(r, buf, len);

			g_assert_cmpuint(rsp.opcode, ==, unknown[i]);
			g_assert_cmpuint(rsp.result, ==, DP_RES_UNSUPPORTED);
		}
	}
	rig_free(r);
}

static const struct {
	uint8_t opcode;
	uint8_t value;
} bad_params[] = {
	{ DP_OP_START_SESSION, 0 }, { DP_OP_START_SESSION, 11 }, { DP_OP_START_SESSION, 255 },
	{ DP_OP_SET_ZONE, 0 }, { DP_OP_SET_ZONE, 11 }, { DP_OP_SET_ZONE, 200 },
	{ DP_OP_IDENTIFY, 0 }, { DP_OP_IDENTIFY, 31 }, { DP_OP_IDENTIFY, 255 },
};

static void test_rb_bad_param(void)
{
	struct rig *r = rig_new();

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 1), ==, DP_RES_OK);
	for (guint i = 0; i < G_N_ELEMENTS(bad_params); i++) {
		uint8_t buf[32];
		size_t len = make_cmd(buf, bad_params[i].opcode, 1, bad_params[i].value);
		struct dp_response rsp = rig_write_raw(r, buf, len);

		g_assert_cmpuint(rsp.opcode, ==, bad_params[i].opcode);
		g_assert_cmpuint(rsp.result, ==, DP_RES_INVALID_PARAM);
	}
	g_assert_cmpuint(fw_status(r).zone, ==, 1);
	g_assert_cmpuint(fw_status(r).session, ==, 1);
	g_assert_cmpuint(r->identify_calls, ==, 0);
	rig_free(r);
}

/* Broken frames: MALFORMED, echoing the opcode byte when there is one. */
static void test_rb_bad_frames(void)
{
	static const struct {
		const char *name;
		uint8_t bytes[12];
		uint8_t len;
		uint8_t echo;
	} frames[] = {
		{ "one byte", { 0x10 }, 1, 0 },
		{ "header only", { 0x10, 4, 0, DP_FRAME_COMMAND }, 4, 0 },
		{ "major 2", { 0x20, 5, 0, DP_FRAME_COMMAND, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "major 0", { 0x00, 5, 0, DP_FRAME_COMMAND, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "response type", { 0x10, 5, 0, DP_FRAME_RESPONSE, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "stream type", { 0x10, 5, 0, DP_FRAME_STREAM, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "unknown type", { 0x10, 5, 0, 0x77, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "length short", { 0x10, 4, 0, DP_FRAME_COMMAND, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "length long", { 0x10, 6, 0, DP_FRAME_COMMAND, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "length < header", { 0x10, 2, 0, DP_FRAME_COMMAND, DP_OP_STOP_SESSION }, 5, DP_OP_STOP_SESSION },
		{ "length huge", { 0x10, 0xff, 0xff, DP_FRAME_COMMAND, DP_OP_ACK, 1, 0, 0, 0 }, 9, DP_OP_ACK },
		{ "ack truncated", { 0x10, 7, 0, DP_FRAME_COMMAND, DP_OP_ACK, 1, 0 }, 7, DP_OP_ACK },
		{ "all ones", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 6, 0xff },
	};
	struct rig *r = rig_new();

	rig_connect(r, 247);
	for (guint i = 0; i < G_N_ELEMENTS(frames); i++) {
		struct dp_response rsp = rig_write_raw(r, frames[i].bytes, frames[i].len);

		if (rsp.result != DP_RES_MALFORMED || rsp.opcode != frames[i].echo)
			g_test_message("case %s", frames[i].name);
		g_assert_cmpuint(rsp.result, ==, DP_RES_MALFORMED);
		g_assert_cmpuint(rsp.opcode, ==, frames[i].echo);
	}
	g_assert_cmpuint(fw_status(r).state, ==, DP_STATE_IDLE);
	rig_free(r);
}

static void test_rb_att_lengths(void)
{
	struct rig *r = rig_new();
	uint8_t big[600];

	rig_connect(r, 247);
	memset(big, 0, sizeof(big));
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CONTROL, big, 0), ==, DP_ATT_INVALID_LENGTH);
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CONTROL, big, 513), ==, DP_ATT_INVALID_LENGTH);
	g_assert_cmpuint(r->responses->len, ==, 0);
	/* 512 is a valid ATT value: it reaches the control point, which
	 * finds no command in it. */
	g_assert_cmpuint(rig_write_raw(r, big, 512).result, ==, DP_RES_MALFORMED);
	g_assert_cmpuint(dp_fw_write(r->fw, DP_CHAR_CURRENT_TIME, big, 0), ==, DP_ATT_INVALID_LENGTH);
	rig_free(r);
}

/* Random bytes: ATT OK, exactly one response, and the result the codec's
 * verdict on the same bytes calls for. */
static void test_rb_garbage(void)
{
	struct rig *r = rig_new();
	GRand *rand = g_rand_new_with_seed(20240301);

	rig_connect(r, 247);
	for (guint i = 0; i < 3000; i++) {
		uint8_t buf[40];
		size_t len = (size_t)g_rand_int_range(rand, 1, sizeof(buf) + 1);
		struct dp_command cmd;
		struct dp_response rsp;
		enum dp_err err;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)g_rand_int(rand);
		/* Half of them with a plausible header, to reach the params. */
		if (i % 2) {
			buf[0] = DP_VERSION_BYTE;
			if (len >= 3) {
				buf[1] = (uint8_t)len;
				buf[2] = 0;
			}
			if (len >= 4)
				buf[3] = DP_FRAME_COMMAND;
			if (len >= 5)
				buf[4] = (uint8_t)(buf[4] % 10);
		}
		err = dp_command_decode(buf, len, &cmd);
		rsp = rig_write_raw(r, buf, len);
		switch (err) {
		case DP_OK:
			g_assert_cmpuint(rsp.opcode, ==, cmd.opcode);
			g_assert_cmpuint(rsp.result, !=, DP_RES_MALFORMED);
			g_assert_cmpuint(rsp.result, !=, DP_RES_UNSUPPORTED);
			break;
		case DP_ERR_OPCODE:
			g_assert_cmpuint(rsp.result, ==, DP_RES_UNSUPPORTED);
			break;
		case DP_ERR_FIELD:
			g_assert_cmpuint(rsp.result, ==, DP_RES_INVALID_PARAM);
			break;
		default:
			g_assert_cmpuint(rsp.result, ==, DP_RES_MALFORMED);
			break;
		}
		if (len > DP_HEADER_SIZE)
			g_assert_cmpuint(rsp.opcode, ==, buf[DP_HEADER_SIZE]);
		else
			g_assert_cmpuint(rsp.opcode, ==, 0);
	}
	g_rand_free(rand);
	rig_free(r);
}

static void test_rb_wrong_state(void)
{
	struct rig *r = rig_new();

	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_STOP_SESSION, 0), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(rig_result(r, DP_OP_SET_ZONE, 3), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 3), ==, DP_RES_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 3), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(rig_result(r, DP_OP_START_SESSION, 4), ==, DP_RES_INVALID_STATE);
	g_assert_cmpuint(fw_status(r).session, ==, 1);
	g_assert_cmpuint(rig_result(r, DP_OP_STOP_SESSION, 0), ==, DP_RES_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_STOP_SESSION, 0), ==, DP_RES_INVALID_STATE);
	/* Non-OK responses carry no params (checked by the decoder's view). */
	g_assert_cmpuint(rig_cmd(r, DP_OP_STOP_SESSION, 0).u.stop.session, ==, 0);
	rig_free(r);
}

static void test_rb_ack_out_of_range(void)
{
	struct rig *r = rig_new();

	offline_passes(r, 3);
	rig_connect(r, 247);
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, 4), ==, DP_RES_OUT_OF_RANGE);
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, 5), ==, DP_RES_OUT_OF_RANGE);
	g_assert_cmpuint(rig_result(r, DP_OP_ACK, UINT32_MAX), ==, DP_RES_OUT_OF_RANGE);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 3);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, UINT32_MAX), ==, DP_RES_OUT_OF_RANGE);
	rig_free(r);
}

static void test_rb_sync_while_syncing(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	offline_passes(r, 10);
	rig_connect(r, 100);
	r->notify_budget = 1;
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_OK);
	dp_fw_tick(r->fw, r->t);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_BUSY);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 5), ==, DP_RES_BUSY);
	r->notify_budget = -1;
	dp_fw_tick(r->fw, r->t + 1);
	/* The running sync went on untouched; afterwards a new one is fine. */
	check_history(r, 1, 11);
	g_assert_cmpuint(r->log_ends->len, ==, 1);
	rsp = rig_cmd(r, DP_OP_SYNC_HISTORY, 1);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	rig_free(r);
}

static void test_rb_read_unencrypted(void)
{
	struct rig *r = rig_new();
	uint8_t buf[DP_MAX_FRAME];
	size_t len = 99;

	rig_connect_mtu(r, false, 247);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_INFO, buf, sizeof(buf), &len), ==,
			 DP_ATT_INSUFFICIENT_ENCRYPTION);
	g_assert_cmpuint(len, ==, 0);
	/* Nothing flows on an unencrypted link, even with samples coming. */
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->frames, ==, 0);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 1);
	rig_free(r);
}

static void test_rb_small_read_buffer(void)
{
	struct rig *r = rig_new();
	uint8_t buf[8];
	size_t len;

	rig_connect(r, 247);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_INFO, buf, sizeof(buf), &len), ==,
			 DP_ATT_INVALID_LENGTH);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_DEVICE_INFO, buf, sizeof(buf), &len), ==,
			 DP_ATT_INVALID_LENGTH);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_CURRENT_TIME, buf, 5, &len), ==,
			 DP_ATT_INVALID_LENGTH);
	g_assert_cmpuint(dp_fw_read(r->fw, DP_CHAR_BATTERY, buf, 0, &len), ==,
			 DP_ATT_INVALID_LENGTH);
	rig_free(r);
}

/* Below DP_MIN_ATT_MTU no record frame is sent; commands still work. */
static void test_rb_low_mtu(void)
{
	struct rig *r = rig_new();
	struct dp_response rsp;

	offline_passes(r, 2);
	rig_connect(r, 23);
	g_assert_cmpuint(r->fw->att_mtu, ==, 23);
	rsp = rig_cmd(r, DP_OP_SET_TIME, 123456789);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rig_result(r, DP_OP_SYNC_HISTORY, 1), ==, DP_RES_INVALID_STATE);
	rig_pass(r, 150, 60);
	g_assert_cmpuint(r->frames, ==, 0);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 3);
	rig_free(r);
}

/* Odd configurations are made safe: INFO always encodes. */
static void test_rb_config(void)
{
	struct dp_fw_config cfg;
	struct rig *r;
	struct dp_info info;

	dp_fw_config_default(&cfg);
	cfg.firmware = "a-version-string-far-too-long";
	cfg.serial = "tab\there";
	cfg.head_serial = NULL;
	cfg.needle_um = 0;
	cfg.battery_pct = 200;
	cfg.force_period_ms = 0;
	cfg.att_mtu = 0;
	cfg.detect.ticks_per_10mm = 0;
	cfg.detect.warn_cn = 0;
	r = rig_new_cfg(&cfg);
	rig_connect(r, 247);
	info = rig_info(r);
	g_assert_cmpstr(info.firmware, ==, "a-version-string");
	g_assert_cmpstr(info.serial, ==, "tab?here");
	g_assert_cmpstr(info.head_serial, ==, "?");
	g_assert_cmpuint(info.needle_um, ==, 1);
	g_assert_cmpuint(info.ticks_per_10mm, ==, 40);
	g_assert_cmpuint(info.warn_force_cn, ==, 500);
	g_assert_cmpuint(fw_status(r).battery_pct, ==, 100);
	g_assert_cmpuint(r->fw->att_mtu, ==, 247);
	rig_run(r, 10, 0);
	g_assert_cmpuint(r->force->len, ==, 10);
	dp_fw_fit_head(r->fw, "", 9000);
	info = rig_info(r);
	g_assert_cmpstr(info.head_serial, ==, "?");
	g_assert_cmpuint(info.needle_um, ==, 3000);
	rig_free(r);
}

/* Time passed in out of order: the firmware never goes back. */
static void test_rb_time_backwards(void)
{
	struct rig *r = rig_new();

	rig_connect(r, 247);
	dp_fw_tick(r->fw, 10000);
	dp_fw_tick(r->fw, 5000);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, 10000);
	r->t = 2000;
	rig_pass(r, 150, 60);
	g_assert_cmpuint(dp_fw_clock(r->fw), ==, 10000);
	g_assert_cmpuint(dp_log_count(&r->fw->log), ==, 1);
	rig_free(r);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/firmware/config-default", test_config_default);
	g_test_add_func("/firmware/initial-state", test_initial_state);
	g_test_add_func("/firmware/read-info", test_read_info);
	g_test_add_func("/firmware/read-battery", test_read_battery);
	g_test_add_func("/firmware/read-device-info", test_read_device_info);
	g_test_add_func("/firmware/current-time", test_current_time);
	g_test_add_func("/firmware/att-permissions", test_att_permissions);
	g_test_add_func("/firmware/not-connected", test_not_connected);
	g_test_add_func("/firmware/indication-flow", test_indication_flow);
	g_test_add_func("/firmware/identify", test_identify);
	g_test_add_func("/firmware/session", test_session);
	g_test_add_func("/firmware/stop-flushes-pass", test_stop_flushes_pass);
	g_test_add_func("/firmware/offline-session", test_offline_session);
	g_test_add_func("/firmware/offline-then-host", test_offline_then_host);
	g_test_add_func("/firmware/disconnect-keeps-session", test_disconnect_keeps_session);
	g_test_add_func("/firmware/session-timeout-disconnected", test_session_timeout_disconnected);
	g_test_add_func("/firmware/set-time", test_set_time);
	g_test_add_func("/firmware/zero-force", test_zero_force);
	g_test_add_func("/firmware/pairing", test_pairing);
	g_test_add_func("/firmware/fit-head", test_fit_head);
	g_test_add_func("/firmware/stream/batching", test_stream_batching);
	g_test_add_func("/firmware/stream/status-on-change", test_stream_status_on_change);
	g_test_add_func("/firmware/stream/pass", test_stream_pass);
	g_test_add_func("/firmware/stream/pass-endings", test_stream_pass_endings);
	g_test_add_func("/firmware/stream/small-mtu", test_stream_small_mtu);
	g_test_add_func("/firmware/stream/mtu-negotiation", test_mtu_negotiation);
	g_test_add_func("/firmware/stream/needs-subscription", test_stream_needs_subscription);
	g_test_add_func("/firmware/stream/congestion-short", test_congestion_short);
	g_test_add_func("/firmware/stream/congestion-long", test_congestion_long);
	g_test_add_func("/firmware/stream/skips-acked", test_stream_skips_acked);
	g_test_add_func("/firmware/sync/small-mtu", test_sync_small_mtu);
	g_test_add_func("/firmware/sync/from", test_sync_from);
	g_test_add_func("/firmware/sync/paced", test_sync_paced);
	g_test_add_func("/firmware/sync/disconnect-resync", test_sync_disconnect_resync);
	g_test_add_func("/firmware/sync/unsubscribe", test_sync_unsubscribe);
	g_test_add_func("/firmware/sync/waits-for-response", test_sync_waits_for_response);
	g_test_add_func("/firmware/ack", test_ack);
	g_test_add_func("/firmware/log-full", test_log_full);
	g_test_add_func("/firmware/robustness/wrong-sizes", test_rb_wrong_sizes);
	g_test_add_func("/firmware/robustness/unknown-opcode", test_rb_unknown_opcode);
	g_test_add_func("/firmware/robustness/bad-param", test_rb_bad_param);
	g_test_add_func("/firmware/robustness/bad-frames", test_rb_bad_frames);
	g_test_add_func("/firmware/robustness/att-lengths", test_rb_att_lengths);
	g_test_add_func("/firmware/robustness/garbage", test_rb_garbage);
	g_test_add_func("/firmware/robustness/wrong-state", test_rb_wrong_state);
	g_test_add_func("/firmware/robustness/ack-out-of-range", test_rb_ack_out_of_range);
	g_test_add_func("/firmware/robustness/sync-while-syncing", test_rb_sync_while_syncing);
	g_test_add_func("/firmware/robustness/read-unencrypted", test_rb_read_unencrypted);
	g_test_add_func("/firmware/robustness/small-read-buffer", test_rb_small_read_buffer);
	g_test_add_func("/firmware/robustness/low-mtu", test_rb_low_mtu);
	g_test_add_func("/firmware/robustness/config", test_rb_config);
	g_test_add_func("/firmware/robustness/time-backwards", test_rb_time_backwards);

	return g_test_run();
}
