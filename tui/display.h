/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The display: the only part of dermaroll that calls curses.  It sets the
 * terminal up (colour, or monochrome for TERM=vt100 and NO_COLOR), turns
 * what is typed into keys for the driver, draws the driver's screens at
 * most about 30 times a second and only when something changed, follows
 * resizes (SIGWINCH), and gives the terminal back on every way out: a
 * normal exit, SIGINT and SIGTERM (which ask the program to quit), and a
 * crash (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL: restored, then the
 * signal is raised again).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

struct tui;
struct display;

/* Takes the terminal.  @quit runs (from the main loop) on SIGINT and
 * SIGTERM. */
struct display *display_new(void (*quit)(void *user_data), void *user_data,
			    GError **error);
/* Whether colours may be used (the settings' "colours"): they are when
 * @allowed, the terminal has them and NO_COLOR is unset. */
void display_set_colours(struct display *dp, bool allowed);
/* Starts reading keys for @tui and drawing it. */
void display_attach(struct display *dp, struct tui *tui);
/* The screen changed: draw it again when the cap allows. */
void display_changed(void *dp);
/* Gives the terminal back and frees @dp. */
void display_free(struct display *dp);
