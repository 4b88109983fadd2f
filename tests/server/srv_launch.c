/*
 * srv_launch.c - run a command against a freshly started server.
 *
 *   srv_launch mwrt|redis SERVER_PATH [SERVER_ARGS...] -- COMMAND [ARGS...]
 *
 * Starts the server with the suite's launcher (harness.c: a free loopback
 * port, readiness by PING, killed if this process dies), runs COMMAND with
 * MWRT_TEST_PORT set to the port, then stops the server with SIGTERM.  The
 * exit status is COMMAND's if it failed, else 1 if the server did not exit
 * cleanly (status 0), else 0; 77 (ctest's skip) if the server binary is not
 * there.  For the shell-driven checks (cli.sh), so that the launcher is
 * written once.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int sep = -1;
    char err[4096];
    char port[16];
    int status;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
    }
    if (argc < 3 || sep < 3 || sep + 1 >= argc
        || (strcmp(argv[1], "mwrt") != 0 && strcmp(argv[1], "redis") != 0)) {
        fprintf(stderr, "usage: %s mwrt|redis SERVER [SERVER_ARGS...] -- COMMAND [ARGS...]\n",
                argv[0]);
        return 2;
    }
    th_cfg.kind = strcmp(argv[1], "mwrt") == 0 ? TH_MWRT : TH_REDIS;
    th_cfg.path = argv[2];
    th_cfg.args = (const char *const *)argv + 3;
    th_cfg.nargs = sep - 3;
    if (access(th_cfg.path, X_OK) != 0) {
        fprintf(stderr, "srv_launch: %s is not an executable; skipping\n", th_cfg.path);
        return 77;
    }
    if (th_server_start(&th_srv, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "srv_launch: %s\n", err);
        return 1;
    }
    snprintf(port, sizeof port, "%d", th_srv.port);
    if (setenv("MWRT_TEST_PORT", port, 1) != 0) {
        perror("setenv");
        th_server_stop(&th_srv, SIGKILL);
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        th_server_stop(&th_srv, SIGKILL);
        return 1;
    }
    if (pid == 0) {
        execvp(argv[sep + 1], argv + sep + 1);
        fprintf(stderr, "srv_launch: exec %s: %s\n", argv[sep + 1], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            status = -1;
            break;
        }
    }
    int rc = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (!th_server_alive(&th_srv)) {
        fprintf(stderr, "srv_launch: the server died while the command ran (%s); log:\n%s\n",
                th_describe_status(th_srv.status), th_server_log_tail(&th_srv, 3000));
        return rc != 0 ? rc : 1;
    }
    int st = th_server_stop(&th_srv, SIGTERM);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fprintf(stderr, "srv_launch: the server did not exit cleanly on SIGTERM (%s); "
                "log:\n%s\n", th_describe_status(st), th_server_log_tail(&th_srv, 3000));
        return rc != 0 ? rc : 1;
    }
    return rc;
}
