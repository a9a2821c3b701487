/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared part of the pairing interface (pairing.h).
 */
#include "pairing.h"

void pairing_init(struct pairing *p, const struct pairing_ops *ops)
{
	p->ops = ops;
	p->func = NULL;
	p->user_data = NULL;
	p->adapter = NULL;
	p->simulated = false;
}

void pairing_emit(struct pairing *p, const struct pairing_event *event)
{
	if (p->func)
		p->func(p, event, p->user_data);
}

void pairing_emit_problem(struct pairing *p, enum pairing_event_kind kind,
			  enum pairing_problem problem, const char *message)
{
	struct pairing_event ev = { .kind = kind, .problem = problem, .message = message };

	pairing_emit(p, &ev);
}

void pairing_set_func(struct pairing *p, pairing_func func, void *user_data)
{
	p->func = func;
	p->user_data = user_data;
}

void pairing_set_adapter(struct pairing *p, const char *adapter)
{
	g_free(p->adapter);
	p->adapter = adapter && *adapter ? g_strdup(adapter) : NULL;
}

void pairing_check(struct pairing *p)
{
	p->ops->check(p);
}

void pairing_power_on(struct pairing *p)
{
	p->ops->power_on(p);
}

void pairing_scan_start(struct pairing *p)
{
	p->ops->scan_start(p);
}

void pairing_scan_stop(struct pairing *p)
{
	p->ops->scan_stop(p);
}

void pairing_pair(struct pairing *p, const char *address)
{
	p->ops->pair(p, address);
}

void pairing_reply(struct pairing *p, bool accept, uint32_t passkey)
{
	p->ops->reply(p, accept, passkey);
}

void pairing_read_info(struct pairing *p, const char *address)
{
	p->ops->read_info(p, address);
}

void pairing_cancel(struct pairing *p)
{
	p->ops->cancel(p);
}

void pairing_free(struct pairing *p)
{
	char *adapter;

	if (!p)
		return;
	adapter = p->adapter;
	p->func = NULL;
	p->ops->free(p);
	g_free(adapter);
}
