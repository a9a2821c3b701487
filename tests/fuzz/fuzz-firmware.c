/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the firmware state machine (PROTOCOL.md §11).  The
 * input is a program: each byte picks an operation (a sample, a tick, a link
 * event, a control-point write of random or well-formed bytes, ...) and the
 * bytes after it are its arguments.  Everything the firmware emits is
 * decoded with the codec and checked against the protocol's invariants.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/codec.h"
#include "dp/firmware.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

struct input {
	const uint8_t *p, *end;
};

static uint8_t in_u8(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint16_t in_u16(struct input *in)
{
	uint16_t lo = in_u8(in);

	return (uint16_t)(lo | in_u8(in) << 8);
}

static uint32_t in_u32(struct input *in)
{
	uint32_t lo = in_u16(in);

	return lo | (uint32_t)in_u16(in) << 16;
}

/* The host side, and what it has seen. */
struct host {
	struct dp_fw *fw;
	int notify_budget;           /* < 0 unlimited */
	int indicate_refuses;
	int indication_outstanding;
	uint32_t stream_seq;         /* last STREAM frame seq */
	uint32_t last_live_pass;     /* last live PASS seq */
	/* The running sync, as the host knows it from the responses. */
	int sync_active;
	uint32_t sync_first, sync_next, sync_last_seq;
	uint32_t sync_sent;
	uint32_t log_first, log_next; /* as last checked */
};

static void check_stream(struct host *h, const uint8_t *buf, size_t len)
{
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	int rc;

	CHECK(dp_stream_decode(buf, len, &head, &it) == DP_OK);
	CHECK(head.seq == h->stream_seq + 1);
	h->stream_seq = head.seq;
	while ((rc = dp_record_next(&it, &rec)) == 1) {
		CHECK(rec.type == DP_REC_FORCE || rec.type == DP_REC_PASS ||
		      rec.type == DP_REC_STATUS);
		if (rec.type == DP_REC_PASS) {
			CHECK(rec.u.pass.seq > h->last_live_pass);
			CHECK(rec.u.pass.seq < h->fw->log.next_seq);
			h->last_live_pass = rec.u.pass.seq;
		}
		if (rec.type == DP_REC_STATUS)
			CHECK(rec.u.status.log_next_seq - rec.u.status.log_first_seq ==
			      rec.u.status.log_count);
	}
	CHECK(rc == 0);
}

static void check_history(struct host *h, const uint8_t *buf, size_t len)
{
	struct dp_record_iter it;
	struct dp_record rec;
	int rc;

	CHECK(h->sync_active);
	CHECK(dp_history_decode(buf, len, &it) == DP_OK);
	while ((rc = dp_record_next(&it, &rec)) == 1) {
		if (rec.type == DP_REC_PASS) {
			CHECK(rec.u.pass.seq >= h->sync_first);
			CHECK(rec.u.pass.seq < h->sync_next);
			CHECK(rec.u.pass.seq > h->sync_last_seq);
			h->sync_last_seq = rec.u.pass.seq;
			h->sync_sent++;
		} else {
			CHECK(rec.type == DP_REC_LOG_END);
			CHECK(rec.u.log_end.first_seq == h->sync_first);
			CHECK(rec.u.log_end.next_seq == h->sync_next);
			CHECK(rec.u.log_end.sent == h->sync_sent);
			h->sync_active = 0;
		}
	}
	CHECK(rc == 0);
}

static bool on_notify(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct host *h = user_data;
	struct dp_current_time ct;

	CHECK(h->fw->connected);
	CHECK(chr >= DP_CHAR_INFO && chr <= DP_CHAR_MAX_);
	CHECK(h->fw->subscribed[chr] == 1);
	CHECK(len <= (size_t)h->fw->att_mtu - 3);
	/* The standard services: no encryption needed (§2.3). */
	if (chr == DP_CHAR_BATTERY) {
		CHECK(len == 1 && buf[0] <= 100);
		return h->notify_budget != 0;
	}
	if (chr == DP_CHAR_CURRENT_TIME) {
		CHECK(dp_current_time_decode(buf, len, &ct) == DP_OK);
		return h->notify_budget != 0;
	}
	CHECK(h->fw->encrypted);
	CHECK(len >= DP_HEADER_SIZE);
	if (h->notify_budget == 0) {
		/* Refused frames come again later; they must decode too. */
		struct dp_record_iter it;
		struct dp_stream_head head;
		struct dp_record rec;

		CHECK((chr == DP_CHAR_STREAM ? dp_stream_decode(buf, len, &head, &it) :
		       dp_history_decode(buf, len, &it)) == DP_OK);
		while (dp_record_next(&it, &rec) == 1)
			;
		CHECK(it.err == DP_OK);
		return false;
	}
	if (h->notify_budget > 0)
		h->notify_budget--;
	if (chr == DP_CHAR_STREAM)
		check_stream(h, buf, len);
	else if (chr == DP_CHAR_HISTORY)
		check_history(h, buf, len);
	else
		CHECK(!"notify on a characteristic that has none");
	return true;
}

static bool on_indicate(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct host *h = user_data;
	struct dp_response rsp;

	CHECK(chr == DP_CHAR_CONTROL);
	CHECK(h->fw->connected && h->fw->encrypted);
	CHECK(h->fw->subscribed[DP_CHAR_CONTROL] == 2);
	CHECK(!h->indication_outstanding);
	CHECK(len <= (size_t)h->fw->att_mtu - 3);
	if (h->indicate_refuses)
		return false;
	CHECK(dp_response_decode(buf, len, &rsp) == DP_OK);
	if (rsp.opcode == DP_OP_SYNC_HISTORY && rsp.result == DP_RES_OK) {
		CHECK(!h->sync_active);
		CHECK(rsp.u.sync.first_seq <= rsp.u.sync.next_seq);
		h->sync_active = 1;
		h->sync_first = rsp.u.sync.first_seq;
		h->sync_next = rsp.u.sync.next_seq;
		h->sync_last_seq = 0;
		h->sync_sent = 0;
	}
	h->indication_outstanding = 1;
	return true;
}

static const struct dp_fw_ops ops = {
	.notify = on_notify,
	.indicate = on_indicate,
};

/* Invariants of the state after every operation. */
static void check_state(struct host *h)
{
	const struct dp_fw *fw = h->fw;
	const struct dp_log *log = &fw->log;
	struct dp_status st;
	struct dp_writer w;
	uint8_t buf[DP_MAX_FRAME];
	struct dp_stream_head head = { 0 };
	struct dp_adv adv;

	CHECK(log->first_seq >= 1 && log->first_seq <= log->next_seq);
	CHECK(dp_log_count(log) == log->next_seq - log->first_seq);
	CHECK(dp_log_count(log) <= DP_LOG_CAPACITY);
	CHECK(log->first_seq >= h->log_first && log->next_seq >= h->log_next);
	h->log_first = log->first_seq;
	h->log_next = log->next_seq;
	/* Records in the ring carry their own seq; check the ends and a few
	 * in between, in increasing order. */
	if (log->next_seq > log->first_seq) {
		uint32_t step = (log->next_seq - log->first_seq) / 8 + 1;
		uint32_t prev = 0;

		for (uint32_t s = log->first_seq; s < log->next_seq; s += step) {
			const struct dp_pass *p = dp_log_get(log, s);

			CHECK(p && p->seq == s && p->seq > prev);
			prev = p->seq;
		}
		CHECK(dp_log_get(log, log->next_seq - 1)->seq == log->next_seq - 1);
	}
	CHECK(!dp_log_get(log, log->next_seq));
	CHECK(log->first_seq == 1 || !dp_log_get(log, log->first_seq - 1));

	dp_fw_adv(fw, &adv);
	CHECK(adv.proto_major == DP_PROTO_MAJOR);
	CHECK(!(adv.flags & ~(DP_ADV_PAIRING | DP_ADV_LOG_PENDING)));
	CHECK(!!(adv.flags & DP_ADV_LOG_PENDING) == (dp_log_count(log) > 0));

	/* The status always encodes. */
	dp_fw_status(fw, &st);
	dp_stream_begin(&w, buf, sizeof(buf), &head);
	CHECK(dp_put_status(&w, &st) == DP_OK);
	CHECK(st.state <= DP_STATE_OFFLINE_SESSION);
	CHECK((st.state == DP_STATE_IDLE) == (st.session == 0));

	if (!fw->connected) {
		h->sync_active = 0;
		h->indication_outstanding = 0;
	}
}

static void filler(struct dp_pass *p, uint32_t k)
{
	memset(p, 0, sizeof(*p));
	p->start_ms = k;
	p->duration_ms = 100;
	p->distance_mm = 10;
	p->direction = DP_DIR_FORWARD;
	p->mean_force_cn = 100;
	p->peak_force_cn = 120;
}

static void command(struct dp_fw *fw, struct input *in)
{
	struct dp_command cmd;
	uint8_t buf[32];
	size_t len;
	uint8_t mode;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = (uint8_t)(in_u8(in) % 8 + 1);
	mode = in_u8(in);
	switch (cmd.opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_SET_ZONE:
		cmd.u.zone = (uint8_t)(mode % 10 + 1);
		break;
	case DP_OP_IDENTIFY:
		cmd.u.seconds = (uint8_t)(mode % 30 + 1);
		break;
	case DP_OP_SET_TIME:
		cmd.u.time_ms = mode & 1 ? (uint64_t)in_u32(in) << (mode >> 3) : in_u32(in);
		break;
	case DP_OP_SYNC_HISTORY:
		/* Near the log's window, or anywhere. */
		cmd.u.seq = mode & 1 ? in_u32(in) : fw->log.first_seq + (mode >> 1) % 8;
		break;
	case DP_OP_ACK:
		cmd.u.seq = mode & 1 ? in_u32(in) : fw->log.next_seq - 1 - (mode >> 1) % 4;
		break;
	}
	if (dp_command_encode(&cmd, buf, sizeof(buf), &len) == DP_OK)
		dp_fw_write(fw, DP_CHAR_CONTROL, buf, len);
}

static void sample(struct dp_fw *fw, uint64_t *t, int32_t *enc, int32_t dticks,
		   uint16_t force, uint8_t angle)
{
	struct dp_sample s;

	*enc += dticks;
	s.t_ms = *t;
	s.encoder = *enc;
	s.force_raw_cn = force;
	s.angle_deg = angle;
	dp_fw_sample(fw, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The firmware holds the whole log: static, not on the stack. */
	static struct dp_fw fw;
	struct dp_fw_config cfg;
	struct host h;
	struct input in = { data, data + size };
	uint64_t t = 0;
	int32_t enc = 0;
	uint8_t cfg_byte = in_u8(&in);
	unsigned ops_done = 0;

	memset(&h, 0, sizeof(h));
	h.fw = &fw;
	h.notify_budget = -1;
	dp_fw_config_default(&cfg);
	/* The first byte varies the configuration a little. */
	cfg.batch_ms = (uint16_t)(10 + (cfg_byte & 7) * 20);
	cfg.status_every_ms = cfg_byte & 8 ? 100 : 1000;
	cfg.force_period_ms = cfg_byte & 16 ? 10 : 5;
	cfg.att_mtu = cfg_byte & 32 ? 100 : 247;
	dp_fw_init(&fw, &cfg, &ops, &h);
	check_state(&h);

	while (in.p < in.end && ops_done++ < 4096) {
		uint8_t op = in_u8(&in) % 16;
		uint8_t buf[DP_MAX_FRAME + 8];
		size_t len, n;

		switch (op) {
		case 0: {                /* one sample */
			uint8_t dt = in_u8(&in);
			int32_t dticks = (int8_t)in_u8(&in) / 32;
			uint16_t force = in_u16(&in);

			t += 1 + dt % 10;
			sample(&fw, &t, &enc, dticks, force, in_u8(&in));
			break;
		}
		case 1:
			t += (uint64_t)in_u8(&in) * 4;
			dp_fw_tick(&fw, t);
			break;
		case 2:
			t += (uint64_t)in_u8(&in) * 4000;
			dp_fw_tick(&fw, t);
			break;
		case 3: {
			uint8_t flags = in_u8(&in);

			dp_fw_connect(&fw, flags & 1, in_u16(&in));
			h.sync_active = 0;
			h.indication_outstanding = 0;
			break;
		}
		case 4:
			dp_fw_disconnect(&fw);
			break;
		case 5: {
			uint8_t chr = in_u8(&in) % 9, mode = in_u8(&in) % 4;

			if (dp_fw_subscribe(&fw, chr, mode) == DP_ATT_OK &&
			    chr == DP_CHAR_HISTORY && mode == 0)
				h.sync_active = 0;
			break;
		}
		case 6:
			h.indication_outstanding = 0;
			dp_fw_confirm(&fw);
			break;
		case 7:                  /* random bytes on the control point */
			len = in_u8(&in) % 48;
			for (n = 0; n < len; n++)
				buf[n] = in_u8(&in);
			dp_fw_write(&fw, DP_CHAR_CONTROL, buf, len);
			break;
		case 8:
			command(&fw, &in);
			break;
		case 9: {
			uint8_t b = in_u8(&in);

			h.notify_budget = b >= 128 ? -1 : b % 8;
			break;
		}
		case 10:
			h.indicate_refuses = in_u8(&in) & 1;
			break;
		case 11: {
			uint8_t chr = in_u8(&in) % 9;
			size_t cap = in_u8(&in) & 1 ? sizeof(buf) : in_u8(&in) % 64;

			if (dp_fw_read(&fw, chr, buf, cap, &len) == DP_ATT_OK) {
				CHECK(len <= cap);
				if (chr == DP_CHAR_INFO) {
					struct dp_info info;

					CHECK(dp_info_decode(buf, len, &info) == DP_OK);
				}
			}
			break;
		}
		case 12: {
			uint8_t chr = in_u8(&in) % 9;

			len = in_u8(&in) % 16;
			for (n = 0; n < len; n++)
				buf[n] = in_u8(&in);
			dp_fw_write(&fw, chr, buf, len);
			break;
		}
		case 13:
			switch (in_u8(&in) % 6) {
			case 0:
				dp_fw_long_press(&fw);
				break;
			case 4:
				dp_fw_pairing_complete(&fw);
				break;
			case 5:
				dp_fw_set_charging(&fw, in_u8(&in) & 1);
				break;
			case 1:
				dp_fw_set_battery(&fw, in_u8(&in));
				break;
			case 2:
				dp_fw_fit_head(&fw, "H-FUZZ", in_u16(&in));
				break;
			default:     /* a host that has done discovery */
				dp_fw_connect(&fw, true, 0);
				h.sync_active = 0;
				h.indication_outstanding = 0;
				dp_fw_subscribe(&fw, DP_CHAR_CONTROL, 2);
				dp_fw_subscribe(&fw, DP_CHAR_STREAM, 1);
				dp_fw_subscribe(&fw, DP_CHAR_HISTORY, 1);
				break;
			}
			break;
		case 14: {               /* a whole roll: press, roll, lift */
			uint8_t ticks = in_u8(&in), how = in_u8(&in);
			uint16_t force = (uint16_t)(in_u8(&in) * 4);
			int32_t dir = how & 1 ? -1 : 1;

			for (n = 0; n < 2; n++, t += 5)
				sample(&fw, &t, &enc, 0, force, how);
			for (n = 0; n < ticks; n++, t += 5) {
				sample(&fw, &t, &enc, dir, force, how);
				if (how & 2 && n == ticks / 2)
					dir = -dir;      /* back without lifting */
			}
			for (n = 0; n < 10; n++, t += 5)
				sample(&fw, &t, &enc, 0, 0, how);
			dp_fw_tick(&fw, t);
			break;
		}
		default: {               /* fill the log fast (it is "flash") */
			uint32_t k = (uint32_t)in_u8(&in) * 32;
			struct dp_pass p;

			for (uint32_t i = 0; i < k; i++) {
				filler(&p, i);
				if (!dp_log_append(&fw.log, &p))
					break;
			}
			break;
		}
		}
		check_state(&h);
	}
	return 0;
}
