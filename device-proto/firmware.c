/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller's firmware logic (PROTOCOL.md §11): samples and ATT operations
 * in, frames out through the injected ops.  No I/O, no allocation.
 */
#include <stdint.h>
#include <string.h>

#include "dp/codec.h"
#include "dp/firmware.h"

#define ATT_MTU_MIN 23
#define ATT_MTU_MAX (DP_MAX_FRAME + 3)
#define ATT_VALUE_MAX 512
#define FORCE_SCALE_PM 1000

void dp_fw_config_default(struct dp_fw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->firmware = "1.0.0";
	cfg->serial = "DR-0000-0001";
	cfg->needle_um = 500;
	cfg->head_serial = "H-0001";
	cfg->head_uses = 0;
	cfg->head_fitted_ms = 0;
	cfg->battery_pct = 100;
	cfg->force_period_ms = 5;
	cfg->batch_ms = 50;
	cfg->status_every_ms = 1000;
	cfg->att_mtu = 247;
	cfg->detect.contact_cn = 30;
	cfg->detect.release_cn = 20;
	cfg->detect.lift_ms = 40;
	cfg->detect.reversal_ticks = 3;
	cfg->detect.stall_ms = 800;
	cfg->detect.min_distance_mm = 8;
	cfg->detect.warn_cn = 500;
	cfg->detect.ticks_per_10mm = 40;
}

static void trace(const struct dp_fw *fw, const char *msg)
{
	if (fw->ops->trace)
		fw->ops->trace(fw->user_data, msg);
}

/* §7 strings are 1..16 printable ASCII characters: whatever the caller
 * configured is made into one, so INFO always encodes. */
static void copy_str(char out[DP_STR_MAX + 1], const char *in)
{
	size_t n = 0;

	if (in) {
		for (; n < DP_STR_MAX && in[n]; n++)
			out[n] = in[n] >= 0x20 && in[n] <= 0x7e ? in[n] : '?';
	}
	if (n == 0)
		out[n++] = '?';
	out[n] = '\0';
}

static uint16_t clamp_u16(uint16_t v, uint16_t lo, uint16_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- Time (§4) ---- */

static uint64_t device_time(const struct dp_fw *fw, uint64_t mono_ms)
{
	uint64_t back;

	if (!fw->clock_set)
		return mono_ms;
	if (fw->clock_offset_ms >= 0) {
		uint64_t fwd = (uint64_t)fw->clock_offset_ms;

		return mono_ms > UINT64_MAX - fwd ? UINT64_MAX : mono_ms + fwd;
	}
	back = (uint64_t)(-(fw->clock_offset_ms + 1)) + 1;
	return mono_ms > back ? mono_ms - back : 0;
}

uint64_t dp_fw_clock(const struct dp_fw *fw)
{
	return device_time(fw, fw->now_ms);
}

static void clock_set(struct dp_fw *fw, uint64_t device_ms)
{
	if (device_ms >= fw->now_ms) {
		uint64_t d = device_ms - fw->now_ms;

		fw->clock_offset_ms = d > INT64_MAX ? INT64_MAX : (int64_t)d;
	} else {
		uint64_t d = fw->now_ms - device_ms;

		fw->clock_offset_ms = d > INT64_MAX ? -INT64_MAX : -(int64_t)d;
	}
	fw->clock_set = true;
	/* §2.2.3: subscribers hear of every set, by either path. */
	fw->time_notify = true;
}

static void advance(struct dp_fw *fw, uint64_t now_ms)
{
	if (now_ms > fw->now_ms)
		fw->now_ms = now_ms;
}

/* ---- Status and advertising ---- */

void dp_fw_status(const struct dp_fw *fw, struct dp_status *st)
{
	size_t count = dp_log_count(&fw->log);

	memset(st, 0, sizeof(*st));
	st->state = fw->state;
	st->battery_pct = fw->cfg.battery_pct;
	if (fw->pairing)
		st->flags |= DP_STATUS_PAIRING;
	if (fw->clock_set)
		st->flags |= DP_STATUS_CLOCK_SET;
	if (fw->charging)
		st->flags |= DP_STATUS_CHARGING;
	if (count * 10 >= (size_t)DP_LOG_CAPACITY * 9)
		st->flags |= DP_STATUS_LOG_NEARLY_FULL;
	if (dp_detect_in_contact(&fw->detector))
		st->flags |= DP_STATUS_CONTACT;
	st->log_count = (uint16_t)count;
	st->log_first_seq = fw->log.first_seq;
	st->log_next_seq = fw->log.next_seq;
	st->log_dropped = fw->log.dropped;
	st->session = fw->session;
	st->zone = fw->zone;
}

static bool status_equal(const struct dp_status *a, const struct dp_status *b)
{
	return a->state == b->state && a->battery_pct == b->battery_pct &&
		a->flags == b->flags && a->log_count == b->log_count &&
		a->log_first_seq == b->log_first_seq &&
		a->log_next_seq == b->log_next_seq &&
		a->log_dropped == b->log_dropped && a->session == b->session &&
		a->zone == b->zone;
}

void dp_fw_adv(const struct dp_fw *fw, struct dp_adv *adv)
{
	adv->flags = 0;
	if (fw->pairing)
		adv->flags |= DP_ADV_PAIRING;
	if (dp_log_count(&fw->log))
		adv->flags |= DP_ADV_LOG_PENDING;
	adv->proto_major = DP_PROTO_MAJOR;
}

/* ---- Sessions (§11.3) ---- */

static void session_open(struct dp_fw *fw, uint8_t state, uint8_t zone)
{
	/* Session numbers are never 0 ("none"), even after wrapping. */
	if (++fw->session_counter == 0)
		fw->session_counter = 1;
	fw->session = fw->session_counter;
	fw->session_passes = 0;
	fw->state = state;
	fw->zone = zone;
	if (fw->cfg.head_uses < UINT16_MAX)
		fw->cfg.head_uses++;
}

static void session_close(struct dp_fw *fw)
{
	fw->state = DP_STATE_IDLE;
	fw->session = 0;
	fw->zone = DP_ZONE_NONE;
}

/* Every pass goes to the log and gets its seq there (§11.4); the live
 * stream reads it back from the log. */
static void record_pass(struct dp_fw *fw, const struct dp_detected *d)
{
	struct dp_pass p;

	if (fw->state == DP_STATE_IDLE)
		session_open(fw, DP_STATE_OFFLINE_SESSION, DP_ZONE_NONE);

	memset(&p, 0, sizeof(p));
	p.start_ms = device_time(fw, d->start_ms);
	p.duration_ms = d->duration_ms;
	p.distance_mm = d->distance_mm;
	p.direction = d->direction;
	p.angle_deg = d->angle_deg;
	p.mean_force_cn = d->mean_force_cn;
	p.peak_force_cn = d->peak_force_cn;
	p.over_warn_ms = d->over_warn_ms;
	p.session = fw->session;
	p.zone = fw->zone;
	p.flags = d->end_flags;
	if (!fw->clock_set)
		p.flags |= DP_PASS_CLOCK_UNSET;

	if (fw->session_passes < UINT16_MAX)
		fw->session_passes++;
	fw->last_pass_end_ms = fw->now_ms;
	if (!dp_log_append(&fw->log, &p))
		trace(fw, "offline log full: pass dropped");
}

/* ---- Live stream (§11.5) ---- */

static size_t frame_cap(const struct dp_fw *fw)
{
	size_t cap = (size_t)fw->att_mtu - 3;

	return cap > DP_MAX_FRAME ? DP_MAX_FRAME : cap;
}

/* Below DP_MIN_ATT_MTU a PASS record may not fit a frame: nothing is
 * streamed and SYNC_HISTORY is refused. */
static bool stream_wanted(const struct dp_fw *fw)
{
	return fw->connected && fw->encrypted && fw->att_mtu >= DP_MIN_ATT_MTU &&
		fw->subscribed[DP_CHAR_STREAM] == 1;
}

static void stream_update(struct dp_fw *fw)
{
	bool on = stream_wanted(fw);

	if (on == fw->streaming)
		return;
	fw->streaming = on;
	fw->stream_backlog = false;
	fw->pending_force.count = 0;
	if (on) {
		/* Passes already logged reach the host through SYNC_HISTORY. */
		fw->stream_pass_seq = fw->log.next_seq;
		fw->last_batch_ms = fw->now_ms;
		fw->last_status_ms = fw->now_ms;
		fw->status_dirty = true;
	}
}

static void force_consume(struct dp_fw *fw, uint8_t n)
{
	struct dp_force *f = &fw->pending_force;

	memmove(f->cn, f->cn + n, (size_t)(f->count - n) * sizeof(f->cn[0]));
	f->count = (uint8_t)(f->count - n);
	fw->pending_force_start_ms += (uint64_t)n * f->period_ms;
}

enum send_result {
	SEND_NOTHING,                /* nothing (more) to send */
	SEND_DONE,                   /* one frame went out */
	SEND_CONGESTED,              /* the link refused it: keep everything */
};

/* Builds one STREAM frame from what is pending, FORCE then PASS then
 * STATUS, and sends it.  What does not fit stays for the next frame. */
static enum send_result stream_send_one(struct dp_fw *fw, bool status_due)
{
	uint8_t buf[DP_MAX_FRAME];
	struct dp_writer w;
	struct dp_stream_head head;
	struct dp_status st;
	uint8_t n_force = 0;
	uint32_t pass_seq = fw->stream_pass_seq;
	bool any = false, sent_status = false;
	size_t len;

	head.seq = fw->stream_seq + 1;
	head.time_ms = fw->pending_force.count ? fw->pending_force_start_ms :
		       dp_fw_clock(fw);
	dp_stream_begin(&w, buf, frame_cap(fw), &head);

	if (fw->pending_force.count && w.cap - w.len >= 6) {
		struct dp_force f;
		size_t room = (w.cap - w.len - 4) / 2;

		f.period_ms = fw->pending_force.period_ms;
		f.count = fw->pending_force.count < room ? fw->pending_force.count :
			  (uint8_t)room;
		memcpy(f.cn, fw->pending_force.cn, f.count * sizeof(f.cn[0]));
		if (dp_put_force(&w, &f) == DP_OK) {
			n_force = f.count;
			any = true;
		}
	}
	while (pass_seq < fw->log.next_seq) {
		const struct dp_pass *p = dp_log_get(&fw->log, pass_seq);

		/* Acked before it went out live: the host has it already. */
		if (p) {
			if (dp_put_pass(&w, p) != DP_OK)
				break;
			any = true;
		}
		pass_seq++;
	}
	if (status_due) {
		dp_fw_status(fw, &st);
		if (dp_put_status(&w, &st) == DP_OK)
			any = sent_status = true;
	}

	if (!any) {
		fw->stream_pass_seq = pass_seq;
		return SEND_NOTHING;
	}
	len = dp_frame_finish(&w);
	if (len == 0) {
		/* Only an out-of-range field gets here: a firmware bug.
		 * Drop the content rather than retry it forever. */
		trace(fw, "stream frame did not encode: dropped");
		fw->pending_force.count = 0;
		fw->stream_pass_seq = fw->log.next_seq;
		fw->status_dirty = false;
		return SEND_NOTHING;
	}
	if (!fw->ops->notify(fw->user_data, DP_CHAR_STREAM, buf, len))
		return SEND_CONGESTED;

	fw->stream_seq++;
	force_consume(fw, n_force);
	fw->stream_pass_seq = pass_seq;
	if (sent_status) {
		fw->last_status = st;
		fw->last_status_ms = fw->now_ms;
		fw->status_dirty = false;
	}
	return SEND_DONE;
}

static void stream_service(struct dp_fw *fw, bool flush)
{
	bool due;

	if (!fw->streaming)
		return;
	due = fw->now_ms - fw->last_batch_ms >= fw->cfg.batch_ms;
	if (!due && !fw->stream_backlog && !flush)
		return;
	if (due) {
		fw->last_batch_ms += fw->cfg.batch_ms;
		if (fw->now_ms - fw->last_batch_ms >= fw->cfg.batch_ms)
			fw->last_batch_ms = fw->now_ms;
	}

	for (;;) {
		struct dp_status st;
		bool status_due;
		enum send_result r;

		dp_fw_status(fw, &st);
		status_due = fw->status_dirty || !status_equal(&st, &fw->last_status) ||
			     fw->now_ms - fw->last_status_ms >= fw->cfg.status_every_ms;
		r = stream_send_one(fw, status_due);
		fw->stream_backlog = r == SEND_CONGESTED;
		if (r != SEND_DONE)
			break;
	}
}

static void stream_add_sample(struct dp_fw *fw, uint64_t t_ms, uint16_t force_cn)
{
	struct dp_force *f = &fw->pending_force;

	if (!fw->streaming)
		return;
	if (f->count == DP_FORCE_MAX)
		stream_service(fw, true);
	if (f->count == DP_FORCE_MAX) {
		/* Congested for long: the oldest samples go, never a pass. */
		force_consume(fw, 1);
		if (fw->force_dropped < UINT32_MAX)
			fw->force_dropped++;
	}
	if (f->count == 0)
		fw->pending_force_start_ms = device_time(fw, t_ms);
	f->period_ms = fw->cfg.force_period_ms;
	f->cn[f->count++] = force_cn;
}

/* ---- History sync (§11.4) ---- */

static void sync_service(struct dp_fw *fw)
{
	/* The SYNC response goes out before the first HISTORY frame. */
	while (fw->syncing && !fw->rsp_queued) {
		uint8_t buf[DP_MAX_FRAME];
		struct dp_writer w;
		uint32_t cursor = fw->sync_next;
		uint16_t n = 0;
		bool done = false;
		size_t len;

		dp_history_begin(&w, buf, frame_cap(fw));
		while (cursor < fw->sync_end) {
			const struct dp_pass *p = dp_log_get(&fw->log, cursor);

			/* Acked since the sync began: skipped, not sent. */
			if (p) {
				if (dp_put_pass(&w, p) != DP_OK)
					break;
				n++;
			}
			cursor++;
		}
		if (cursor >= fw->sync_end) {
			struct dp_log_end end = {
				.first_seq = fw->sync_first,
				.next_seq = fw->sync_end,
				.sent = (uint16_t)(fw->sync_sent + n),
			};

			done = dp_put_log_end(&w, &end) == DP_OK;
		}
		len = dp_frame_finish(&w);
		if (len == 0 || (n == 0 && !done && cursor == fw->sync_next)) {
			trace(fw, "history frame did not encode: sync abandoned");
			fw->syncing = false;
			break;
		}
		if (!fw->ops->notify(fw->user_data, DP_CHAR_HISTORY, buf, len))
			break;
		fw->sync_next = cursor;
		fw->sync_sent = (uint16_t)(fw->sync_sent + n);
		if (done)
			fw->syncing = false;
	}
}

/* ---- Control point (§8) ---- */

static void response_flush(struct dp_fw *fw)
{
	if (!fw->rsp_queued || fw->indication_pending)
		return;
	if (!fw->ops->indicate(fw->user_data, DP_CHAR_CONTROL, fw->rsp, fw->rsp_len))
		return;
	fw->rsp_queued = false;
	fw->indication_pending = true;
}

/* A response that never reached the stack is dropped (CONTROL indications
 * turned off).  If it was the OK that started a sync, the host never
 * learnt of that sync: it is abandoned rather than sent unannounced. */
static void response_drop(struct dp_fw *fw)
{
	if (fw->rsp_queued && fw->syncing &&
	    fw->rsp[DP_HEADER_SIZE] == DP_OP_SYNC_HISTORY &&
	    fw->rsp[DP_HEADER_SIZE + 1] == DP_RES_OK)
		fw->syncing = false;
	fw->rsp_queued = false;
}

static void respond(struct dp_fw *fw, const struct dp_response *rsp)
{
	size_t len;

	if (dp_response_encode(rsp, fw->rsp, sizeof(fw->rsp), &len) != DP_OK) {
		trace(fw, "response did not encode");
		return;
	}
	fw->rsp_len = (uint8_t)len;
	fw->rsp_queued = true;
	response_flush(fw);
}

static uint8_t cmd_start(struct dp_fw *fw, uint8_t zone, struct dp_response *rsp)
{
	if (fw->state == DP_STATE_SESSION)
		return DP_RES_INVALID_STATE;
	if (dp_log_count(&fw->log) >= DP_LOG_CAPACITY)
		return DP_RES_LOG_FULL;
	/* A host session ends the offline one. */
	if (fw->state == DP_STATE_OFFLINE_SESSION)
		session_close(fw);
	session_open(fw, DP_STATE_SESSION, zone);
	rsp->u.start.session = fw->session;
	return DP_RES_OK;
}

static uint8_t cmd_stop(struct dp_fw *fw, struct dp_response *rsp)
{
	struct dp_detected d;

	if (fw->state != DP_STATE_SESSION)
		return DP_RES_INVALID_STATE;
	if (dp_detect_flush(&fw->detector, &d))
		record_pass(fw, &d);
	rsp->u.stop.session = fw->session;
	rsp->u.stop.passes = fw->session_passes;
	session_close(fw);
	return DP_RES_OK;
}

static uint8_t cmd_sync(struct dp_fw *fw, uint32_t from, struct dp_response *rsp)
{
	if (fw->syncing)
		return DP_RES_BUSY;
	if (from > fw->log.next_seq)
		return DP_RES_OUT_OF_RANGE;
	if (fw->subscribed[DP_CHAR_HISTORY] != 1 || fw->att_mtu < DP_MIN_ATT_MTU)
		return DP_RES_INVALID_STATE;
	fw->syncing = true;
	fw->sync_first = from > fw->log.first_seq ? from : fw->log.first_seq;
	fw->sync_next = fw->sync_first;
	fw->sync_end = fw->log.next_seq;
	fw->sync_sent = 0;
	rsp->u.sync.first_seq = fw->sync_first;
	rsp->u.sync.next_seq = fw->sync_end;
	return DP_RES_OK;
}

static uint8_t cmd_ack(struct dp_fw *fw, uint32_t up_to, struct dp_response *rsp)
{
	if (!dp_log_ack(&fw->log, up_to))
		return DP_RES_OUT_OF_RANGE;
	rsp->u.log_count = (uint16_t)dp_log_count(&fw->log);
	return DP_RES_OK;
}

/* The mean raw force of the last 50 ms becomes the tare (§8.4); not while
 * a pass is in progress, whose figures it would change. */
static uint8_t cmd_zero_force(struct dp_fw *fw, struct dp_response *rsp)
{
	unsigned int want = 50 / fw->cfg.force_period_ms;
	uint32_t sum = 0;
	unsigned int n;

	if (dp_detect_in_pass(&fw->detector))
		return DP_RES_INVALID_STATE;
	if (want < 1)
		want = 1;
	if (want > fw->raw_count)
		want = fw->raw_count;
	for (n = 0; n < want; n++)
		sum += fw->raw_recent[(fw->raw_pos + DP_FW_TARE_SAMPLES - 1u - n) % DP_FW_TARE_SAMPLES];
	sum = n ? (sum + n / 2) / n : 0;
	fw->force_offset_cn = sum > INT16_MAX ? INT16_MAX : (int16_t)sum;
	rsp->u.force_offset_cn = fw->force_offset_cn;
	return DP_RES_OK;
}

static uint8_t execute(struct dp_fw *fw, const struct dp_command *cmd,
		       struct dp_response *rsp)
{
	switch (cmd->opcode) {
	case DP_OP_START_SESSION:
		return cmd_start(fw, cmd->u.zone, rsp);
	case DP_OP_STOP_SESSION:
		return cmd_stop(fw, rsp);
	case DP_OP_SET_TIME:
		rsp->u.previous_ms = dp_fw_clock(fw);
		clock_set(fw, cmd->u.time_ms);
		return DP_RES_OK;
	case DP_OP_SYNC_HISTORY:
		return cmd_sync(fw, cmd->u.seq, rsp);
	case DP_OP_ACK:
		return cmd_ack(fw, cmd->u.seq, rsp);
	case DP_OP_ZERO_FORCE:
		return cmd_zero_force(fw, rsp);
	case DP_OP_IDENTIFY:
		if (fw->ops->identify)
			fw->ops->identify(fw->user_data, cmd->u.seconds);
		return DP_RES_OK;
	case DP_OP_SET_ZONE:
		if (fw->state != DP_STATE_SESSION)
			return DP_RES_INVALID_STATE;
		fw->zone = cmd->u.zone;
		return DP_RES_OK;
	}
	return DP_RES_UNSUPPORTED;
}

/* §8: a write that reached the control point is always answered by an
 * indication, decode errors included. */
static void control_point(struct dp_fw *fw, const uint8_t *buf, size_t len)
{
	struct dp_command cmd;
	struct dp_response rsp;
	enum dp_err err = dp_command_decode(buf, len, &cmd);

	memset(&rsp, 0, sizeof(rsp));
	rsp.opcode = len > DP_HEADER_SIZE ? buf[DP_HEADER_SIZE] : 0;
	switch (err) {
	case DP_OK:
		rsp.result = execute(fw, &cmd, &rsp);
		break;
	case DP_ERR_OPCODE:
		rsp.result = DP_RES_UNSUPPORTED;
		break;
	case DP_ERR_FIELD:
		rsp.result = DP_RES_INVALID_PARAM;
		break;
	default:
		rsp.result = DP_RES_MALFORMED;
		break;
	}
	if (rsp.result != DP_RES_OK)
		memset(&rsp.u, 0, sizeof(rsp.u));
	respond(fw, &rsp);
}

/* ---- Lifecycle ---- */

void dp_fw_init(struct dp_fw *fw, const struct dp_fw_config *cfg,
		const struct dp_fw_ops *ops, void *user_data)
{
	struct dp_fw_config def;

	dp_fw_config_default(&def);
	memset(fw, 0, sizeof(*fw));
	fw->cfg = *cfg;
	fw->ops = ops;
	fw->user_data = user_data;

	/* The strings are copied: the caller's may not outlive fw. */
	copy_str(fw->firmware, cfg->firmware);
	copy_str(fw->serial, cfg->serial);
	copy_str(fw->head_serial, cfg->head_serial);
	fw->cfg.firmware = fw->firmware;
	fw->cfg.serial = fw->serial;
	fw->cfg.head_serial = fw->head_serial;

	/* Keep every configured value within what the wire can carry. */
	fw->cfg.needle_um = clamp_u16(cfg->needle_um, 1, 3000);
	if (fw->cfg.battery_pct > 100)
		fw->cfg.battery_pct = 100;
	if (fw->cfg.force_period_ms < 1 || fw->cfg.force_period_ms > 50)
		fw->cfg.force_period_ms = def.force_period_ms;
	if (fw->cfg.att_mtu == 0)
		fw->cfg.att_mtu = def.att_mtu;
	fw->cfg.att_mtu = clamp_u16(fw->cfg.att_mtu, ATT_MTU_MIN, ATT_MTU_MAX);
	if (fw->cfg.detect.ticks_per_10mm == 0)
		fw->cfg.detect.ticks_per_10mm = def.detect.ticks_per_10mm;
	if (fw->cfg.detect.warn_cn == 0)
		fw->cfg.detect.warn_cn = def.detect.warn_cn;

	fw->att_mtu = fw->cfg.att_mtu;
	fw->state = DP_STATE_IDLE;
	fw->pending_force.period_ms = fw->cfg.force_period_ms;
	dp_detect_init(&fw->detector, &fw->cfg.detect);
	dp_log_init(&fw->log, 1);
}

/* Battery Level and Current Time notifications (§2.2.2, §2.2.3): no
 * encryption needed; kept pending while the link refuses them. */
static void std_notify(struct dp_fw *fw)
{
	uint8_t buf[DP_CURRENT_TIME_SIZE];
	size_t len;

	if (!fw->connected) {
		fw->battery_notify = fw->time_notify = false;
		return;
	}
	if (fw->subscribed[DP_CHAR_BATTERY] != 1)
		fw->battery_notify = false;
	if (fw->subscribed[DP_CHAR_CURRENT_TIME] != 1)
		fw->time_notify = false;
	if (fw->battery_notify &&
	    fw->ops->notify(fw->user_data, DP_CHAR_BATTERY, &fw->cfg.battery_pct, 1))
		fw->battery_notify = false;
	if (fw->time_notify) {
		struct dp_current_time ct;

		memset(&ct, 0, sizeof(ct));
		dp_current_time_from_ms(dp_fw_clock(fw), &ct);
		ct.adjust_reason = 0x02;         /* external reference time update */
		if (dp_current_time_encode(&ct, buf, sizeof(buf), &len) != DP_OK ||
		    fw->ops->notify(fw->user_data, DP_CHAR_CURRENT_TIME, buf, len))
			fw->time_notify = false;
	}
}

static void service(struct dp_fw *fw, bool flush)
{
	uint64_t idle_since = fw->last_pass_end_ms;

	if (fw->pairing && fw->now_ms >= fw->pairing_until_ms)
		fw->pairing = false;
	if (fw->state == DP_STATE_OFFLINE_SESSION &&
	    fw->now_ms - fw->last_pass_end_ms >= DP_FW_OFFLINE_IDLE_MS)
		session_close(fw);
	/* §11.6: a host session outlives its link, but not by 5 minutes
	 * without a pass. */
	if (fw->disconnected_ms > idle_since)
		idle_since = fw->disconnected_ms;
	if (fw->state == DP_STATE_SESSION && !fw->connected &&
	    fw->now_ms - idle_since >= DP_FW_OFFLINE_IDLE_MS)
		session_close(fw);
	response_flush(fw);
	std_notify(fw);
	stream_service(fw, flush);
	sync_service(fw);
}

void dp_fw_sample(struct dp_fw *fw, const struct dp_sample *s)
{
	struct dp_detected d;
	int32_t tared = (int32_t)s->force_raw_cn - fw->force_offset_cn;
	uint16_t force;

	advance(fw, s->t_ms);
	fw->raw_recent[fw->raw_pos] = s->force_raw_cn;
	fw->raw_pos = (uint8_t)((fw->raw_pos + 1) % DP_FW_TARE_SAMPLES);
	if (fw->raw_count < DP_FW_TARE_SAMPLES)
		fw->raw_count++;
	/* Tare: the offset comes off, never below zero. */
	force = tared < 0 ? 0 : tared > UINT16_MAX ? UINT16_MAX : (uint16_t)tared;

	if (dp_detect_feed(&fw->detector, s->t_ms, s->encoder, force,
			   (uint8_t)(s->angle_deg % 180), &d))
		record_pass(fw, &d);
	stream_add_sample(fw, s->t_ms, force);
	service(fw, false);
}

void dp_fw_tick(struct dp_fw *fw, uint64_t now_ms)
{
	advance(fw, now_ms);
	service(fw, false);
}

void dp_fw_connect(struct dp_fw *fw, bool encrypted, uint16_t att_mtu)
{
	uint16_t mtu = att_mtu ? att_mtu : fw->cfg.att_mtu;

	if (fw->connected)
		dp_fw_disconnect(fw);
	fw->connected = true;
	fw->encrypted = encrypted;
	/* ATT_MTU is the smaller of the two sides' (Core Vol 3 Part F 3.4.2). */
	if (mtu > fw->cfg.att_mtu)
		mtu = fw->cfg.att_mtu;
	fw->att_mtu = clamp_u16(mtu, ATT_MTU_MIN, ATT_MTU_MAX);
}

void dp_fw_disconnect(struct dp_fw *fw)
{
	/* Subscriptions, the indication slot and a running sync belong to the
	 * link; the session and the log go on (§11.6). */
	if (fw->connected)
		fw->disconnected_ms = fw->now_ms;
	fw->connected = false;
	fw->encrypted = false;
	fw->battery_notify = fw->time_notify = false;
	memset(fw->subscribed, 0, sizeof(fw->subscribed));
	fw->indication_pending = false;
	fw->rsp_queued = false;
	fw->syncing = false;
	stream_update(fw);
}

/* ---- ATT operations (§2.1–§2.3, §10.4) ---- */

static bool chr_custom(enum dp_char chr)
{
	return chr >= DP_CHAR_INFO && chr <= DP_CHAR_HISTORY;
}

static bool chr_valid(enum dp_char chr)
{
	return chr >= DP_CHAR_INFO && chr <= DP_CHAR_MAX_;
}

/* Checks every ATT operation shares: a link, a known characteristic and,
 * for the custom service, encryption. */
static uint8_t att_gate(const struct dp_fw *fw, enum dp_char chr)
{
	if (!fw->connected || !chr_valid(chr))
		return DP_ATT_REQUEST_NOT_SUPPORTED;
	if (chr_custom(chr) && !fw->encrypted)
		return DP_ATT_INSUFFICIENT_ENCRYPTION;
	return DP_ATT_OK;
}

static size_t append(char *out, size_t at, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (at + n >= cap)
		n = at < cap ? cap - at - 1 : 0;
	memcpy(out + at, s, n);
	out[at + n] = '\0';
	return at + n;
}

static uint8_t read_info(const struct dp_fw *fw, uint8_t *buf, size_t cap, size_t *out_len)
{
	struct dp_info info;

	memset(&info, 0, sizeof(info));
	memcpy(info.firmware, fw->firmware, sizeof(info.firmware));
	memcpy(info.serial, fw->serial, sizeof(info.serial));
	memcpy(info.head_serial, fw->head_serial, sizeof(info.head_serial));
	info.needle_um = fw->cfg.needle_um;
	info.head_uses = fw->cfg.head_uses;
	info.head_fitted_ms = fw->cfg.head_fitted_ms;
	info.force_offset_cn = fw->force_offset_cn;
	info.force_scale_pm = FORCE_SCALE_PM;
	info.ticks_per_10mm = fw->cfg.detect.ticks_per_10mm;
	info.warn_force_cn = fw->cfg.detect.warn_cn;
	info.clock_ms = dp_fw_clock(fw);
	info.clock_flags = fw->clock_set ? DP_STATUS_CLOCK_SET : 0;
	if (dp_info_encode(&info, buf, cap, out_len) != DP_OK)
		return DP_ATT_INVALID_LENGTH;
	return DP_ATT_OK;
}

static uint8_t read_device_info(const struct dp_fw *fw, uint8_t *buf, size_t cap,
				size_t *out_len)
{
	char s[DP_FW_DEVICE_INFO_MAX];
	size_t n = 0;

	s[0] = '\0';
	n = append(s, n, sizeof(s), "manufacturer=" DP_FW_MANUFACTURER ";model=" DP_FW_MODEL
		   ";serial=");
	n = append(s, n, sizeof(s), fw->serial);
	n = append(s, n, sizeof(s), ";firmware=");
	n = append(s, n, sizeof(s), fw->firmware);
	if (n > cap)
		return DP_ATT_INVALID_LENGTH;
	memcpy(buf, s, n);
	*out_len = n;
	return DP_ATT_OK;
}

static uint8_t read_current_time(const struct dp_fw *fw, uint8_t *buf, size_t cap,
				 size_t *out_len)
{
	struct dp_current_time ct;

	/* An unset clock reads as "unknown" (all zero), not as 2020. */
	memset(&ct, 0, sizeof(ct));
	if (fw->clock_set)
		dp_current_time_from_ms(dp_fw_clock(fw), &ct);
	if (dp_current_time_encode(&ct, buf, cap, out_len) != DP_OK)
		return DP_ATT_INVALID_LENGTH;
	return DP_ATT_OK;
}

uint8_t dp_fw_read(struct dp_fw *fw, enum dp_char chr, uint8_t *buf, size_t cap,
		   size_t *out_len)
{
	uint8_t st = att_gate(fw, chr);

	*out_len = 0;
	if (st != DP_ATT_OK)
		return st;
	switch (chr) {
	case DP_CHAR_INFO:
		return read_info(fw, buf, cap, out_len);
	case DP_CHAR_BATTERY:
		if (cap < 1)
			return DP_ATT_INVALID_LENGTH;
		buf[0] = fw->cfg.battery_pct;
		*out_len = 1;
		return DP_ATT_OK;
	case DP_CHAR_CURRENT_TIME:
		return read_current_time(fw, buf, cap, out_len);
	case DP_CHAR_DEVICE_INFO:
		return read_device_info(fw, buf, cap, out_len);
	default:
		return DP_ATT_READ_NOT_PERMITTED;
	}
}

static uint8_t write_current_time(struct dp_fw *fw, const uint8_t *buf, size_t len)
{
	struct dp_current_time ct;
	uint64_t ms;

	if (len != DP_CURRENT_TIME_SIZE)
		return DP_ATT_INVALID_LENGTH;
	if (dp_current_time_decode(buf, len, &ct) != DP_OK ||
	    dp_current_time_to_ms(&ct, &ms) != DP_OK)
		return DP_ATT_CTS_DATA_FIELD_IGNORED;
	clock_set(fw, ms);
	return DP_ATT_OK;
}

uint8_t dp_fw_write(struct dp_fw *fw, enum dp_char chr, const uint8_t *buf, size_t len)
{
	uint8_t st = att_gate(fw, chr);

	if (st != DP_ATT_OK)
		return st;
	if (chr != DP_CHAR_CONTROL && chr != DP_CHAR_CURRENT_TIME)
		return DP_ATT_WRITE_NOT_PERMITTED;
	/* §2.3: the clock is a witness for the host's locks. */
	if (chr == DP_CHAR_CURRENT_TIME && !fw->encrypted)
		return DP_ATT_INSUFFICIENT_ENCRYPTION;
	if (len < 1 || len > ATT_VALUE_MAX)
		return DP_ATT_INVALID_LENGTH;
	if (chr == DP_CHAR_CURRENT_TIME)
		return write_current_time(fw, buf, len);

	if (fw->subscribed[DP_CHAR_CONTROL] != 2)
		return DP_ATT_CCCD_IMPROPER;
	if (fw->rsp_queued || fw->indication_pending)
		return DP_ATT_PROCEDURE_IN_PROGRESS;
	control_point(fw, buf, len);
	return DP_ATT_OK;
}

uint8_t dp_fw_subscribe(struct dp_fw *fw, enum dp_char chr, uint8_t mode)
{
	uint8_t st = att_gate(fw, chr);
	uint8_t allowed;

	if (st != DP_ATT_OK)
		return st;
	switch (chr) {
	case DP_CHAR_STREAM:
	case DP_CHAR_HISTORY:
	case DP_CHAR_BATTERY:
	case DP_CHAR_CURRENT_TIME:
		allowed = 1;
		break;
	case DP_CHAR_CONTROL:
		allowed = 2;
		break;
	default:
		/* No CCCD on the other characteristics. */
		return DP_ATT_REQUEST_NOT_SUPPORTED;
	}
	if (mode != 0 && mode != allowed)
		return DP_ATT_CCCD_IMPROPER;
	fw->subscribed[chr] = mode;
	/* Whatever was waiting to go out on a CCCD just turned off has no
	 * one to go to. */
	if (chr == DP_CHAR_HISTORY && mode == 0)
		fw->syncing = false;
	if (chr == DP_CHAR_CONTROL && mode == 0)
		response_drop(fw);
	stream_update(fw);
	return DP_ATT_OK;
}

void dp_fw_confirm(struct dp_fw *fw)
{
	fw->indication_pending = false;
	response_flush(fw);
}

/* ---- Buttons, battery, head ---- */

void dp_fw_long_press(struct dp_fw *fw)
{
	fw->pairing = true;
	fw->pairing_until_ms = fw->now_ms + DP_FW_PAIRING_MS;
}

void dp_fw_pairing_complete(struct dp_fw *fw)
{
	fw->pairing = false;
}

void dp_fw_set_battery(struct dp_fw *fw, uint8_t pct)
{
	if (pct > 100)
		pct = 100;
	if (pct == fw->cfg.battery_pct)
		return;
	fw->cfg.battery_pct = pct;
	fw->battery_notify = true;
	std_notify(fw);
}

void dp_fw_set_charging(struct dp_fw *fw, bool charging)
{
	fw->charging = charging;
}

void dp_fw_fit_head(struct dp_fw *fw, const char *head_serial, uint16_t needle_um)
{
	copy_str(fw->head_serial, head_serial);
	fw->cfg.needle_um = clamp_u16(needle_um, 1, 3000);
	fw->cfg.head_uses = 0;
	/* 0 means unknown: a fitting time from an unset clock means nothing. */
	fw->cfg.head_fitted_ms = fw->clock_set ? dp_fw_clock(fw) : 0;
}
