/*
 * Starting a child process: fork, then exec, so every child gets a fresh
 * address space (and ASLR).  The child finds the master's control socket
 * at IPC_FD_CONTROL and the config memfd at IPC_FD_CONFIG; every other
 * descriptor above stderr is closed.
 */
#ifndef CAIRN_SPAWN_H
#define CAIRN_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* Returns the child's pid, or -1 with errno (the fork failed). */
pid_t spawn_child(const char *path, char *const argv[], int control_fd,
    int config_fd, bool keep_stderr);

/* A sealed, read-only memfd holding text; -1 with errno on failure. */
int spawn_config_memfd(const char *text, size_t len);

#endif
