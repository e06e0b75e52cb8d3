/* server: the master process, its FastCGI workers and the task runner.
 *
 * The master binds the socket (or takes it from systemd socket activation),
 * compiles templates and reads the config before forking so that a broken
 * one stops startup, forks N single-threaded workers and one task runner,
 * replaces any that die, reloads on SIGHUP (a new generation of workers
 * starts before the old one is told to finish its request and leave, so no
 * request is dropped) and drains on SIGTERM. */
#ifndef JOBSCOPE_SERVER_H
#define JOBSCOPE_SERVER_H

struct conf;

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int server_run(const char *config_path, struct conf *conf);

#endif
