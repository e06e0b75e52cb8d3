/* tasks: the background task runner (one per installation).
 *
 * It holds a PostgreSQL advisory lock, so that of several jobscope hosts on
 * one database exactly one runs the periodic work.  Work that must not be
 * lost is a row in PostgreSQL, never only a message in memory. */
#ifndef JOBSCOPE_TASKS_H
#define JOBSCOPE_TASKS_H

#include <signal.h>

/* lock key: the advisory lock every task runner contends for */
#define TASKS_LOCK_KEY 0x6a6f6273 /* "jobs" */

/* Loop until *stop becomes non-zero. */
void tasks_run(volatile sig_atomic_t *stop);

#endif
